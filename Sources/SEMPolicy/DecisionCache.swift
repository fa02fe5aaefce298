// A cache of decisions keyed by the whole (normalised) request.
//
// What may be cached is decided by the engine, not here:
// - a decision that consulted a rate limit is never stored, because the next identical
//   request must be counted and may get another answer;
// - a request that carries its own `context.time` is never looked up or stored;
// - an entry expires after its time to live, or earlier at the next instant where a
//   time window or an agreement of the action's rules may change;
// - new external facts empty the cache (a generation number keeps an evaluation that
//   started before the change from storing its stale answer afterwards).
public import Foundation
import Synchronization

/// Thread-safe store of recent decisions with a time to live.
public final class DecisionCache: Sendable {
    private struct Entry {
        let response: DecisionResponse
        let expires: Date
    }

    private struct State {
        var entries: [DecisionRequest: Entry] = [:]
        var generation: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    /// Counters for monitoring and tests.
    public struct Statistics: Sendable, Equatable {
        public let hits: Int
        public let misses: Int
        public let entries: Int
    }

    private let state = Mutex(State())
    private let clock: any PolicyClock
    public let timeToLive: TimeInterval
    public let capacity: Int

    /// `clock` must be the engine's clock; `PolicyEngine` creates its cache itself.
    init(timeToLive: TimeInterval, capacity: Int, clock: any PolicyClock) {
        self.timeToLive = timeToLive
        self.capacity = capacity
        self.clock = clock
    }

    /// The cached response, if there is one that has not expired, and the generation to
    /// hand back to `store`.
    func lookup(_ request: DecisionRequest) -> (response: DecisionResponse?, generation: UInt64) {
        let now = clock.now
        return state.withLock { state in
            if let entry = state.entries[request] {
                if entry.expires > now {
                    state.hits += 1
                    return (entry.response, state.generation)
                }
                state.entries[request] = nil
            }
            state.misses += 1
            return (nil, state.generation)
        }
    }

    /// Stores `response` until `notAfter` or the time to live, whichever comes first,
    /// unless the cache was emptied since `generation` was read.
    func store(_ response: DecisionResponse, for request: DecisionRequest, notAfter: Date?, generation: UInt64) {
        let now = clock.now
        var expires = now.addingTimeInterval(timeToLive)
        if let notAfter, notAfter < expires { expires = notAfter }
        guard expires > now else { return }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries[request] == nil && state.entries.count >= capacity {
                state.entries = state.entries.filter { $0.value.expires > now }
                // Still full of live entries: start afresh rather than track ages.
                if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            }
            state.entries[request] = Entry(response: response, expires: expires)
        }
    }

    /// Forgets every entry.
    public func removeAll() {
        state.withLock { state in
            state.entries.removeAll()
            state.generation &+= 1
        }
    }

    public var statistics: Statistics {
        state.withLock { Statistics(hits: $0.hits, misses: $0.misses, entries: $0.entries.count) }
    }
}
