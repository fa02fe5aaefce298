// Delivers one message to one or more recipients at one server: a TCP connection from
// `TCPClient.connect`, the pure `SMTPClientSession` for the conversation, STARTTLS with
// a client certificate and a checked server name.
//
// Every outcome is a `SMTPDeliveryReport`: per-recipient replies, the reply to the
// message, and a failure classified as transient or permanent (`SMTPClientFailure`), so
// that a queue can decide per recipient with `SMTPDeliveryReport.dispositions`. Only
// mistakes in the client's own settings are thrown, when the client is made.
//
// Timeouts follow RFC 5321 §4.5.3.2 (see `SMTPClientTimeouts`); the current wait is chosen
// from what the session waits for.
//
// Limitation: the session holds the whole message in memory (the original, a canonical
// and a dot-stuffed copy), so `maximumMessageSize` bounds memory as well as what is sent;
// streaming from a file is not supported yet.
import Foundation
public import SEMCrypto
public import SEMLogging

/// The client's timeouts, by what it waits for (RFC 5321 §4.5.3.2).
public struct SMTPClientTimeouts: Sendable, Equatable {
    /// Establishing the TCP connection (the RFC sets none).
    public var connect: Duration
    /// The 220 greeting (§4.5.3.2.1: 5 minutes).
    public var greeting: Duration
    /// Replies to EHLO, HELO, STARTTLS and QUIT (the RFC sets none; 5 minutes like MAIL).
    public var command: Duration
    /// The reply to MAIL (§4.5.3.2.2: 5 minutes).
    public var mail: Duration
    /// The reply to each RCPT (§4.5.3.2.3: 5 minutes).
    public var recipient: Duration
    /// The 354 reply to DATA (§4.5.3.2.4: 2 minutes).
    public var dataInitiation: Duration
    /// Longest stall of a write while sending the message (§4.5.3.2.5: 3 minutes).
    public var dataBlock: Duration
    /// The reply after the final "." (§4.5.3.2.6: 10 minutes).
    public var dataTermination: Duration

    public init(connect: Duration = .seconds(30), greeting: Duration = .seconds(300), command: Duration = .seconds(300),
                mail: Duration = .seconds(300), recipient: Duration = .seconds(300),
                dataInitiation: Duration = .seconds(120), dataBlock: Duration = .seconds(180),
                dataTermination: Duration = .seconds(600)) {
        self.connect = connect
        self.greeting = greeting
        self.command = command
        self.mail = mail
        self.recipient = recipient
        self.dataInitiation = dataInitiation
        self.dataBlock = dataBlock
        self.dataTermination = dataTermination
    }

    /// The same timeout for every wait (for tests and impatient callers).
    public static func uniform(_ timeout: Duration) -> SMTPClientTimeouts {
        SMTPClientTimeouts(connect: timeout, greeting: timeout, command: timeout, mail: timeout, recipient: timeout,
                           dataInitiation: timeout, dataBlock: timeout, dataTermination: timeout)
    }

    var all: [Duration] { [connect, greeting, command, mail, recipient, dataInitiation, dataBlock, dataTermination] }
}

/// Settings of an `SMTPClient`.
public struct SMTPClientOptions: Sendable {
    /// EHLO name and TLS policy of each conversation (`requireTLS` is true by default).
    /// `tlsAvailable` is overridden: it is true exactly when `tls` is set.
    public var session: SMTPClientConfiguration
    /// The client context for STARTTLS: its verifier checks the server's chain, and its
    /// certificate and key are presented when the server asks for one.
    public var tls: TLSContext?
    public var timeouts: SMTPClientTimeouts
    /// The largest message the client will try to send, in octets.
    public var maximumMessageSize: Int
    /// Size of each read from the socket.
    public var readChunkSize: Int

    public init(session: SMTPClientConfiguration, tls: TLSContext?, timeouts: SMTPClientTimeouts = SMTPClientTimeouts(),
                maximumMessageSize: Int = 25 * 1024 * 1024, readChunkSize: Int = 16_384) {
        self.session = session
        self.tls = tls
        self.timeouts = timeouts
        self.maximumMessageSize = maximumMessageSize
        self.readChunkSize = readChunkSize
    }
}

/// Sends messages over SMTP, one connection per delivery. Blocking: call from a thread,
/// not from an async task.
public struct SMTPClient: Sendable {
    public let options: SMTPClientOptions
    let logger: Logger

    /// - Throws: `invalidArgument` when TLS is required without a context, the context
    ///   is not a client context, or a timeout or limit is not positive.
    public init(options: SMTPClientOptions, logger: Logger) throws {
        if let tls = options.tls, tls.configuration.role != .client {
            throw NetworkError(.invalidArgument, "STARTTLS as a client needs a TLS context with the client role.")
        }
        if options.session.requireTLS && options.tls == nil {
            throw NetworkError(.invalidArgument, "TLS is required for SMTP delivery but no TLS context was configured.")
        }
        guard options.timeouts.all.allSatisfy({ $0 > .zero }), options.maximumMessageSize > 0,
              (512...(1 << 20)).contains(options.readChunkSize) else {
            throw NetworkError(.invalidArgument, "SMTP client timeouts and the message limit must be positive, "
                                   + "and the read size must lie between 512 bytes and 1 MiB.")
        }
        var options = options
        options.session.tlsAvailable = options.tls != nil
        self.options = options
        self.logger = logger
    }

    /// Delivers `message` (RFC 5322 bytes; line endings become CRLF) from `sender` to
    /// `recipients` at `host`:`port`. With TLS the server's certificate must be valid for
    /// `serverName` (by default `host`). Never throws: every failure is in the report.
    public func deliver(_ message: some Collection<UInt8>, from sender: SMTPReversePath, to recipients: [SMTPMailbox],
                        host: String, port: UInt16, serverName: String? = nil) -> SMTPDeliveryReport {
        let log = logger.with("smtp.server", "\(host):\(port)")
        var session = SMTPClientSession(configuration: options.session, sender: sender, recipients: recipients,
                                        message: [])
        guard !recipients.isEmpty else {
            return SMTPClientDriver.fail(&session, .noRecipientAccepted, "The message has no recipients.", log)
        }
        guard message.count <= options.maximumMessageSize else {
            return SMTPClientDriver.fail(&session, .messageTooLarge,
                                         "The message (\(message.count) octets) exceeds this client's limit of "
                                            + "\(options.maximumMessageSize) octets.", log)
        }
        session = SMTPClientSession(configuration: options.session, sender: sender, recipients: recipients,
                                    message: message)
        var driver = SMTPClientDriver(options: options, session: session, log: log)
        return driver.run(host: host, port: port, serverName: serverName ?? host)
    }
}
