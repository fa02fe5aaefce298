// The values around the SMTP server session: its configuration, what it tells the
// driver to do, what it tells the application, and the application's hook protocol.
//
// How the application decides: through `SMTPServerHooks`, a protocol whose methods the
// session calls synchronously from `receive(_:hooks:)`, on the driver's thread. A hook
// may block (a policy lookup over the network, a database write); the session simply
// waits, and the replies of pipelined commands keep their order. The session does not
// store the hooks: the driver passes them in with every call, so the session stays a
// plain value.

/// Settings of an SMTP server session.
public struct SMTPServerConfiguration: Sendable, Equatable {
    /// The server's host name, shown in the greeting and the EHLO reply; also the domain
    /// of the bare `<Postmaster>` recipient.
    public var hostname: String
    /// The largest message accepted, in octets; advertised with SIZE (RFC 1870).
    public var maxMessageSize: Int64
    /// Most recipients in one transaction; more are answered 452 4.5.3 (RFC 5321 §4.5.3.1.8).
    public var maxRecipients: Int
    /// After this many negative replies the session answers 421 4.7.0 and closes.
    public var maxErrors: Int
    /// Longest command line, counting CRLF. RFC 5321 §4.5.3.1.4 gives 512; an extension
    /// with parameters may justify more (e.g. 1000 or 4096).
    public var maxCommandLineLength: Int
    /// Longest text line in DATA, counting CRLF (RFC 5321 §4.5.3.1.6: 1000).
    public var maxDataLineLength: Int
    /// Whether the driver can start TLS on this connection; STARTTLS is offered only then.
    public var tlsAvailable: Bool
    /// Refuse MAIL with 530 5.7.0 until TLS is active (RFC 3207 §4).
    public var requireTLS: Bool
    /// Size of the pieces in which message bytes go to `SMTPServerHooks.messageData`.
    public var messageChunkSize: Int

    public init(
        hostname: String,
        maxMessageSize: Int64 = 25 * 1024 * 1024,
        maxRecipients: Int = 100,
        maxErrors: Int = 10,
        maxCommandLineLength: Int = 512,
        maxDataLineLength: Int = 1000,
        tlsAvailable: Bool = true,
        requireTLS: Bool = false,
        messageChunkSize: Int = 64 * 1024
    ) {
        self.hostname = hostname
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.maxErrors = maxErrors
        self.maxCommandLineLength = maxCommandLineLength
        self.maxDataLineLength = maxDataLineLength
        self.tlsAvailable = tlsAvailable
        self.requireTLS = requireTLS
        self.messageChunkSize = messageChunkSize
    }
}

/// What the application knows about the client when a hook is called.
public struct SMTPSessionInfo: Sendable, Equatable {
    /// An opaque value the driver supplies, such as "192.0.2.7:52114".
    public var peer: String
    /// What the driver learned about the peer from TLS (for example the subject or the
    /// fingerprint of the client certificate); nil before TLS or without a certificate.
    public var peerIdentity: String?
    /// The argument of the client's last EHLO or HELO.
    public var clientName: String?
    /// Whether the client greeted with EHLO (true) or HELO (false).
    public var extended: Bool
    /// Whether the session runs over TLS.
    public var tlsActive: Bool

    public init(peer: String, peerIdentity: String? = nil, clientName: String? = nil, extended: Bool = false,
                tlsActive: Bool = false) {
        self.peer = peer
        self.peerIdentity = peerIdentity
        self.clientName = clientName
        self.extended = extended
        self.tlsActive = tlsActive
    }
}

/// The envelope of the current mail transaction.
public struct SMTPEnvelope: Sendable, Equatable {
    public var sender: SMTPReversePath
    public var parameters: SMTPMailParameters
    /// Recipients accepted so far, in the order the client gave them.
    public var recipients: [SMTPMailbox]

    public init(sender: SMTPReversePath, parameters: SMTPMailParameters = SMTPMailParameters(),
                recipients: [SMTPMailbox] = []) {
        self.sender = sender
        self.parameters = parameters
        self.recipients = recipients
    }
}

/// Why a message was refused by the session itself, before the application could decide.
public enum SMTPMessageFault: Sendable, Equatable {
    /// The message grew beyond `maxMessageSize`.
    case tooLarge
    /// A line in the message was longer than `maxDataLineLength`.
    case lineTooLong
    /// A line ended in a bare LF or contained a bare CR.
    case bareLineEnding
    /// The message contained a NUL octet.
    case nul
    /// The connection ended before the end-of-data line.
    case connectionClosed
}

/// What the driver must do, in order.
public enum SMTPServerAction: Sendable, Equatable {
    /// Write this reply (`SMTPReply.encoded`).
    case send(SMTPReply)
    /// Start the TLS handshake now, after writing the replies before this action, then
    /// call `SMTPServerSession.tlsEstablished(peerIdentity:)`.
    case startTLS
    /// Close the connection after writing the replies before this action.
    case close
}

/// The application's side of an SMTP server session. Every method is called
/// synchronously from `SMTPServerSession.receive(_:hooks:)`.
public protocol SMTPServerHooks {
    /// Decide about the sender of a new transaction (MAIL FROM).
    mutating func mail(from sender: SMTPReversePath, parameters: SMTPMailParameters,
                       session: SMTPSessionInfo) -> SMTPDecision
    /// Decide about one recipient (RCPT TO); `envelope` holds the recipients accepted so far.
    mutating func recipient(_ recipient: SMTPMailbox, envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision
    /// DATA was accepted: a message for `envelope` begins. Rejecting here answers DATA
    /// with the rejection instead of 354. The default accepts.
    mutating func messageBegin(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision
    /// The next piece of the message, dot-unstuffed, lines ending in CRLF. The pieces are
    /// at most `messageChunkSize` octets and their boundaries do not depend on how the
    /// input arrived.
    mutating func messageData(_ chunk: ArraySlice<UInt8>)
    /// The whole message has arrived and passed the session's checks: accept (the
    /// message must then be stored durably before returning, RFC 5321 §6.1) or reject.
    mutating func messageEnd(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision
    /// The message being received is refused by the session (or the connection ended);
    /// discard whatever `messageData` delivered. The default does nothing.
    mutating func messageAbort(envelope: SMTPEnvelope, fault: SMTPMessageFault)
}

extension SMTPServerHooks {
    public mutating func messageBegin(envelope: SMTPEnvelope, session: SMTPSessionInfo) -> SMTPDecision { .accept }
    public mutating func messageAbort(envelope: SMTPEnvelope, fault: SMTPMessageFault) {}
}
