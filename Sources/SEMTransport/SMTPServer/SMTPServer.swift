// The SMTP server: a plain TCP `Listener` whose handler drives one `SMTPServerSession`
// per connection (see SMTPServer+Session.swift for the conversation itself).
//
// Graceful shutdown (`shutdown(deadline:)`), in order:
//   1. the listener stops accepting and closes its socket, so new connections are refused;
//   2. sessions in flight carry on normally until the deadline;
//   3. at the deadline every remaining session is woken by shutting down the reading side
//      of its socket; it answers "421 4.3.2" (RFC 5321 §3.8, RFC 3463 "system not
//      accepting network messages"), tells its hooks to abort a message in progress and
//      closes;
//   4. after a further grace period the listener force-closes whatever is still open.
//
// Limitation: a session blocked inside a hook (a slow policy lookup) notices the
// shutdown only when the hook returns.
import Foundation
public import SEMLogging

/// An ESMTP server with STARTTLS, bounded sessions and graceful shutdown. Blocking:
/// each session runs on a worker thread of its listener.
public final class SMTPServer: Sendable {
    public let configuration: SMTPListenerConfiguration
    let core: SMTPServerCore
    let listener: Listener

    /// Binds the listening socket without accepting yet (see `start`). `hooks` is
    /// called once per connection, on that connection's worker thread.
    ///
    /// - Throws: `invalidArgument` for settings that cannot work (see
    ///   `SMTPListenerConfiguration`), `bindFailed` when the address cannot be bound.
    public init(configuration: SMTPListenerConfiguration, logger: Logger, hooks: @escaping SMTPHooksFactory) throws {
        try configuration.validate()
        self.configuration = configuration
        let core = SMTPServerCore(configuration: configuration, logger: logger.with("listener", configuration.name),
                                  hooks: hooks)
        self.core = core
        // The listener's own lifetime limit is only a backstop behind the session
        // lifetime, which the driver enforces itself so that it can still say 421.
        let listenerConfiguration = ListenerConfiguration(
            host: configuration.host, port: configuration.port, backlog: configuration.backlog,
            maximumConnections: configuration.maximumConnections, overloadPolicy: .waitInBacklog, tls: nil,
            idleTimeout: configuration.commandTimeout,
            maximumLifetime: configuration.sessionLifetime.map { $0 + .seconds(60) }, name: configuration.name)
        listener = try Listener(configuration: listenerConfiguration, logger: logger) { stream, info in
            core.serve(stream, info)
        }
    }

    /// Starts accepting connections.
    public func start() { listener.start() }

    /// The bound port (the real one when port 0 was asked for).
    public var port: UInt16 { listener.port }

    /// The bound address.
    public var boundAddress: NetworkAddress { listener.boundAddress }

    /// Connections accepted and not yet finished.
    public var activeSessions: Int { listener.activeConnections }

    /// The listener's counters (accepted, peak, forced at shutdown).
    public var statistics: ListenerStatistics { listener.statistics }

    /// Stops the server as the file comment describes and reports what had to be
    /// forced. Blocks the calling thread until every session has ended or `grace` after
    /// the deadline has passed. A second call waits for the first and returns its report.
    @discardableResult
    public func shutdown(deadline: ContinuousClock.Instant, grace: Duration = .seconds(2)) -> ShutdownReport {
        guard core.beginStopping() else {
            return listener.shutdown(deadline: deadline + grace, grace: grace)
        }
        let result = GuardedState<ShutdownReport?>(nil)
        let listener = self.listener
        let thread = Thread {
            let report = listener.shutdown(deadline: deadline + grace, grace: grace)
            result.withLock { $0 = report }
        }
        thread.name = "shutdown \(configuration.name)"
        thread.start()

        core.sessions.withLock(when: { $0.active.isEmpty }, deadline: deadline) { _, _ in }
        let interrupted = core.closeRemainingSessions()
        if interrupted > 0 {
            core.logger.notice("smtp.shutdown", ["interrupted_sessions": interrupted])
        }
        return result.withLock(when: { $0 != nil }) { report, _ in report! }
    }

    /// Shuts down with a deadline `gracePeriod` from now.
    @discardableResult
    public func shutdown(gracePeriod: Duration) -> ShutdownReport {
        shutdown(deadline: .now + gracePeriod)
    }
}

/// The sessions in flight, by connection id, with the sockets that shutdown wakes.
struct SMTPSessionRegistry {
    var stopping = false
    /// Set at the shutdown deadline: sessions must say 421 and close.
    var closing = false
    var active: [UInt64: SocketDescriptor] = [:]
}

/// What the listener's handler shares across connections.
final class SMTPServerCore: Sendable {
    let configuration: SMTPListenerConfiguration
    let logger: Logger
    let hooks: SMTPHooksFactory
    let sessions = GuardedState(SMTPSessionRegistry())

    init(configuration: SMTPListenerConfiguration, logger: Logger, hooks: @escaping SMTPHooksFactory) {
        self.configuration = configuration
        self.logger = logger
        self.hooks = hooks
    }

    /// Serves one connection on the listener's worker thread.
    func serve(_ stream: any ByteStream, _ info: ConnectionInfo) {
        guard let plain = stream as? SocketStream else {
            // The listener is built without TLS, so this cannot happen; refuse politely.
            logger.critical("smtp.internal", ["reason": "the listener handed over a stream that is not plain TCP"])
            stream.close()
            return
        }
        let driver = SMTPSessionDriver(core: self, stream: plain, info: info)
        driver.run()
    }

    /// Marks the server as stopping; false when it already was.
    func beginStopping() -> Bool {
        sessions.withLock { registry in
            guard !registry.stopping else { return false }
            registry.stopping = true
            return true
        }
    }

    /// Adds a session; false when shutdown has already reached its deadline.
    func register(_ id: UInt64, _ descriptor: SocketDescriptor) -> Bool {
        sessions.withLock { registry in
            guard !registry.closing else { return false }
            registry.active[id] = descriptor
            return true
        }
    }

    /// Removes a session; must happen before its socket is closed, so that shutdown never
    /// touches a descriptor number that was closed and reused.
    func unregister(_ id: UInt64) {
        sessions.withLock { $0.active[id] = nil }
    }

    /// Whether sessions must stop now.
    var isClosing: Bool { sessions.withLock { $0.closing } }

    /// At the shutdown deadline: wakes every session blocked in a read. Returns how many.
    func closeRemainingSessions() -> Int {
        sessions.withLock { registry in
            registry.closing = true
            for descriptor in registry.active.values { descriptor.shutdownReading() }
            return registry.active.count
        }
    }
}
