// An HTTP/1.1 server over `Listener`: plain or TLS, with mutual TLS as the listener's
// TLS context asks for (none, optional or required). Each connection is served on one
// worker thread by `HTTPServerConnection`: persistent connections (RFC 9112 §9.3),
// pipelined requests answered in order, routing with `HTTPRouter`, streamed bodies
// both ways, and one log line per request.
//
// Shutdown: the server stops taking new requests at once (idle connections close
// within a fraction of a second, a response in progress says "Connection: close"),
// then the listener's shutdown lets requests in flight finish until the deadline.
//
// Limitation: an unauthenticated client may hold a worker while within its limits
// (idle timeout, head timeout, lifetime); the listener's connection bound is what
// protects the rest of the process.
public import SEMLogging
import Synchronization

/// An HTTP/1.1 server: a listener and a router of handlers.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    /// The listener underneath, for its port, statistics and connection counts.
    public let listener: Listener
    let router: HTTPRouter<HTTPHandler>
    let logger: Logger
    private let stopping: HTTPStopFlag

    /// Binds the listening socket; call `start()` to accept connections. The logger
    /// receives one line per request (component "http") besides the listener's lines.
    public init(configuration: HTTPServerConfiguration, router: HTTPRouter<HTTPHandler>, logger: Logger) throws {
        guard configuration.headTimeout > .zero, configuration.drainLimit >= 0,
              configuration.maximumRequestsPerConnection > 0, configuration.readBufferSize >= 1024 else {
            throw NetworkError(.invalidArgument,
                               "The head timeout, drain limit, request count and buffer size must be positive.")
        }
        self.configuration = configuration
        self.router = router
        self.logger = logger.component("http")
        let stopping = HTTPStopFlag()
        self.stopping = stopping
        let context = HTTPServerContext(configuration: configuration, router: router, logger: self.logger,
                                        stopping: stopping)
        listener = try Listener(configuration: configuration.listener, logger: logger) { stream, info in
            HTTPServerConnection(stream: stream, info: info, context: context).run()
        }
    }

    /// The bound port (the real one when port 0 was configured).
    public var port: UInt16 { listener.port }

    /// Starts accepting connections.
    public func start() { listener.start() }

    /// Whether `shutdown` was called.
    public var isStopping: Bool { stopping.isRaised }

    /// Stops the server: no new requests, then the listener's shutdown with `deadline`
    /// for requests in flight. Blocks the calling thread.
    @discardableResult
    public func shutdown(deadline: ContinuousClock.Instant, grace: Duration = .seconds(5)) -> ShutdownReport {
        stopping.raise()
        return listener.shutdown(deadline: deadline, grace: grace)
    }

    /// Shuts down with a deadline `gracePeriod` from now.
    @discardableResult
    public func shutdown(gracePeriod: Duration) -> ShutdownReport {
        shutdown(deadline: .now + gracePeriod)
    }
}

/// What every connection of one server shares.
struct HTTPServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    let router: HTTPRouter<HTTPHandler>
    let logger: Logger
    let stopping: HTTPStopFlag
}

/// Raised once when the server shuts down; read by every connection between requests.
final class HTTPStopFlag: Sendable {
    private let raised = Mutex(false)

    var isRaised: Bool { raised.withLock { $0 } }

    func raise() { raised.withLock { $0 = true } }
}
