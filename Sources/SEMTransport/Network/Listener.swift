// A TCP listener with a bounded pool of worker threads.
//
// Threads: one accept thread per listener, and worker threads started on demand, one
// per connection in flight, never more than `maximumConnections`; they stay until
// shutdown. Handlers run on workers, so they may block on network I/O freely.
//
// Shutdown, in order: stop accepting (wake the accept thread, close the listening
// socket), let connections in flight finish until the deadline, shut the remaining
// sockets down with shutdown(2) so that blocked reads and writes return, and wait for
// the workers to exit.
//
// Limitation: a handler stuck outside network I/O cannot be stopped; shutdown gives up
// waiting for it after a grace period and reports it.
import Foundation
public import SEMLogging
import SEMCrypto
#if canImport(Glibc)
import Glibc
#endif

/// Accepts TCP (optionally TLS) connections and runs a handler for each on a worker.
/// A running listener keeps itself alive until `shutdown` is called.
public final class Listener: Sendable {
    public let configuration: ListenerConfiguration
    /// The address actually bound (with the real port when port 0 was asked for).
    public let boundAddress: NetworkAddress
    let logger: Logger
    let handler: ConnectionHandler
    let listening: SocketDescriptor
    /// Two connected local sockets; a byte written to one wakes the accept thread at shutdown.
    let wakeReader: SocketDescriptor
    private let wakeWriter: SocketDescriptor
    let state = GuardedState(ListenerState())

    /// Binds and listens, without accepting yet (see `start`). The logger gets one line
    /// per connection opened and closed.
    public init(configuration: ListenerConfiguration, logger: Logger, handler: @escaping ConnectionHandler) throws {
        guard configuration.maximumConnections > 0, configuration.backlog > 0,
              configuration.idleTimeout > .zero, (configuration.maximumLifetime ?? .seconds(1)) > .zero else {
            throw NetworkError(.invalidArgument,
                               "The connection limit, backlog, idle timeout and lifetime must all be positive.")
        }
        if let context = configuration.tls, context.configuration.role != .server {
            throw NetworkError(.invalidArgument, "A listener needs a TLS context with the server role.")
        }
        self.configuration = configuration
        self.logger = logger.with("listener", configuration.name)
        self.handler = handler
        listening = try Self.bind(configuration)
        guard let number = listening.rawValue, let address = NetworkAddress.local(of: number) else {
            throw NetworkError(.bindFailed, "The bound address of the listening socket could not be read.")
        }
        boundAddress = address
        var ends: [Int32] = [-1, -1]
        let kind = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &ends) == 0 else {
            listening.close()
            throw NetworkError.system(.bindFailed, "The listener could not create its wake-up channel.", errno: errno)
        }
        wakeReader = SocketDescriptor(ends[0])
        wakeWriter = SocketDescriptor(ends[1])
    }

    /// The bound port.
    public var port: UInt16 { boundAddress.port }

    /// Connections accepted and not yet finished.
    public var activeConnections: Int { state.withLock { $0.active.count } }

    /// Counters since start.
    public var statistics: ListenerStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.active = state.active.count
            return statistics
        }
    }

    /// Starts the accept thread. Calling it again, or after shutdown, does nothing.
    public func start() {
        let starting = state.withLock { state -> Bool in
            guard state.phase == .created else { return false }
            state.phase = .running
            state.acceptThreadRunning = true
            return true
        }
        guard starting else { return }
        logger.info("listener.start", ["address": boundAddress, "max_connections": configuration.maximumConnections,
                                        "tls": configuration.tls != nil])
        ThreadNaming.start("accept \(configuration.name)") { [self] in acceptLoop() }
    }

    /// Stops the listener (see the file comment for the steps) and returns what had to
    /// be forced. Blocks the calling thread: call it from a thread, not from an async
    /// task. `grace` bounds the wait for workers after the forced close. A second call
    /// waits for the first to finish and returns the same report.
    @discardableResult
    public func shutdown(deadline: ContinuousClock.Instant, grace: Duration = .seconds(5)) -> ShutdownReport {
        let first = state.withLock { state -> Bool in
            guard state.phase == .created || state.phase == .running else { return false }
            state.phase = .stopping
            return true
        }
        guard first else {
            return state.withLock(when: { $0.phase == .stopped }) { state, _ in state.report }
        }

        // Stop accepting: wake the accept thread, wait for it, close the listening socket.
        if let writer = wakeWriter.rawValue {
            var byte: UInt8 = 1
            _ = Glibc.write(writer, &byte, 1)
        }
        state.withLock(when: { !$0.acceptThreadRunning }) { _, _ in }
        listening.close()

        // Let the connections in flight finish until the deadline.
        state.withLock(when: { $0.active.isEmpty }, deadline: deadline) { _, _ in }

        // Shut down whatever is left; queued connections are then closed unserved.
        let forced = state.withLock { state -> Int in
            state.forcing = true
            for (id, descriptor) in state.active {
                descriptor.shutdown()
                state.forcedIDs.insert(id)
            }
            state.statistics.forced += state.active.count
            return state.active.count
        }

        // Wait for the workers to leave.
        let remaining = state.withLock(when: { $0.workers == 0 }, deadline: .now + grace) { state, _ in state.workers }
        wakeReader.close()
        wakeWriter.close()
        let report = ShutdownReport(forcedConnections: forced, remainingWorkers: remaining)
        state.withLock { state in
            state.report = report
            state.phase = .stopped
        }
        let level: LogLevel = remaining > 0 ? .error : .info
        logger.log(level, "listener.stop", ["address": boundAddress, "forced": forced, "remaining_workers": remaining])
        return report
    }

    /// Shuts down with a deadline `grace` from now.
    @discardableResult
    public func shutdown(gracePeriod: Duration) -> ShutdownReport {
        shutdown(deadline: .now + gracePeriod)
    }

    // MARK: - Binding

    private static func bind(_ configuration: ListenerConfiguration) throws -> SocketDescriptor {
        let addresses = try Resolver.resolve(host: configuration.host, port: configuration.port, passive: true)
        var lastError = NetworkError(.bindFailed, "No address could be bound.")
        for address in addresses {
            let number = socket(address.family,
                                address.socketType | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
                                address.socketProtocol)
            guard number >= 0 else {
                lastError = NetworkError.system(.bindFailed, "A socket could not be created.", errno: errno)
                continue
            }
            let descriptor = SocketDescriptor(number)
            // Rebinding a port with connections in TIME_WAIT must work after a restart.
            var one: Int32 = 1
            _ = setsockopt(number, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = address.withSocketAddress { Glibc.bind(number, $0, $1) }
            guard bound == 0, listen(number, configuration.backlog) == 0 else {
                lastError = NetworkError.system(
                    .bindFailed, "Could not listen on \(configuration.host) port \(configuration.port).", errno: errno)
                descriptor.close()
                continue
            }
            return descriptor
        }
        throw lastError
    }
}
