// Low-level pieces shared by every socket in this module: an owned descriptor that is
// closed exactly once, per-operation deadlines, and waiting with poll(2).
//
// Ownership rule: a descriptor is read, written and closed only by the thread that
// owns its stream. Other threads (the listener at forced shutdown) may only call
// `shutdown()`, which is serialised with `close()` by a lock, so it can never hit a
// descriptor number that was closed and reused.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One socket file descriptor, closed exactly once (by `close()` or, as a safety net,
/// when the last reference goes away).
///
/// Sendable: the number lives behind a `Mutex`, and the only operations allowed from a
/// thread other than the owner's (`shutdown()`, `isClosed`) take that lock.
final class SocketDescriptor: Sendable {
    private let number: Mutex<Int32>

    init(_ fileDescriptor: Int32) {
        number = Mutex(fileDescriptor)
    }

    deinit { close() }

    /// The descriptor for I/O by its owner, or nil once closed.
    var rawValue: Int32? {
        let value = number.withLock { $0 }
        return value >= 0 ? value : nil
    }

    var isClosed: Bool { rawValue == nil }

    /// Closes the descriptor; later calls do nothing.
    func close() {
        number.withLock { value in
            guard value >= 0 else { return }
            // Linux releases the descriptor even when close(2) reports EINTR: never retry.
            _ = Glibc.close(value)
            value = -1
        }
    }

    /// Shuts both directions down without closing, so that a thread blocked reading
    /// or writing this socket wakes up with end-of-stream or EPIPE. Safe from any thread.
    func shutdown() {
        number.withLock { value in
            guard value >= 0 else { return }
            _ = Glibc.shutdown(value, Int32(SHUT_RDWR))
        }
    }

    /// Shuts only the reading direction down: a thread blocked reading wakes up with
    /// end-of-stream, and can still write a last reply (SMTP's 421 at shutdown). Safe
    /// from any thread, like `shutdown()`.
    func shutdownReading() {
        number.withLock { value in
            guard value >= 0 else { return }
            _ = Glibc.shutdown(value, Int32(SHUT_RD))
        }
    }
}

/// The moment one I/O operation gives up: the sooner of its own timeout and the
/// connection's lifetime deadline, remembering which of the two it was.
struct OperationDeadline {
    let instant: ContinuousClock.Instant
    let isLifetime: Bool

    /// Throws `lifetimeExceeded` at once when the lifetime deadline has already passed:
    /// a stream past its lifetime refuses every further operation.
    init(timeout: Duration, lifetime: ContinuousClock.Instant?) throws {
        let now = ContinuousClock.now
        if let lifetime, lifetime <= now {
            throw NetworkError(.lifetimeExceeded, "The connection reached its lifetime limit.")
        }
        let own = now + timeout
        if let lifetime, lifetime < own {
            instant = lifetime
            isLifetime = true
        } else {
            instant = own
            isLifetime = false
        }
    }

    /// The error for an operation named `what` that ran out of time.
    func expired(_ what: String) -> NetworkError {
        isLifetime
            ? NetworkError(.lifetimeExceeded, "The connection reached its lifetime limit during the \(what).")
            : NetworkError(.timedOut, "The \(what) did not complete in time.")
    }

    /// Time left, as the whole milliseconds poll(2) takes (rounded up, never negative).
    var remainingMilliseconds: Int32 {
        let remaining = instant - ContinuousClock.now
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    var remaining: Duration { max(.zero, instant - ContinuousClock.now) }

    /// Waits until `fileDescriptor` is ready for `events` (POLLIN or POLLOUT), retrying
    /// after signals. Hang-up and error conditions count as ready: the next system call
    /// reports them.
    func wait(_ fileDescriptor: Int32, for events: Int32, _ what: String) throws {
        while true {
            let milliseconds = remainingMilliseconds
            if milliseconds == 0 { throw expired(what) }
            var entry = pollfd(fd: fileDescriptor, events: Int16(events), revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR {
                throw NetworkError.system(.ioFailed, "Waiting for the socket failed during the \(what).", errno: errno)
            }
        }
    }
}

/// Text for system error numbers.
enum SystemError {
    static func text(_ number: Int32) -> String {
        guard let text = strerror(number) else { return "errno \(number)" }
        return "\(String(cString: text)) (errno \(number))"
    }
}

/// Socket options every connected socket in this module gets.
enum SocketOptions {
    /// Non-blocking mode: every wait goes through poll(2) with a deadline.
    static func setNonBlocking(_ fileDescriptor: Int32) {
        let flags = fcntl(fileDescriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(fileDescriptor, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Keeps the socket out of programs this process starts.
    static func setCloseOnExec(_ fileDescriptor: Int32) {
        let flags = fcntl(fileDescriptor, F_GETFD)
        if flags >= 0 { _ = fcntl(fileDescriptor, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// Line protocols send small replies that must not wait for the peer's delayed ACK.
    static func setNoDelay(_ fileDescriptor: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fileDescriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Where the platform has it, a per-socket "no SIGPIPE" flag; on Linux every send
    /// passes MSG_NOSIGNAL instead.
    static func setNoSigPipe(_ fileDescriptor: Int32) {
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Flags for send(2): MSG_NOSIGNAL where it exists.
    static var sendFlags: Int32 {
        #if os(Linux)
        return Int32(MSG_NOSIGNAL)
        #else
        return 0
        #endif
    }
}
