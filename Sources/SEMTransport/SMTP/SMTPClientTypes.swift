// The values around the SMTP client session: configuration, actions for the driver, and
// the delivery report it ends with.

/// Settings of an SMTP client session.
public struct SMTPClientConfiguration: Sendable, Equatable {
    /// The name sent with EHLO/HELO: this host's domain or an address literal.
    public var heloName: String
    /// Whether the driver can run TLS; STARTTLS is used whenever the server offers it.
    public var tlsAvailable: Bool
    /// Refuse to send anything unless the session runs over TLS (no plaintext fallback).
    public var requireTLS: Bool
    /// Longest reply line accepted, counting CRLF (RFC 5321 §4.5.3.1.5 gives 512; a
    /// little leniency does no harm).
    public var maxReplyLineLength: Int
    /// Most lines in one reply.
    public var maxReplyLines: Int

    public init(heloName: String, tlsAvailable: Bool = true, requireTLS: Bool = true,
                maxReplyLineLength: Int = 2048, maxReplyLines: Int = 100) {
        self.heloName = heloName
        self.tlsAvailable = tlsAvailable
        self.requireTLS = requireTLS
        self.maxReplyLineLength = maxReplyLineLength
        self.maxReplyLines = maxReplyLines
    }
}

/// What the driver of a client session must do, in order.
public enum SMTPClientAction: Sendable, Equatable {
    /// Write these bytes to the server.
    case send([UInt8])
    /// Start the TLS handshake now, then call `SMTPClientSession.tlsEstablished()`.
    case startTLS
    /// The session is over: close the connection. The report is also in `report`.
    case finished(SMTPDeliveryReport)
}

/// Why a delivery did not complete.
public struct SMTPClientFailure: Sendable, Equatable, CustomStringConvertible {
    /// Stable codes; the raw values may appear in logs and queue records.
    public enum Kind: String, Sendable, Equatable {
        case greetingRefused = "greeting-refused"
        case helloRefused = "hello-refused"
        case tlsNotOffered = "tls-not-offered"
        case tlsRefused = "tls-refused"
        case messageTooLarge = "message-too-large"
        case eightBitUnsupported = "eight-bit-unsupported"
        case senderRefused = "sender-refused"
        case noRecipientAccepted = "no-recipient-accepted"
        case dataRefused = "data-refused"
        case messageRefused = "message-refused"
        case serviceClosing = "service-closing"
        case protocolError = "protocol-error"
        case connectionLost = "connection-lost"
        /// No TCP connection could be made (refused, unreachable, name not found).
        case connectFailed = "connect-failed"
        /// The TLS handshake after STARTTLS failed, or the server's certificate or name
        /// was refused.
        case tlsFailed = "tls-failed"
        /// The server did not answer, or did not take data, within the timeout.
        case timedOut = "timed-out"
    }

    public let kind: Kind
    /// The server's reply that caused the failure, when there was one.
    public let reply: SMTPReply?
    /// A sentence for a person.
    public let reason: String

    public init(_ kind: Kind, reply: SMTPReply? = nil, reason: String) {
        self.kind = kind
        self.reply = reply
        self.reason = reason
    }

    /// Whether trying again later may help: a 4xx reply, a lost or failed connection, a
    /// failed TLS handshake, a timeout or a closing service. Refusals with 5xx and local
    /// refusals are permanent.
    public var isTransient: Bool {
        if let reply { return reply.isTransientFailure }
        switch kind {
        case .connectionLost, .serviceClosing, .connectFailed, .tlsFailed, .timedOut: return true
        default: return false
        }
    }

    public var description: String {
        reply.map { "\(kind.rawValue): \(reason) (\($0))" } ?? "\(kind.rawValue): \(reason)"
    }
}

/// What happened to one recipient.
public enum SMTPRecipientStatus: Sendable, Equatable {
    /// RCPT was never sent or never answered.
    case notAttempted
    /// The server accepted the recipient (the message itself may still have failed).
    case accepted(SMTPReply)
    /// The server refused the recipient.
    case rejected(SMTPReply)
}

/// The outcome of one client session.
public struct SMTPDeliveryReport: Sendable, Equatable {
    /// Each envelope recipient with its status, in envelope order.
    public var recipients: [(mailbox: SMTPMailbox, status: SMTPRecipientStatus)]
    /// The server's reply to the end of data, when the message was sent.
    public var messageReply: SMTPReply?
    /// Why the transaction failed; nil when the message was accepted.
    public var failure: SMTPClientFailure?

    /// Whether the server took responsibility for the message for at least one recipient.
    public var delivered: Bool { failure == nil && messageReply?.isCompletion == true }

    /// Recipients the message was delivered to (accepted at RCPT and the message accepted).
    public var deliveredRecipients: [SMTPMailbox] {
        guard delivered else { return [] }
        return recipients.compactMap { entry in
            if case .accepted = entry.status { return entry.mailbox }
            return nil
        }
    }

    public static func == (lhs: SMTPDeliveryReport, rhs: SMTPDeliveryReport) -> Bool {
        lhs.messageReply == rhs.messageReply && lhs.failure == rhs.failure
            && lhs.recipients.count == rhs.recipients.count
            && zip(lhs.recipients, rhs.recipients).allSatisfy { $0.mailbox == $1.mailbox && $0.status == $1.status }
    }
}

/// The extensions a server announced in its EHLO reply (keywords upper-cased).
public struct SMTPServerExtensions: Sendable, Equatable {
    public var keywords: [String: [String]] = [:]

    public init() {}

    init(ehloReply reply: SMTPReply) {
        // The first line is the greeting; each later line is "keyword *(SP param)".
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            keywords[keyword.uppercased()] = Array(words.dropFirst())
        }
    }

    public func has(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

    /// The SIZE limit (RFC 1870 §4): nil without SIZE or when the server gives no fixed
    /// limit (0 or no number).
    public var sizeLimit: Int64? {
        guard let value = keywords["SIZE"]?.first, let size = Int64(value), size > 0 else { return nil }
        return size
    }
}
