// Values around `Listener`: its configuration, what a handler learns about its
// connection, counters, and the outcome of a shutdown.
public import Foundation
public import SEMCrypto

/// Serves one connection on a worker thread. The listener closes the stream after the
/// handler returns (closing it earlier is fine).
public typealias ConnectionHandler = @Sendable (any ByteStream, ConnectionInfo) -> Void

/// What the listener does with a new connection while `maximumConnections` are in flight.
public enum OverloadPolicy: Sendable {
    /// Accept nothing until a worker is free: new connections wait in the kernel's
    /// backlog (up to `backlog` of them; beyond that the kernel drops further SYNs and
    /// clients retry). Nobody is turned away, but clients see a slow start.
    case waitInBacklog
    /// Accept at once and, when full, hand the plain socket to `busy` on the accept
    /// thread (e.g. to write "421 busy"), then close it. The callback runs with
    /// one-second timeouts and must be short. On a TLS listener it gets the socket
    /// before any handshake, where nothing readable can be written: pass nil there.
    case reject(busy: (@Sendable (SocketStream) -> Void)?)
}

/// Settings of one listening socket.
public struct ListenerConfiguration: Sendable {
    /// Address to bind: a numeric address or a name. The first address that binds is
    /// used; one listener serves one address.
    public var host: String
    /// Port to bind; 0 asks the system for a free one (see `Listener.port`).
    public var port: UInt16
    /// Queue length for connections not yet accepted (listen(2)).
    public var backlog: Int32
    /// Most connections in flight at once (waiting for or running on a worker).
    public var maximumConnections: Int
    public var overloadPolicy: OverloadPolicy
    /// When set, every connection runs a TLS server handshake on its worker thread
    /// before the handler sees it, bounded by the context's handshake timeout.
    public var tls: TLSContext?
    /// Longest wait for one read (and longest write stall) before the connection fails.
    public var idleTimeout: Duration
    /// Total time a connection may stay open, counted from accept; nil for no limit.
    public var maximumLifetime: Duration?
    /// Name for log lines ("smtp", "https").
    public var name: String

    public init(host: String = "127.0.0.1", port: UInt16 = 0, backlog: Int32 = 128, maximumConnections: Int = 64,
                overloadPolicy: OverloadPolicy = .waitInBacklog, tls: TLSContext? = nil,
                idleTimeout: Duration = .seconds(300), maximumLifetime: Duration? = .seconds(3600),
                name: String = "listener") {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.maximumConnections = maximumConnections
        self.overloadPolicy = overloadPolicy
        self.tls = tls
        self.idleTimeout = idleTimeout
        self.maximumLifetime = maximumLifetime
        self.name = name
    }
}

/// What a handler learns about its connection.
public struct ConnectionInfo: Sendable {
    /// Number of the connection within its listener, starting at 1; also on log lines.
    public let id: UInt64
    public let peer: NetworkAddress?
    public let local: NetworkAddress?
    public let openedAt: Date
    /// Negotiated TLS version and cipher; nil without TLS.
    public let tlsVersion: String?
    public let tlsCipher: String?
    /// The client's certificate and the intermediates it sent; empty when none.
    public let peerCertificateChain: [Certificate]

    /// The subject of the client's certificate, when one was presented.
    public var peerCertificateSubject: String? { peerCertificateChain.first?.subject.description }
}

/// Counters of one listener since it started.
public struct ListenerStatistics: Sendable, Equatable {
    /// Connections accepted and not yet finished (waiting for a worker or being served).
    public var active = 0
    /// Highest value `active` reached.
    public var peak = 0
    public var accepted = 0
    /// Connections closed at once because the listener was full (`.reject` policy).
    public var rejected = 0
    /// TLS handshakes that failed; the connection was closed without a handler.
    public var tlsFailures = 0
    /// Connections force-closed at shutdown.
    public var forced = 0
}

/// Outcome of `Listener.shutdown`.
public struct ShutdownReport: Sendable, Equatable {
    /// Connections still open at the deadline, whose sockets were shut down.
    public var forcedConnections: Int
    /// Worker threads that had not exited when the shutdown gave up waiting (a handler
    /// stuck outside network I/O). Zero in a clean shutdown.
    public var remainingWorkers: Int
}
