@testable import SEMTransport
import Testing

@Suite("SMTP server session")
struct SMTPServerSessionTests {
    static let config = SMTPServerConfiguration(hostname: "mx.example.org", maxMessageSize: 1000)

    func makeSession(_ config: SMTPServerConfiguration = config) -> SMTPServerSession {
        SMTPServerSession(configuration: config, peer: "192.0.2.7:5000")
    }

    @Test("a pipelined session delivers the message with the envelope to the hooks")
    func normalPipelinedSession() {
        var session = makeSession()
        var hooks = RecordingHooks()
        #expect(replies(session.greeting()) == ["220 mx.example.org ESMTP ready\r\n"])
        let turns = runTranscript([
            Turn("EHLO client.example\r\n", ["250-mx.example.org"]),
            Turn("MAIL FROM:<alice@Client.Example> SIZE=40 BODY=8BITMIME\r\nRCPT TO:<bob@mx.example.org>\r\n"
                 + "RCPT TO:<carol@mx.example.org>\r\nDATA\r\n",
                 ["250 2.1.0", "250 2.1.5", "250 2.1.5", "354 "]),
            Turn("Subject: hi\r\n\r\n..dot line\r\nbody\r\n.\r\n", ["250 2.0.0 queued as T1"]),
            Turn("QUIT\r\n", ["221 2.0.0"]),
        ], session: &session, hooks: &hooks)
        #expect(turns.last?.last == .close)
        #expect(session.isClosed)
        #expect(String(decoding: hooks.message, as: UTF8.self) == "Subject: hi\r\n\r\n.dot line\r\nbody\r\n")
        #expect(hooks.events.count == 5)
        if case .mail(let sender, let info) = hooks.events.first {
            #expect(sender == "<alice@client.example>")
            #expect(info.clientName == "client.example")
            #expect(info.extended && !info.tlsActive && info.peer == "192.0.2.7:5000")
        } else {
            Issue.record("first hook call was \(String(describing: hooks.events.first))")
        }
        #expect(hooks.events.last == .end(["bob@mx.example.org", "carol@mx.example.org"]))
    }

    @Test("the EHLO reply lists the extensions and STARTTLS only while TLS is possible and not active")
    func ehloKeywords() {
        var session = makeSession()
        var hooks = RecordingHooks()
        let ehlo = replies(session.receive(bytes("EHLO c.example\r\n"), hooks: &hooks))
        #expect(ehlo == ["250-mx.example.org greets c.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
                         + "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"])
        _ = session.receive(bytes("STARTTLS\r\n"), hooks: &hooks)
        session.tlsEstablished(peerIdentity: nil)
        let again = replies(session.receive(bytes("EHLO c.example\r\n"), hooks: &hooks))
        #expect(again.count == 1 && !again[0].contains("STARTTLS") && again[0].contains("250 ENHANCEDSTATUSCODES"))

        var noTLS = makeSession(SMTPServerConfiguration(hostname: "mx.example.org", tlsAvailable: false))
        #expect(!(replies(noTLS.receive(bytes("EHLO c.example\r\n"), hooks: &hooks)).first ?? "").contains("STARTTLS"))
        #expect(replies(noTLS.receive(bytes("STARTTLS\r\n"), hooks: &hooks)).first?.hasPrefix("502 5.5.1") == true)
        #expect(replies(noTLS.receive(bytes("HELO c.example\r\n"), hooks: &hooks)) == ["250 mx.example.org\r\n"])
    }

    @Test("input pipelined after STARTTLS is discarded and the session starts over after the handshake")
    func startTLSInjection() {
        var session = makeSession()
        var hooks = RecordingHooks()
        runTranscript([Turn("EHLO c.example\r\n", ["250-"])], session: &session, hooks: &hooks)
        let actions = session.receive(bytes("STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<x@y.example>\r\n"),
                                      hooks: &hooks)
        #expect(actions == [.send(SMTPReply(code: 220, enhanced: "2.0.0", text: "Ready to start TLS")), .startTLS])
        #expect(session.isAwaitingTLS)
        // Plaintext that arrives before the handshake completes is ignored too.
        #expect(session.receive(bytes("MAIL FROM:<evil@attacker.example>\r\n"), hooks: &hooks).isEmpty)
        session.tlsEstablished(peerIdentity: "CN=mx.client.example")
        #expect(hooks.events.isEmpty)
        runTranscript([
            Turn("MAIL FROM:<a@c.example>\r\n", ["503 5.5.1"]),
            Turn("EHLO c.example\r\n", ["250-"]),
            Turn("STARTTLS\r\n", ["503 5.5.1"]),
            Turn("MAIL FROM:<a@c.example>\r\n", ["250 2.1.0"]),
        ], session: &session, hooks: &hooks)
        if case .mail(_, let info) = hooks.events.first {
            #expect(info.tlsActive && info.peerIdentity == "CN=mx.client.example")
        } else {
            Issue.record("MAIL did not reach the hooks")
        }
    }

    @Test("a partial line before STARTTLS does not join the first line after the handshake")
    func startTLSPartialLine() {
        var session = makeSession()
        var hooks = RecordingHooks()
        _ = session.receive(bytes("EHLO c.example\r\nSTARTTLS\r\nMAIL FR"), hooks: &hooks)
        session.tlsEstablished(peerIdentity: nil)
        runTranscript([Turn("OM:<a@c.example>\r\n", ["500 5.5.1"])], session: &session, hooks: &hooks)
    }

    @Test("MAIL before STARTTLS is refused with 530 when TLS is required")
    func requireTLS() {
        var session = makeSession(SMTPServerConfiguration(hostname: "mx.example.org", requireTLS: true))
        var hooks = RecordingHooks()
        runTranscript([
            Turn("EHLO c.example\r\n", ["250-"]),
            Turn("MAIL FROM:<a@c.example>\r\n", ["530 5.7.0 Must issue a STARTTLS command first"]),
            Turn("STARTTLS\r\n", ["220 2.0.0"]),
        ], session: &session, hooks: &hooks)
        session.tlsEstablished(peerIdentity: nil)
        runTranscript([
            Turn("EHLO c.example\r\n", ["250-"]),
            Turn("MAIL FROM:<a@c.example>\r\n", ["250 2.1.0"]),
        ], session: &session, hooks: &hooks)
    }

    @Test("a declared or actual size over the limit is refused with 552 5.3.4")
    func sizeLimits() {
        var session = makeSession()
        var hooks = RecordingHooks()
        let big = String(repeating: "x", count: 900)
        runTranscript([
            Turn("EHLO c.example\r\n", ["250-"]),
            Turn("MAIL FROM:<a@c.example> SIZE=1001\r\n", ["552 5.3.4"]),
            Turn("MAIL FROM:<a@c.example> SIZE=999\r\nRCPT TO:<b@mx.example.org>\r\nDATA\r\n",
                 ["250 2.1.0", "250 2.1.5", "354"]),
            Turn("\(big)\r\n\(big)\r\n\(big)\r\n", []),
            Turn(".\r\n", ["552 5.3.4"]),
            Turn("MAIL FROM:<a@c.example>\r\n", ["250 2.1.0"]),
        ], session: &session, hooks: &hooks)
        #expect(hooks.events.contains(.abort(.tooLarge)))
        #expect(!hooks.events.contains(where: { if case .end = $0 { true } else { false } }))
        #expect(hooks.message.count <= 1000)
    }

    @Test("after the configured number of errors the session answers 421 and closes")
    func tooManyErrors() {
        var session = makeSession(SMTPServerConfiguration(hostname: "mx.example.org", maxErrors: 3))
        var hooks = RecordingHooks()
        let actions = runTranscript([
            Turn("FOO\r\n", ["500 5.5.1"]),
            Turn("BAR\r\nBAZ\r\nNOOP\r\n", ["500 5.5.1", "500 5.5.1", "421 4.7.0"]),
        ], session: &session, hooks: &hooks)
        #expect(actions[1].last == .close)
        #expect(session.isClosed)
        #expect(session.receive(bytes("NOOP\r\n"), hooks: &hooks).isEmpty)
    }

    @Test("VRFY and EXPN are refused, HELP, NOOP and RSET answer")
    func refusedAndHousekeepingCommands() {
        var session = makeSession()
        var hooks = RecordingHooks()
        runTranscript([
            Turn("VRFY bob\r\n", ["502 5.5.1 VRFY is disabled"]),
            Turn("EXPN staff\r\n", ["502 5.5.1 EXPN is disabled"]),
            Turn("HELP\r\nNOOP anything\r\nRSET\r\n", ["214 2.0.0", "250 2.0.0", "250 2.0.0"]),
            Turn("RSET now\r\n", ["501 5.5.4"]),
        ], session: &session, hooks: &hooks)
    }

    @Test("commands out of sequence are refused with 503, DATA without accepted recipients with 554")
    func badSequence() {
        var session = makeSession()
        var hooks = RecordingHooks()
        hooks.rejectRecipients = ["nobody@mx.example.org"]
        runTranscript([
            Turn("MAIL FROM:<a@c.example>\r\n", ["503 5.5.1"]),
            Turn("EHLO c.example\r\n", ["250-"]),
            Turn("RCPT TO:<b@mx.example.org>\r\n", ["503 5.5.1"]),
            Turn("DATA\r\n", ["503 5.5.1"]),
            Turn("MAIL FROM:<a@c.example>\r\nMAIL FROM:<a@c.example>\r\n", ["250 2.1.0", "503 5.5.1"]),
            Turn("RCPT TO:<nobody@mx.example.org>\r\nDATA\r\n", ["550 5.1.1 No such user here", "554 5.5.1"]),
            Turn("RSET\r\nRCPT TO:<b@mx.example.org>\r\n", ["250 2.0.0", "503 5.5.1"]),
        ], session: &session, hooks: &hooks)
    }

    @Test("syntax errors in commands and parameters get the specific codes", arguments: [
        ("MAIL FROM:<not an address>", "501 5.1.7"),
        ("MAIL FROM:alice@c.example", "501 5.1.7"),
        ("MAIL TO:<alice@c.example>", "501 5.5.4"),
        ("MAIL FROM:<a@c.example> SIZE=12x", "501 5.5.4"),
        ("MAIL FROM:<a@c.example> SIZE=1 SIZE=2", "501 5.5.4"),
        ("MAIL FROM:<a@c.example> BODY=BINARYMIME", "501 5.5.4"),
        ("MAIL FROM:<a@c.example> ENVID=x", "555 5.5.4"),
        ("MAIL FROM:<a@c.example>SIZE=1", "501 5.5.4"),
        ("MAIL FROM:<>", "250 2.1.0"),
        ("MAIL FROM: <a@c.example>", "250 2.1.0"),
        ("mail from:<\"john doe\"@c.example> size=10 body=7bit", "250 2.1.0"),
        ("MAIL FROM:<@relay.example,@r2.example:a@c.example>", "250 2.1.0"),
        ("EHLO", "501 5.5.4"),
        ("EHLO bad_name!", "501 5.5.4"),
        ("BDAT 10 LAST", "500 5.5.1"),
        ("", "500 5.5.2"),
        ("NOOP\tx", "500 5.5.2"),
    ])
    func syntaxErrors(line: String, want: String) {
        var session = makeSession()
        var hooks = RecordingHooks()
        runTranscript([Turn("EHLO c.example\r\n", ["250-"]), Turn(line + "\r\n", [want])],
                      session: &session, hooks: &hooks)
    }

    @Test("recipient syntax: bad addresses get 501 5.1.3 and the bare Postmaster is accepted")
    func recipientSyntax() {
        var session = makeSession()
        var hooks = RecordingHooks()
        runTranscript([
            Turn("EHLO c.example\r\nMAIL FROM:<a@c.example>\r\n", ["250-", "250 2.1.0"]),
            Turn("RCPT TO:<b@@mx.example.org>\r\n", ["501 5.1.3"]),
            Turn("RCPT TO:<b@mx..example.org>\r\n", ["501 5.1.3"]),
            Turn("RCPT TO:<b@mx.example.org> NOTIFY=NEVER\r\n", ["555 5.5.4"]),
            Turn("RCPT TO:<Postmaster>\r\n", ["250 2.1.5"]),
        ], session: &session, hooks: &hooks)
        #expect(hooks.events.last == .recipient("postmaster@mx.example.org"))
    }

    @Test("more recipients than allowed are answered 452 4.5.3")
    func tooManyRecipients() {
        var session = makeSession(SMTPServerConfiguration(hostname: "mx.example.org", maxRecipients: 2))
        var hooks = RecordingHooks()
        runTranscript([
            Turn("EHLO c.example\r\nMAIL FROM:<a@c.example>\r\n", ["250-", "250 2.1.0"]),
            Turn("RCPT TO:<b1@mx.example.org>\r\nRCPT TO:<b2@mx.example.org>\r\nRCPT TO:<b3@mx.example.org>\r\n",
                 ["250 2.1.5", "250 2.1.5", "452 4.5.3"]),
        ], session: &session, hooks: &hooks)
    }

    @Test("bare LF, bare CR and NUL in a command line are refused with 500 5.5.2")
    func commandLineFaults() {
        var session = makeSession()
        var hooks = RecordingHooks()
        runTranscript([
            Turn("EHLO c.example\n", ["500 5.5.2"]),
            Turn("NOOP\rx\r\n", ["500 5.5.2"]),
            Turn("NOOP \u{0}\r\n", ["500 5.5.2"]),
            Turn("EHLO c.example\r\n", ["250-"]),
        ], session: &session, hooks: &hooks)
    }

    @Test("an overlong command line is refused and the next command is read normally")
    func overlongCommandLine() {
        for feeding in Feeding.all {
            var session = makeSession()
            var hooks = RecordingHooks()
            var got: [String] = []
            let input = "NOOP " + String(repeating: "a", count: 5000) + "\r\nNOOP\r\n"
            for piece in feeding.pieces(bytes(input)) {
                got += replies(session.receive(piece, hooks: &hooks))
            }
            #expect(got == ["500 5.5.2 Line too long\r\n", "250 2.0.0 OK\r\n"], "\(feeding)")
        }
        // 512 octets with CRLF is still a command line; 513 is not.
        var session = makeSession()
        var hooks = RecordingHooks()
        let fits = "NOOP " + String(repeating: "a", count: 505) + "\r\n"
        let over = "NOOP " + String(repeating: "a", count: 506) + "\r\n"
        runTranscript([Turn(fits, ["250 2.0.0"]), Turn(over, ["500 5.5.2"])], session: &session, hooks: &hooks)
    }

    @Test("data ends only at CRLF.CRLF and a bare LF gets the message refused without smuggling")
    func smugglingAttemptInData() {
        var session = makeSession()
        var hooks = RecordingHooks()
        runTranscript([
            Turn("EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@mx.example.org>\r\nDATA\r\n",
                 ["250-", "250 2.1.0", "250 2.1.5", "354"]),
            Turn("hello\n.\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<b@mx.example.org>\r\nDATA\r\nsmuggled\r\n",
                 []),
            Turn("\r\n.\r\n", ["550 5.6.0"]),
        ], session: &session, hooks: &hooks)
        #expect(hooks.events.filter { if case .mail = $0 { true } else { false } }.count == 1)
        #expect(hooks.events.last == .abort(.bareLineEnding))
    }

    @Test("NUL, bare CR and overlong lines in DATA refuse the message with 550 5.6.0", arguments: [
        ("a\u{0}b\r\n", SMTPMessageFault.nul),
        ("a\rb\r\n", .bareLineEnding),
        (String(repeating: "x", count: 999) + "\r\n", .lineTooLong),
    ])
    func dataFaults(body: String, fault: SMTPMessageFault) {
        var session = makeSession(SMTPServerConfiguration(hostname: "mx.example.org"))
        var hooks = RecordingHooks()
        runTranscript([
            Turn("EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@mx.example.org>\r\nDATA\r\n",
                 ["250-", "250 2.1.0", "250 2.1.5", "354"]),
            Turn("ok line\r\n" + body + ".\r\n", ["550 5.6.0"]),
            Turn("NOOP\r\n", ["250 2.0.0"]),
        ], session: &session, hooks: &hooks)
        #expect(hooks.events.last == .abort(fault))
    }

    @Test("dot-unstuffing removes exactly one leading dot and a 998-octet line is accepted")
    func dotUnstuffing() {
        var session = makeSession(SMTPServerConfiguration(hostname: "mx.example.org"))
        var hooks = RecordingHooks()
        let longest = String(repeating: "y", count: 998)
        runTranscript([
            Turn("EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<b@mx.example.org>\r\nDATA\r\n",
                 ["250-", "250 2.1.0", "250 2.1.5", "354"]),
            Turn("..\r\n...\r\n.x\r\n\(longest)\r\n\r\n.\r\n", ["250 2.0.0"]),
        ], session: &session, hooks: &hooks)
        #expect(String(decoding: hooks.message, as: UTF8.self) == ".\r\n..\r\nx\r\n\(longest)\r\n\r\n")
    }

    @Test("hook decisions shape the replies; a 421 closes and a faulty code is made safe")
    func hookDecisions() {
        var session = makeSession()
        var hooks = RecordingHooks()
        hooks.rejectSenders = ["<spam@c.example>"]
        hooks.beginDecision = .reject(code: 554, enhanced: "5.7.1", text: "Not now\r\n250 fake")
        runTranscript([
            Turn("EHLO c.example\r\nMAIL FROM:<spam@c.example>\r\n", ["250-", "550 5.7.1 Sender not authorised"]),
            Turn("MAIL FROM:<a@c.example>\r\nRCPT TO:<b@mx.example.org>\r\nDATA\r\n",
                 ["250 2.1.0", "250 2.1.5", "554 5.7.1 Not now  250 fake\r\n"]),
        ], session: &session, hooks: &hooks)
        #expect(SMTPDecision.reject(code: 250, enhanced: "2.0.0", text: "x")
                 == .reject(code: 451, enhanced: "4.3.0", text: "x"))
        #expect(SMTPDecision.reject(code: 550, enhanced: "4.1.1", text: "x")
                 == .reject(code: 550, enhanced: "5.0.0", text: "x"))

        var closing = makeSession()
        var closingHooks = RecordingHooks()
        closingHooks.mailDecision = .reject(code: 421, enhanced: "4.3.2", text: "Shutting down")
        let actions = runTranscript([Turn("EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nNOOP\r\n", ["250-", "421 4.3.2"])],
                                    session: &closing, hooks: &closingHooks)
        #expect(actions[0].last == .close && closing.isClosed)
    }

    @Test("message pieces have fixed boundaries whatever the input splits", arguments: Feeding.all)
    func splitInvariance(feeding: Feeding) {
        let config = SMTPServerConfiguration(hostname: "mx.example.org", messageChunkSize: 16)
        let input = "EHLO c.example\r\nVRFY x\r\nMAIL FROM:<a@c.example> SIZE=10\r\nRCPT TO:<b@mx.example.org>\r\n"
            + "RCPT TO:<bad@@x>\r\nDATA\r\nFrom: a@c.example\r\n\r\n..one\r\ntwo two two two two\r\n.\r\n"
            + "NOOP\nNOOP\r\nQUIT\r\nNOOP\r\n"
        var reference = makeSession(config)
        var referenceHooks = RecordingHooks()
        let want = reference.receive(bytes(input), hooks: &referenceHooks)

        var session = makeSession(config)
        var hooks = RecordingHooks()
        var got: [SMTPServerAction] = []
        for piece in feeding.pieces(bytes(input)) {
            got += session.receive(piece, hooks: &hooks)
        }
        #expect(got == want)
        #expect(got.count == 11 && got.last == .close)
        #expect(hooks.chunks == referenceHooks.chunks)
        #expect(hooks.chunks.allSatisfy { $0.count <= 16 } && hooks.chunks.count == 3)
        #expect(hooks.events == referenceHooks.events)
    }

    @Test("a connection closed during DATA aborts the message")
    func closeDuringData() {
        var session = makeSession()
        var hooks = RecordingHooks()
        runTranscript([Turn("EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@mx.example.org>\r\nDATA\r\npart",
                            ["250-", "250 2.1.0", "250 2.1.5", "354"])], session: &session, hooks: &hooks)
        session.connectionClosed(hooks: &hooks)
        #expect(hooks.events.last == .abort(.connectionClosed))
        #expect(session.isClosed)
    }

    @Test("replies are formatted with continuation lines and enhanced codes on every line")
    func replyFormatting() {
        let reply = SMTPReply(code: 550, enhanced: "5.7.1", lines: ["first", "second", ""])
        #expect(String(decoding: reply.encoded, as: UTF8.self) == "550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1\r\n")
        #expect(String(decoding: SMTPReply(code: 220, text: "hi").encoded, as: UTF8.self) == "220 hi\r\n")
        #expect(SMTPReply.isEnhancedCode("2.1.5") && SMTPReply.isEnhancedCode("5.7.123"))
        #expect(!SMTPReply.isEnhancedCode("3.1.5") && !SMTPReply.isEnhancedCode("5.7") && !SMTPReply.isEnhancedCode("5.1234.1"))
    }
}
