// The SMTP server session (RFC 5321) as a pure state machine.
//
// The driver owns the socket. It sends the greeting from `greeting()`, passes every read
// to `receive(_:hooks:)` and performs the returned actions in order: write a reply, start
// TLS, close. Replies to pipelined commands (RFC 2920) come back together, in command
// order, and may be written with one write.
//
// States: greeted → EHLO/HELO → [MAIL → RCPT… → DATA → message] … → QUIT. STARTTLS
// (RFC 3207) returns "220 2.0.0" and the `startTLS` action; everything that followed the
// STARTTLS line in the same read, and any partial line, is discarded, so that plaintext
// sent before the handshake can never be read as a command after it (the CVE-2011-0411
// class of injection). After `tlsEstablished(peerIdentity:)` the session forgets the
// client's greeting and starts again from "greeted" (RFC 3207 §4.2).
//
// Every negative reply counts as an error, policy refusals of the hooks included (this
// also slows down address harvesting). When the count reaches `maxErrors` the session
// answers 421 4.7.0 and closes.
//
// Not supported: AUTH, BDAT/CHUNKING, SMTPUTF8, DSN parameters. VRFY and EXPN are
// refused with 502 5.5.1 so that the server discloses no addresses.

/// One SMTP server conversation, from greeting to close.
public struct SMTPServerSession: Sendable {
    enum Phase: Sendable, Equatable {
        /// Greeted; waiting for EHLO or HELO.
        case greeted
        /// EHLO or HELO done; transactions may start.
        case ready
        /// 220 to STARTTLS sent; waiting for the driver's handshake.
        case awaitingTLS
        /// QUIT, 421 or too many errors; all further input is ignored.
        case closed
    }

    /// Receiving the message after 354.
    struct MessageState: Sendable {
        var size: Int64 = 0
        var fault: SMTPMessageFault?
        /// Whether the previous line ended in CRLF; only then can "." end the data.
        var previousEndedWithCRLF = true
        /// Unstuffed bytes not yet handed to the hooks (less than one chunk plus a line).
        var pending: [UInt8] = []
    }

    public let configuration: SMTPServerConfiguration
    /// What the session knows about the client; handed to every hook.
    public internal(set) var info: SMTPSessionInfo

    var phase: Phase = .greeted
    var envelope: SMTPEnvelope?
    var message: MessageState?
    var reader: SMTPLineReader
    var errorCount = 0

    /// A session for a connection from `peer` (an opaque value handed to the hooks).
    public init(configuration: SMTPServerConfiguration, peer: String) {
        precondition(configuration.maxCommandLineLength >= 512, "RFC 5321 §4.5.3.1.4 requires at least 512")
        precondition(configuration.maxDataLineLength >= 1000, "RFC 5321 §4.5.3.1.6 requires at least 1000")
        precondition(configuration.messageChunkSize > 0 && configuration.maxErrors > 0)
        self.configuration = configuration
        self.info = SMTPSessionInfo(peer: peer)
        self.reader = SMTPLineReader(limit: configuration.maxCommandLineLength)
    }

    /// Whether the session has ended; the driver closes the connection.
    public var isClosed: Bool { phase == .closed }

    /// Whether the session waits for the TLS handshake.
    public var isAwaitingTLS: Bool { phase == .awaitingTLS }

    /// The opening reply (RFC 5321 §4.2: 220, no enhanced code).
    public func greeting() -> [SMTPServerAction] {
        [.send(SMTPReply(code: 220, text: "\(configuration.hostname) ESMTP ready"))]
    }

    /// Processes input from the client and returns what the driver must do. The result
    /// does not depend on how the input is split across calls.
    public mutating func receive(_ bytes: some Collection<UInt8>, hooks: inout some SMTPServerHooks) -> [SMTPServerAction] {
        var actions: [SMTPServerAction] = []
        var input = ArraySlice(bytes)
        while phase == .greeted || phase == .ready, let line = reader.nextLine(from: &input) {
            if message != nil {
                dataLine(line, actions: &actions, hooks: &hooks)
            } else {
                commandLine(line, actions: &actions, hooks: &hooks)
            }
        }
        // Whatever followed STARTTLS or the end of the session is not read at all.
        if phase == .awaitingTLS || phase == .closed { reader.reset() }
        return actions
    }

    /// The TLS handshake after STARTTLS succeeded. The session starts over from the
    /// greeting: the client must send EHLO again (RFC 3207 §4.2).
    public mutating func tlsEstablished(peerIdentity: String?) {
        precondition(phase == .awaitingTLS, "tlsEstablished without a STARTTLS")
        reader = SMTPLineReader(limit: configuration.maxCommandLineLength)
        envelope = nil
        message = nil
        info.clientName = nil
        info.extended = false
        info.tlsActive = true
        info.peerIdentity = peerIdentity
        phase = .greeted
    }

    /// The connection ended (or the driver gave up on it). A message being received is
    /// reported to the hooks as aborted.
    public mutating func connectionClosed(hooks: inout some SMTPServerHooks) {
        if message != nil, let envelope {
            hooks.messageAbort(envelope: envelope, fault: .connectionClosed)
        }
        message = nil
        envelope = nil
        phase = .closed
    }

    // MARK: Replies and the error limit

    /// Queues a reply; counts errors and closes on 421 or when the limit is reached.
    mutating func reply(_ reply: SMTPReply, _ actions: inout [SMTPServerAction]) {
        actions.append(.send(reply))
        if reply.code == 421 {
            actions.append(.close)
            phase = .closed
            return
        }
        guard reply.code >= 400 else { return }
        errorCount += 1
        if errorCount >= configuration.maxErrors {
            actions.append(.send(SMTPReply(code: 421, enhanced: "4.7.0",
                                           text: "\(configuration.hostname) Too many errors, closing connection")))
            actions.append(.close)
            phase = .closed
        }
    }

    // MARK: Commands

    mutating func commandLine(_ line: SMTPLine, actions: inout [SMTPServerAction], hooks: inout some SMTPServerHooks) {
        if let fault = line.fault {
            let text = switch fault {
            case .tooLong: "Line too long"
            case .bareLineFeed, .bareCarriageReturn: "Bare CR or LF; command lines must end with CRLF"
            case .nul: "NUL octets are not allowed in commands"
            }
            reply(SMTPReply(code: 500, enhanced: "5.5.2", text: text), &actions)
            return
        }
        let command: SMTPCommand
        switch SMTPCommand.parse(line.content, postmasterDomain: configuration.hostname) {
        case .failure(let error):
            reply(error.reply, &actions)
            return
        case .success(let parsed):
            command = parsed
        }

        switch command {
        case .ehlo(let name), .helo(let name):
            let extended = if case .ehlo = command { true } else { false }
            resetTransaction()
            info.clientName = name
            info.extended = extended
            phase = .ready
            reply(extended ? ehloReply(name) : SMTPReply(code: 250, text: configuration.hostname), &actions)
        case .mail(let sender, let parameters):
            mail(sender, parameters, actions: &actions, hooks: &hooks)
        case .rcpt(let mailbox):
            recipient(mailbox, actions: &actions, hooks: &hooks)
        case .data:
            data(actions: &actions, hooks: &hooks)
        case .rset:
            resetTransaction()
            reply(SMTPReply(code: 250, enhanced: "2.0.0", text: "OK"), &actions)
        case .noop:
            reply(SMTPReply(code: 250, enhanced: "2.0.0", text: "OK"), &actions)
        case .quit:
            resetTransaction()
            actions.append(.send(SMTPReply(code: 221, enhanced: "2.0.0", text: "\(configuration.hostname) closing connection")))
            actions.append(.close)
            phase = .closed
        case .vrfy:
            reply(SMTPReply(code: 502, enhanced: "5.5.1", text: "VRFY is disabled"), &actions)
        case .expn:
            reply(SMTPReply(code: 502, enhanced: "5.5.1", text: "EXPN is disabled"), &actions)
        case .help:
            reply(SMTPReply(code: 214, enhanced: "2.0.0",
                            text: "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS HELP"), &actions)
        case .startTLS:
            startTLS(&actions)
        }
    }

    func ehloReply(_ clientName: String) -> SMTPReply {
        // RFC 2034 §4: no enhanced code in the EHLO reply. Keywords: RFC 2920, 1870,
        // 6152, 2034, 3207.
        var lines = ["\(configuration.hostname) greets \(clientName)", "PIPELINING",
                     "SIZE \(configuration.maxMessageSize)", "8BITMIME", "ENHANCEDSTATUSCODES"]
        if configuration.tlsAvailable && !info.tlsActive { lines.append("STARTTLS") }
        return SMTPReply(code: 250, lines: lines)
    }

    mutating func startTLS(_ actions: inout [SMTPServerAction]) {
        if info.tlsActive {
            reply(SMTPReply(code: 503, enhanced: "5.5.1", text: "TLS already active"), &actions)
        } else if !configuration.tlsAvailable {
            reply(SMTPReply(code: 502, enhanced: "5.5.1", text: "STARTTLS not available"), &actions)
        } else if envelope != nil {
            reply(SMTPReply(code: 503, enhanced: "5.5.1", text: "STARTTLS not allowed during a mail transaction"), &actions)
        } else {
            actions.append(.send(SMTPReply(code: 220, enhanced: "2.0.0", text: "Ready to start TLS")))
            actions.append(.startTLS)
            phase = .awaitingTLS
        }
    }

    /// Ends the current transaction, if any (RSET, EHLO, QUIT; RFC 5321 §4.1.1.5).
    mutating func resetTransaction() {
        envelope = nil
    }
}
