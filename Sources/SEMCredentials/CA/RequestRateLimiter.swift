// A fixed-window rate limiter keyed by caller, for the directory (one window per key).
public import Foundation
import Synchronization

public final class RequestRateLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private let counters = Mutex<[String: (start: Date, count: Int)]>([:])

    public init(limit: Int, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// Counts one request by `key`; false when the key has used up its window.
    public func allow(_ key: String, at time: Date = Date()) -> Bool {
        counters.withLock { table in
            // Forget finished windows now and then so the table stays bounded by the
            // number of callers active within one window.
            if table.count > 10_000 { table = table.filter { time.timeIntervalSince($0.value.start) < window } }
            var entry = table[key] ?? (time, 0)
            if time.timeIntervalSince(entry.start) >= window { entry = (time, 0) }
            entry.count += 1
            table[key] = entry
            return entry.count <= limit
        }
    }
}
