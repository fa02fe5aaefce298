// Settings of the SMTP server driver: where to listen, the STARTTLS context, the
// timeouts of RFC 5321 §4.5.3.2 and the session rules handed to `SMTPServerSession`.
//
// Timeouts, as the driver applies them:
//   - command timeout: from the moment the server is ready for the next command until a
//     complete command line has arrived. Partial input does not extend it, so a client
//     that trickles one byte at a time is still cut off (RFC 5321 §4.5.3.2.7 suggests at
//     least 5 minutes).
//   - data timeout: while the message is being received, the longest pause between two
//     reads (RFC 5321 §4.5.3.2.5 gives clients 3 minutes per data block).
//   - session lifetime: the whole conversation, however busy.
// Each ends the session with a 421 reply where the connection still allows one.
//
// Limitation: during DATA every read that brings bytes restarts the data timeout, so a
// client that trickles its message slowly is stopped only by the session lifetime.
public import SEMCrypto

/// Everything an `SMTPServer` needs besides its logger and hooks.
public struct SMTPListenerConfiguration: Sendable {
    /// The rules of each SMTP conversation (host name, size limit, recipients, TLS policy).
    /// `tlsAvailable` is overridden: it is true exactly when `tls` is set.
    public var session: SMTPServerConfiguration
    /// The server context used for STARTTLS (RFC 3207), or nil for plaintext only. With
    /// `clientAuthentication: .required` every client must present a certificate that the
    /// context's verifier accepts (path validation) before any mail is exchanged over TLS.
    public var tls: TLSContext?
    /// Address to bind; a numeric address or a name.
    public var host: String
    /// Port to bind; 0 asks the system for a free one (see `SMTPServer.port`).
    public var port: UInt16
    /// Queue length for connections not yet accepted (listen(2)).
    public var backlog: Int32
    /// Most sessions in flight at once; more wait in the kernel's backlog.
    public var maximumConnections: Int
    /// Longest wait for a complete command line (RFC 5321 §4.5.3.2.7: 5 minutes).
    public var commandTimeout: Duration
    /// Longest pause between reads while the message arrives (RFC 5321 §4.5.3.2.5: 3 minutes).
    public var dataTimeout: Duration
    /// Longest time one write of a reply may go without progress.
    public var writeTimeout: Duration
    /// Longest time a whole session may last; nil for no limit.
    public var sessionLifetime: Duration?
    /// Size of each read from the socket; the memory a session uses for input is bounded
    /// by this plus the session's own line limit.
    public var readChunkSize: Int
    /// Name on log lines.
    public var name: String

    public init(session: SMTPServerConfiguration, tls: TLSContext? = nil, host: String = "127.0.0.1",
                port: UInt16 = 25, backlog: Int32 = 128, maximumConnections: Int = 64,
                commandTimeout: Duration = .seconds(300), dataTimeout: Duration = .seconds(180),
                writeTimeout: Duration = .seconds(60), sessionLifetime: Duration? = .seconds(1800),
                readChunkSize: Int = 16_384, name: String = "smtp") {
        self.session = session
        self.tls = tls
        self.host = host
        self.port = port
        self.backlog = backlog
        self.maximumConnections = maximumConnections
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.writeTimeout = writeTimeout
        self.sessionLifetime = sessionLifetime
        self.readChunkSize = readChunkSize
        self.name = name
    }

    /// The session rules as the driver hands them to each session.
    var effectiveSession: SMTPServerConfiguration {
        var session = session
        session.tlsAvailable = tls != nil
        return session
    }

    /// Refuses settings the driver cannot honour, at startup rather than per connection.
    func validate() throws {
        guard commandTimeout > .zero, dataTimeout > .zero, writeTimeout > .zero,
              (sessionLifetime ?? .seconds(1)) > .zero else {
            throw NetworkError(.invalidArgument, "SMTP timeouts and the session lifetime must be positive.")
        }
        guard readChunkSize >= 512, readChunkSize <= 1 << 20 else {
            throw NetworkError(.invalidArgument, "The SMTP read size must lie between 512 bytes and 1 MiB.")
        }
        guard session.maxCommandLineLength >= 512, session.maxDataLineLength >= 1000,
              session.messageChunkSize > 0, session.maxErrors > 0, session.maxMessageSize > 0 else {
            throw NetworkError(.invalidArgument,
                               "The SMTP session limits are below the minimums of RFC 5321 §4.5.3.1.")
        }
        if let tls, tls.configuration.role != .server {
            throw NetworkError(.invalidArgument, "STARTTLS on a server needs a TLS context with the server role.")
        }
        if session.requireTLS && tls == nil {
            throw NetworkError(.invalidArgument, "TLS is required for SMTP but no TLS context was configured.")
        }
    }
}

/// What an `SMTPServer` hands the hooks factory and keeps current during the session:
/// which connection this is and, after STARTTLS, what TLS established.
///
/// Used by one worker thread only (the one serving the connection), like the hooks.
public final class SMTPConnectionContext {
    /// Random identifier of this SMTP session; it appears on every log line about it.
    public let sessionID: String
    /// The listener's number for the connection.
    public let connectionID: UInt64
    public let peer: NetworkAddress?
    public let local: NetworkAddress?
    /// TLS version and cipher after STARTTLS; nil before.
    public internal(set) var tlsVersion: String?
    public internal(set) var tlsCipher: String?
    /// The client's certificate followed by the intermediates it sent, after STARTTLS
    /// with a client certificate. When the TLS context requires client certificates,
    /// its verifier has accepted this chain before the session continues.
    public internal(set) var peerCertificateChain: [Certificate] = []
    /// The names of the client certificate, when there is one.
    public internal(set) var peerIdentity: SMTPPeerIdentity?

    init(sessionID: String, connectionID: UInt64, peer: NetworkAddress?, local: NetworkAddress?) {
        self.sessionID = sessionID
        self.connectionID = connectionID
        self.peer = peer
        self.local = local
    }

    /// Whether the session runs over TLS.
    public var tlsActive: Bool { tlsVersion != nil }
}

/// Makes the hooks of one connection. Called on the connection's worker thread before
/// the greeting; the hooks live and die on that thread.
public typealias SMTPHooksFactory = @Sendable (SMTPConnectionContext) -> any SMTPServerHooks
