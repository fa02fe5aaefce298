// Request counters for the `rateLimit` condition: one counter per rule and subject in
// fixed windows aligned to the Unix epoch (a window of 3600 s runs from one full hour
// to the next). Counters live in memory: they restart with the process and are not
// shared between PDP instances, so N instances behind a balancer allow up to N times
// the limit. That is a known shortcoming of this first version.
import Foundation
import Synchronization

final class RateLimiter: Sendable {
    private struct Key: Hashable {
        let rule: Int
        let subject: String
    }

    private struct Counter {
        var window: Int64
        var count: Int
        /// When the window ends; after that the entry may be dropped.
        var expires: Double
    }

    private struct State {
        var counters: [Key: Counter] = [:]
        /// Requests refused because the table was full (reported once per fill-up).
        var fullSince: Date?
    }

    private let state = Mutex(State())
    /// Most counters kept at once.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// True when this request is beyond `limit` for the subject in the current window.
    /// With `charge`, the request is also counted. When the table is full even after
    /// dropping expired windows, the answer is true: the PDP fails closed rather than
    /// forgetting counts.
    func exceeds(_ limit: RateLimit, rule: Int, subject: String, now: Date, charge: Bool) -> Bool {
        let seconds = now.timeIntervalSince1970
        let window = Int64((seconds / Double(limit.windowSeconds)).rounded(.down))
        let key = Key(rule: rule, subject: subject)
        return state.withLock { state in
            var counter = state.counters[key] ?? Counter(window: window, count: 0, expires: 0)
            if counter.window != window { counter = Counter(window: window, count: 0, expires: 0) }
            counter.count += 1
            counter.expires = Double(window + 1) * Double(limit.windowSeconds)
            guard charge else { return counter.count > limit.requests }
            if state.counters[key] == nil && state.counters.count >= capacity {
                state.counters = state.counters.filter { $0.value.expires > seconds }
                if state.counters.count >= capacity {
                    if state.fullSince == nil { state.fullSince = now }
                    return true
                }
            }
            state.fullSince = nil
            state.counters[key] = counter
            return counter.count > limit.requests
        }
    }

    /// Whether the table was full at the last charge, and since when.
    var fullSince: Date? { state.withLock { $0.fullSince } }

    /// Counters currently held.
    var count: Int { state.withLock { $0.counters.count } }
}
