// A value protected by a lock with a condition variable, for threads that must wait
// until the value changes (free worker slot, connections drained, threads exited).
import Foundation

/// `@unchecked Sendable`: `value` is only read or written while `condition` is locked,
/// and every change wakes all waiters.
final class GuardedState<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` under the lock, then wakes every waiter.
    @discardableResult
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&value)
    }

    /// Waits until `ready` holds or `deadline` passes (nil: no deadline), then runs
    /// `body` under the same lock; `body` learns whether `ready` held.
    @discardableResult
    func withLock<T>(when ready: (Value) -> Bool, deadline: ContinuousClock.Instant? = nil,
                     _ body: (inout Value, Bool) throws -> T) rethrows -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        while !ready(value) {
            guard let deadline else {
                condition.wait()
                continue
            }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { break }
            let (seconds, attoseconds) = remaining.components
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) * 1e-18))
        }
        return try body(&value, ready(value))
    }
}
