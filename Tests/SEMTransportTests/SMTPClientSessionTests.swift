@testable import SEMTransport
import Testing

@Suite("SMTP client session")
struct SMTPClientSessionTests {
    static let bob = SMTPMailbox("bob@mx.example.org")!
    static let carol = SMTPMailbox("carol@mx.example.org")!
    static let dave = SMTPMailbox("dave@mx.example.org")!
    static let alice = SMTPReversePath.mailbox(SMTPMailbox("alice@client.example")!)
    static let message = bytes("From: alice@client.example\r\nSubject: test\r\n\r\n.leading dot\r\n..two\r\nend\r\n")

    func makeClient(requireTLS: Bool = true, tlsAvailable: Bool = true, recipients: [SMTPMailbox] = [bob, carol, dave],
                    message: [UInt8] = message) -> SMTPClientSession {
        SMTPClientSession(configuration: SMTPClientConfiguration(heloName: "mx.client.example", tlsAvailable: tlsAvailable,
                                                                 requireTLS: requireTLS),
                          sender: Self.alice, recipients: recipients, message: message)
    }

    /// Feeds scripted server text and returns the client's writes as text plus its actions.
    func exchange(_ client: inout SMTPClientSession, _ serverText: String) -> (sent: String, actions: [SMTPClientAction]) {
        let actions = client.receive(bytes(serverText))
        let sent = actions.compactMap { action -> String? in
            if case .send(let data) = action { return String(decoding: data, as: UTF8.self) }
            return nil
        }.joined()
        return (sent, actions)
    }

    @Test("client and server in memory: STARTTLS, pipelining, one refused recipient, exact message delivered")
    func wiredWithRejectedRecipient() throws {
        var hooks = RecordingHooks()
        hooks.rejectRecipients = ["carol@mx.example.org"]
        var wire = SMTPWire(server: SMTPServerSession(configuration: SMTPServerConfiguration(hostname: "mx.example.org",
                                                                                               requireTLS: true),
                                                      peer: "198.51.100.2:40000"),
                            client: makeClient(), hooks: hooks)
        let report = wire.run()

        #expect(report.delivered)
        #expect(report.failure == nil)
        #expect(report.messageReply?.code == 250 && report.messageReply?.text == "queued as T1")
        try #require(report.recipients.count == 3)
        #expect(report.recipients[0].status == .accepted(SMTPReply(code: 250, enhanced: "2.1.5", text: "Recipient OK")))
        #expect(report.recipients[1].status == .rejected(SMTPReply(code: 550, enhanced: "5.1.1", text: "No such user here")))
        #expect(report.deliveredRecipients == [Self.bob, Self.dave])
        #expect(wire.hooks.message == Self.message)
        #expect(wire.hooks.events.last == .end(["bob@mx.example.org", "dave@mx.example.org"]))
        if case .mail(_, let info) = wire.hooks.events.first {
            #expect(info.tlsActive && info.peerIdentity == "CN=mx.client.example" && info.clientName == "mx.client.example")
        }
        #expect(wire.client.tlsActive)
        // MAIL, the three RCPTs and DATA went out in one write (RFC 2920).
        let group = wire.clientWrites.map { String(decoding: $0, as: UTF8.self) }.first { $0.hasPrefix("MAIL FROM:") }
        #expect(group == "MAIL FROM:<alice@client.example> SIZE=\(Self.message.count)\r\nRCPT TO:<bob@mx.example.org>\r\n"
                + "RCPT TO:<carol@mx.example.org>\r\nRCPT TO:<dave@mx.example.org>\r\nDATA\r\n")
        #expect(wire.clientWrites.last.map { String(decoding: $0, as: UTF8.self) } == "QUIT\r\n")
    }

    @Test("when the server refuses every recipient nothing is delivered and the report says why")
    func wiredAllRefused() {
        var hooks = RecordingHooks()
        hooks.rejectRecipients = ["bob@mx.example.org"]
        var wire = SMTPWire(server: SMTPServerSession(configuration: SMTPServerConfiguration(hostname: "mx.example.org"),
                                                      peer: "p"),
                            client: makeClient(recipients: [Self.bob]), hooks: hooks)
        let report = wire.run()
        #expect(!report.delivered)
        #expect(report.failure?.kind == .noRecipientAccepted)
        #expect(!wire.hooks.events.contains(.begin))
    }

    @Test("without PIPELINING the client waits for each reply and falls back to HELO when EHLO is unknown")
    func sequentialWithHeloFallback() {
        var client = makeClient(requireTLS: false, recipients: [Self.bob, Self.carol])
        #expect(exchange(&client, "220 mx ESMTP\r\n").sent == "EHLO mx.client.example\r\n")
        #expect(exchange(&client, "500 5.5.1 what?\r\n").sent == "HELO mx.client.example\r\n")
        #expect(exchange(&client, "250 mx\r\n").sent == "MAIL FROM:<alice@client.example>\r\n")
        #expect(exchange(&client, "250 2.1.0 ok\r\n").sent == "RCPT TO:<bob@mx.example.org>\r\n")
        #expect(exchange(&client, "451 4.3.0 try later\r\n").sent == "RCPT TO:<carol@mx.example.org>\r\n")
        #expect(exchange(&client, "250 2.1.5 ok\r\n").sent == "DATA\r\n")
        #expect(exchange(&client, "354 go\r\n").sent
                == "From: alice@client.example\r\nSubject: test\r\n\r\n..leading dot\r\n...two\r\nend\r\n.\r\n")
        #expect(exchange(&client, "250 2.0.0 ok\r\n").sent == "QUIT\r\n")
        let last = exchange(&client, "221 2.0.0 bye\r\n").actions
        guard case .finished(let report) = last.last else {
            Issue.record("no report: \(last)")
            return
        }
        #expect(report.delivered && report.deliveredRecipients == [Self.carol])
        #expect(report.recipients[0].status == .rejected(SMTPReply(code: 451, enhanced: "4.3.0", text: "try later")))
    }

    @Test("TLS required but not offered: the client quits without sending the envelope")
    func tlsRequiredNotOffered() {
        var client = makeClient()
        _ = exchange(&client, "220 mx ESMTP\r\n")
        #expect(exchange(&client, "250-mx\r\n250-PIPELINING\r\n250 SIZE 100000\r\n").sent == "QUIT\r\n")
        let actions = exchange(&client, "221 bye\r\n").actions
        #expect(client.isFinished)
        guard case .finished(let report) = actions.last else {
            Issue.record("no report")
            return
        }
        #expect(report.failure?.kind == .tlsNotOffered && !report.delivered)
        #expect(report.recipients.allSatisfy { $0.status == .notAttempted })
    }

    @Test("replies sent along with 220 to STARTTLS are discarded before the handshake")
    func clientStartTLSInjection() {
        var client = makeClient()
        _ = exchange(&client, "220 mx ESMTP\r\n")
        #expect(exchange(&client, "250-mx\r\n250 STARTTLS\r\n").sent == "STARTTLS\r\n")
        let result = exchange(&client, "220 2.0.0 go ahead\r\n250 2.1.0 injected\r\n250-partial")
        #expect(result.actions == [.startTLS])
        #expect(client.tlsEstablished() == [.send(bytes("EHLO mx.client.example\r\n"))])
        // The first reply after the handshake is the EHLO reply, not the injected text.
        #expect(exchange(&client, "250-mx\r\n250 PIPELINING\r\n").sent.hasPrefix("MAIL FROM:"))
    }

    @Test("a message larger than the server's SIZE is refused before MAIL")
    func sizeRefusedEarly() {
        var client = makeClient(requireTLS: false)
        _ = exchange(&client, "220 mx ESMTP\r\n")
        #expect(exchange(&client, "250-mx\r\n250 SIZE 20\r\n").sent == "QUIT\r\n")
        #expect(client.report.failure?.kind == .messageTooLarge)
    }

    @Test("8-bit content needs 8BITMIME and is declared with BODY=8BITMIME")
    func eightBit() {
        let message: [UInt8] = bytes("Subject: caf") + [0xC3, 0xA9] + bytes("\r\n\r\nx\r\n")
        var refused = makeClient(requireTLS: false, message: message)
        _ = exchange(&refused, "220 mx\r\n")
        #expect(exchange(&refused, "250 mx\r\n").sent == "QUIT\r\n")
        #expect(refused.report.failure?.kind == .eightBitUnsupported)

        var client = makeClient(requireTLS: false, recipients: [Self.bob], message: message)
        _ = exchange(&client, "220 mx\r\n")
        #expect(exchange(&client, "250-mx\r\n250 8BITMIME\r\n").sent == "MAIL FROM:<alice@client.example> BODY=8BITMIME\r\n")
    }

    @Test("refused greeting, 421 mid-session, malformed replies and a lost connection end with a failure")
    func failures() {
        var refused = makeClient()
        #expect(exchange(&refused, "554 5.7.1 go away\r\n").sent == "QUIT\r\n")
        #expect(refused.report.failure?.kind == .greetingRefused)

        var closing = makeClient(requireTLS: false)
        _ = exchange(&closing, "220 mx\r\n")
        let actions = exchange(&closing, "421 4.3.2 shutting down\r\n").actions
        #expect(closing.isFinished && closing.report.failure?.kind == .serviceClosing)
        #expect(closing.report.failure?.isTransient == true)
        #expect(actions.count == 1)

        for garbage in ["hello\r\n", "250-a\r\n251 b\r\n", "250 ok\n", "2500 x\r\n", String(repeating: "2", count: 3000)] {
            var client = makeClient()
            let result = exchange(&client, garbage)
            #expect(client.report.failure?.kind == .protocolError, "\(garbage.prefix(20).debugDescription)")
            #expect(result.actions.count == 1 && client.isFinished)
        }

        var lost = makeClient()
        _ = exchange(&lost, "220 mx\r\n")
        #expect(lost.connectionClosed().failure?.kind == .connectionLost)
    }

    @Test("multi-line replies are joined and their enhanced codes taken out of the text")
    func multiLineReplies() throws {
        var parser = SMTPReplyParser(maxLineLength: 512, maxLines: 10)
        var input = bytes("250-2.0.0 first\r\n250-2.0.0 second\r\n250 2.0.0 third\r\n220 plain\r\n550")[...]
        let first = try parser.nextReply(from: &input)
        #expect(first == SMTPReply(code: 250, enhanced: "2.0.0", lines: ["first", "second", "third"]))
        #expect(try parser.nextReply(from: &input) == SMTPReply(code: 220, lines: ["plain"]))
        #expect(try parser.nextReply(from: &input) == nil)
        var rest = bytes("\r\n")[...]
        #expect(try parser.nextReply(from: &rest) == SMTPReply(code: 550, lines: [""]))

        var limited = SMTPReplyParser(maxLineLength: 512, maxLines: 2)
        var many = bytes("250-a\r\n250-b\r\n250 c\r\n")[...]
        #expect(throws: SMTPReplyError.tooManyLines) { try limited.nextReply(from: &many) }
    }

    @Test("the reply parser gives the same replies and the same error whole, byte by byte and in random pieces",
          arguments: Feeding.all)
    func replyParserFeeding(_ feeding: Feeding) {
        let good = bytes("220 mx ESMTP ready\r\n250-mx greets c\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
                         + "250 ENHANCEDSTATUSCODES\r\n250 2.1.0 sender ok\r\n550-5.1.1 no such user\r\n"
                         + "550 5.1.1 try another\r\n354 go ahead\r\n")
        let want: [SMTPReply] = [
            SMTPReply(code: 220, lines: ["mx ESMTP ready"]),
            SMTPReply(code: 250, lines: ["mx greets c", "PIPELINING", "SIZE 1000", "ENHANCEDSTATUSCODES"]),
            SMTPReply(code: 250, enhanced: "2.1.0", lines: ["sender ok"]),
            SMTPReply(code: 550, enhanced: "5.1.1", lines: ["no such user", "try another"]),
            SMTPReply(code: 354, lines: ["go ahead"]),
        ]
        func parse(_ input: [UInt8]) -> ([SMTPReply], SMTPReplyError?) {
            var parser = SMTPReplyParser(maxLineLength: 64, maxLines: 10)
            var got: [SMTPReply] = []
            for piece in feeding.pieces(input) {
                var rest = piece[...]
                do {
                    while let reply = try parser.nextReply(from: &rest) { got.append(reply) }
                } catch { return (got, error) }
            }
            return (got, nil)
        }
        let (replies, failure) = parse(good)
        #expect(replies == want)
        #expect(failure == nil)
        // A bare LF and an overlong line stop the stream at the same reply however it arrives.
        let bareLF = parse(good + bytes("250 ok\n"))
        #expect(bareLF.0 == want)
        #expect(bareLF.1 == SMTPReplyError.malformed("a reply line does not end in CRLF"))
        let overlong = parse(good + bytes("250 " + String(repeating: "x", count: 100) + "\r\n"))
        #expect(overlong.0 == want)
        #expect(overlong.1 == SMTPReplyError.lineTooLong)
    }

    @Test("dot-stuffing makes line endings canonical and doubles leading dots")
    func dotStuffing() {
        let cases: [(String, String)] = [
            ("a\nb", "a\r\nb\r\n.\r\n"),
            (".a\r\n.\r\n", "..a\r\n..\r\n.\r\n"),
            ("a\rb\r", "a\r\nb\r\n.\r\n"),
            ("", ".\r\n"),
        ]
        for (input, want) in cases {
            let got = SMTPDotStuffer.stuff(canonical: SMTPDotStuffer.canonical(bytes(input)))
            #expect(String(decoding: got, as: UTF8.self) == want, "input \(input.debugDescription)")
        }
    }
}
