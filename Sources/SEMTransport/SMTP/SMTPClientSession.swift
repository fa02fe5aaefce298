// The SMTP client session (RFC 5321) as a pure state machine: one message to one or more
// recipients over one connection.
//
// The driver passes what the server sends to `receive(_:)` and performs the actions:
// write bytes, start TLS (then call `tlsEstablished()`), and finally close the
// connection when `.finished` arrives with the delivery report.
//
// Steps: greeting → EHLO (HELO when EHLO is refused with 5xx) → STARTTLS when offered and
// TLS is available, then EHLO again (RFC 3207 §4.2) → MAIL, RCPT…, DATA, sent as one group
// when the server offers PIPELINING (RFC 2920 §3.1) → the dot-stuffed message → QUIT.
// With `requireTLS` nothing of the transaction is sent in plaintext: the session fails
// with `tls-not-offered` or `tls-refused` instead.
//
// After "220" to STARTTLS, anything else the server sent in the same read is discarded:
// a reply injected before the handshake must not be taken as an answer after it.
//
// Known limitation: the whole message is held in memory (canonical and stuffed copies).

/// One outgoing SMTP conversation.
public struct SMTPClientSession: Sendable {
    enum Step: Sendable, Equatable {
        case greeting, ehlo, helo, startTLS, awaitingTLS, transaction, message, quit, done
    }

    enum Pending: Sendable, Equatable {
        case mail, recipient(Int), data
    }

    public let configuration: SMTPClientConfiguration
    public let sender: SMTPReversePath
    /// The report so far; complete once `isFinished`.
    public internal(set) var report: SMTPDeliveryReport
    /// What the server announced in its last EHLO reply.
    public internal(set) var extensions = SMTPServerExtensions()
    /// Whether the session runs over TLS.
    public internal(set) var tlsActive = false

    var step: Step = .greeting
    var parser: SMTPReplyParser
    var pending: [Pending] = []
    var pipelining = false
    var acceptedCount = 0
    /// The message was answered with a lone "." because no recipient was accepted.
    var messageWithdrawn = false
    let canonicalMessage: [UInt8]
    let eightBit: Bool

    /// A session that will send `message` (RFC 5322 bytes; line endings are made CRLF)
    /// from `sender` to `recipients`.
    public init(configuration: SMTPClientConfiguration, sender: SMTPReversePath, recipients: [SMTPMailbox],
                message: some Collection<UInt8>) {
        self.configuration = configuration
        self.sender = sender
        self.report = SMTPDeliveryReport(recipients: recipients.map { ($0, .notAttempted) })
        self.parser = SMTPReplyParser(maxLineLength: configuration.maxReplyLineLength,
                                      maxLines: configuration.maxReplyLines)
        self.canonicalMessage = SMTPDotStuffer.canonical(message)
        self.eightBit = canonicalMessage.contains(where: { $0 >= 0x80 })
    }

    /// Whether the session is over.
    public var isFinished: Bool { step == .done }

    /// Whether the session waits for the driver's TLS handshake.
    public var isAwaitingTLS: Bool { step == .awaitingTLS }

    /// The size of the message as declared with SIZE, CRLF line endings included.
    public var messageSize: Int { canonicalMessage.count }

    /// Processes bytes from the server and returns what the driver must do.
    public mutating func receive(_ bytes: some Collection<UInt8>) -> [SMTPClientAction] {
        var actions: [SMTPClientAction] = []
        var input = ArraySlice(bytes)
        while step != .done && step != .awaitingTLS {
            let reply: SMTPReply?
            do {
                reply = try parser.nextReply(from: &input)
            } catch {
                fail(.protocolError, reply: nil, reason: "The server's reply could not be read: \(error)")
                finish(&actions)
                break
            }
            guard let reply else { break }
            handle(reply, &actions)
        }
        if step == .awaitingTLS { parser.reset() }
        return actions
    }

    /// The TLS handshake after STARTTLS succeeded: greet again over TLS.
    public mutating func tlsEstablished() -> [SMTPClientAction] {
        precondition(step == .awaitingTLS, "tlsEstablished without a STARTTLS")
        tlsActive = true
        parser.reset()
        extensions = SMTPServerExtensions()
        step = .ehlo
        return [.send(line("EHLO \(configuration.heloName)"))]
    }

    /// The connection ended (or the driver gave up on it); returns the final report.
    public mutating func connectionClosed() -> SMTPDeliveryReport {
        if step != .done {
            let complete = report.messageReply?.isCompletion == true && report.failure == nil
            if !complete {
                fail(.connectionLost, reply: nil, reason: "The connection ended before the server answered")
            }
            step = .done
        }
        return report
    }

    // MARK: Replies

    mutating func handle(_ reply: SMTPReply, _ actions: inout [SMTPClientAction]) {
        // RFC 5321 §3.8: 421 may come at any time; the server closes the connection.
        if reply.code == 421 && step != .quit {
            fail(.serviceClosing, reply: reply, reason: "The server is closing the connection")
            finish(&actions)
            return
        }
        switch step {
        case .greeting:
            guard reply.code == 220 else {
                return failAndQuit(.greetingRefused, reply, "The server refused the connection", &actions)
            }
            step = .ehlo
            actions.append(.send(line("EHLO \(configuration.heloName)")))
        case .ehlo:
            if reply.isCompletion {
                extensions = SMTPServerExtensions(ehloReply: reply)
                afterHello(&actions)
            } else if reply.isPermanentFailure && !tlsActive {
                // RFC 5321 §3.2: a server that does not know EHLO gets HELO.
                step = .helo
                actions.append(.send(line("HELO \(configuration.heloName)")))
            } else {
                failAndQuit(.helloRefused, reply, "The server refused EHLO", &actions)
            }
        case .helo:
            guard reply.isCompletion else {
                return failAndQuit(.helloRefused, reply, "The server refused HELO", &actions)
            }
            extensions = SMTPServerExtensions()
            afterHello(&actions)
        case .startTLS:
            if reply.code == 220 {
                step = .awaitingTLS
                actions.append(.startTLS)
            } else if configuration.requireTLS {
                failAndQuit(.tlsRefused, reply, "The server refused STARTTLS and TLS is required", &actions)
            } else {
                beginTransaction(&actions)
            }
        case .transaction:
            transactionReply(reply, &actions)
        case .message:
            if !messageWithdrawn {
                report.messageReply = reply
                if !reply.isCompletion {
                    fail(.messageRefused, reply: reply, reason: "The server refused the message")
                }
            }
            quit(&actions)
        case .quit:
            finish(&actions)
        case .awaitingTLS, .done:
            break
        }
    }

    mutating func afterHello(_ actions: inout [SMTPClientAction]) {
        if !tlsActive && configuration.tlsAvailable && extensions.has("STARTTLS") {
            step = .startTLS
            actions.append(.send(line("STARTTLS")))
        } else if configuration.requireTLS && !tlsActive {
            failAndQuit(.tlsNotOffered, nil, "TLS is required but the server does not offer STARTTLS", &actions)
        } else {
            beginTransaction(&actions)
        }
    }

    // MARK: Helpers

    func line(_ text: String) -> [UInt8] {
        Array(text.utf8) + [0x0D, 0x0A]
    }

    mutating func fail(_ kind: SMTPClientFailure.Kind, reply: SMTPReply?, reason: String) {
        guard report.failure == nil else { return }
        report.failure = SMTPClientFailure(kind, reply: reply, reason: reason)
    }

    mutating func failAndQuit(_ kind: SMTPClientFailure.Kind, _ reply: SMTPReply?, _ reason: String,
                              _ actions: inout [SMTPClientAction]) {
        fail(kind, reply: reply, reason: reason)
        quit(&actions)
    }

    mutating func quit(_ actions: inout [SMTPClientAction]) {
        step = .quit
        actions.append(.send(line("QUIT")))
    }

    mutating func finish(_ actions: inout [SMTPClientAction]) {
        step = .done
        actions.append(.finished(report))
    }
}
