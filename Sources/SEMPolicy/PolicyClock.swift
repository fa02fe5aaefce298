// The engine's sense of time, injectable so that tests (and `semctl policy check`) can
// decide "as of" a chosen instant and move time forward to roll rate-limit windows and
// expire cached decisions.
public import Foundation
import Synchronization

/// A source of the current time.
public protocol PolicyClock: Sendable {
    var now: Date { get }
}

/// The system's wall clock.
public struct SystemPolicyClock: PolicyClock {
    public init() {}
    public var now: Date { Date() }
}

/// A clock that stands still until told to move.
public final class ManualPolicyClock: PolicyClock {
    private let current: Mutex<Date>

    public init(_ start: Date) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
