import Foundation
import SEMCrypto
import SEMLogging
import SEMTestSupport
@testable import SEMTransport
import Testing

/// Runs `body` against a fresh server, then checks what every test must leave behind: a
/// normal session still works, no session stays active, and after shutdown the process
/// holds exactly the sockets it held before.
func withCheckedServer(followUpTLS: TLSContext? = nil, _ make: () throws -> SMTPTestServer,
                       _ body: (SMTPTestServer) throws -> Void) throws {
    try startProcessMachinery()
    let socketsBefore = openSocketCount()
    let server = try make()
    do {
        try body(server)
        #expect(try normalTransaction(port: server.port, tls: followUpTLS) == normalCodes,
                "a normal session after the test")
        #expect(eventually(timeout: .seconds(3)) { server.server.activeSessions == 0 })
    } catch {
        server.server.shutdown(gracePeriod: .milliseconds(100))
        throw error
    }
    let report = server.server.shutdown(gracePeriod: .seconds(1))
    #expect(report.forcedConnections == 0)
    #expect(eventually { openSocketCount() == socketsBefore }, "no descriptor leak")
}

extension NetworkTests {
    @Suite("SMTP server driver")
    struct SMTPServerTests {
        // MARK: swaks as an independent client

        @Test("swaks delivers over STARTTLS with a client certificate; hooks see the exact body, identity and TLS")
        func swaksWithClientCertificate() throws {
            let pki = try SMTPTestPKI.shared()
            let scratch = try ScratchDirectory(prefix: "sem-smtp-swaks")
            try pki.writeFiles(to: scratch)
            let body = "First line of the body.\n.A line that starts with a dot\nLast line."
            try withCheckedServer(followUpTLS: try pki.relayContext(), {
                try startSMTPServer(tls: try pki.serverContext(), requireTLS: true)
            }) { server in
                let run = try scratch.run("swaks", [
                    "--server", "127.0.0.1", "--port", "\(server.port)", "--ehlo", "client.sender.test",
                    "--tls", "--tls-cert", scratch.path("user.pem"), "--tls-key", scratch.path("user.key"),
                    "--tls-verify", "--tls-ca-path", scratch.path("ca.pem"),
                    "--from", SMTPTestPKI.userAddress, "--to", "bob@receiver.test",
                    "--header", "Subject: swaks over STARTTLS", "--body", body, "--timeout", "10",
                ])
                #expect(run.status == 0, "\(run.all)")
                let messages = server.recorder.messages
                try #require(messages.count == 1, "\(run.all)")
                let text = String(decoding: messages[0].data, as: UTF8.self)
                let parts = text.components(separatedBy: "\r\n\r\n")
                #expect(parts.count >= 2)
                // swaks puts two empty lines after the body it is given (its --dump-mail
                // output shows the same); it sends the dot line stuffed, the hooks get it back.
                #expect(parts.dropFirst().joined(separator: "\r\n\r\n")
                    == "First line of the body.\r\n.A line that starts with a dot\r\nLast line.\r\n\r\n\r\n")
                #expect(parts[0].contains("Subject: swaks over STARTTLS"))
                #expect(messages[0].recipients == ["bob@receiver.test"])

                let seen = try #require(server.recorder.senders.first)
                #expect(seen.sender == "<\(SMTPTestPKI.userAddress)>")
                #expect(seen.tlsActive)
                #expect(seen.peerIdentity?.contains("email=\(SMTPTestPKI.userAddress)") == true)
                #expect(seen.peerIdentity?.contains("CN=Alice") == true)

                // One closing line with the session id, the peer and the TLS facts.
                #expect(eventually { server.records("smtp.close").count == 1 })
                let close = try #require(server.records("smtp.close").first)
                #expect(close.field("smtp.session") == seen.sessionID)
                #expect(close.field("peer")?.hasPrefix("127.0.0.1:") == true)
                #expect(close.field("tls.version") == "TLSv1.3")
                #expect(close.field("tls.peer")?.contains(SMTPTestPKI.userAddress) == true)
                #expect(close.field("reason") == "quit")
                #expect(close.field("messages_accepted") == "1")
            }
        }

        @Test("swaks without STARTTLS is answered 530 when the server requires TLS")
        func swaksPlaintextRefused() throws {
            let pki = try SMTPTestPKI.shared()
            let scratch = try ScratchDirectory(prefix: "sem-smtp-swaks")
            try withCheckedServer(followUpTLS: try pki.relayContext(), {
                try startSMTPServer(tls: try pki.serverContext(), requireTLS: true)
            }) { server in
                let run = try scratch.run("swaks", [
                    "--server", "127.0.0.1", "--port", "\(server.port)", "--from", "a@sender.test",
                    "--to", "b@receiver.test", "--body", "never delivered", "--timeout", "10",
                ])
                #expect(run.status != 0)
                #expect(run.all.contains("530 5.7.0"), "\(run.all)")
                #expect(server.recorder.senders.isEmpty)
                #expect(server.recorder.messages.isEmpty)
            }
        }

        @Test("swaks with STARTTLS but no client certificate fails when the server requires one")
        func swaksWithoutCertificateRefused() throws {
            let pki = try SMTPTestPKI.shared()
            let scratch = try ScratchDirectory(prefix: "sem-smtp-swaks")
            try pki.writeFiles(to: scratch)
            try withCheckedServer(followUpTLS: try pki.relayContext(), {
                try startSMTPServer(tls: try pki.serverContext(), requireTLS: true)
            }) { server in
                let run = try scratch.run("swaks", [
                    "--server", "127.0.0.1", "--port", "\(server.port)", "--tls",
                    "--tls-verify", "--tls-ca-path", scratch.path("ca.pem"),
                    "--from", "a@sender.test", "--to", "b@receiver.test", "--body", "never delivered",
                    "--timeout", "10",
                ])
                #expect(run.status != 0, "\(run.all)")
                #expect(server.recorder.senders.isEmpty)
                #expect(server.recorder.messages.isEmpty)
                #expect(eventually { server.records("smtp.tls_failed").count == 1 })
                #expect(eventually { server.records("smtp.close").first?.field("reason") == "tls-failed" })
            }
        }

        // MARK: Hostile input

        @Test("overlong, bare-LF and NUL command lines get 500 5.5.2 and the session goes on")
        func malformedCommandLines() throws {
            try withCheckedServer({ try startSMTPServer(tls: nil) }) { server in
                let client = try RawSMTPClient(port: server.port)
                defer { client.close() }
                #expect(try client.reply()?.code == 220)
                let cases: [(label: String, bytes: [UInt8])] = [
                    ("overlong", Array(repeating: UInt8(ascii: "A"), count: 5_000) + [13, 10]),
                    ("bare LF", Array("NOOP\n".utf8)),
                    ("NUL", Array("NO\u{0}OP\r\n".utf8)),
                ]
                for entry in cases {
                    try client.send(entry.bytes)
                    let reply = try client.reply()
                    #expect(reply?.code == 500, "\(entry.label): got \(String(describing: reply))")
                    #expect(reply?.lines.first?.hasPrefix("5.5.2") == true, "\(entry.label)")
                    #expect(try client.command("NOOP") == 250, "\(entry.label): session continues")
                }
                #expect(try client.command("QUIT") == 221)
            }
        }

        @Test("a message over the SIZE limit is refused with 552 5.3.4 and nothing is delivered")
        func messageTooLarge() throws {
            try withCheckedServer({ try startSMTPServer(tls: nil, maxMessageSize: 2_000) }) { server in
                let client = try RawSMTPClient(port: server.port)
                defer { client.close() }
                #expect(try client.reply()?.code == 220)
                #expect(try client.command("EHLO client.test") == 250)
                #expect(try client.command("MAIL FROM:<a@sender.test> SIZE=5000") == 552, "declared size")
                #expect(try client.command("MAIL FROM:<a@sender.test>") == 250)
                #expect(try client.command("RCPT TO:<b@receiver.test>") == 250)
                #expect(try client.command("DATA") == 354)
                let line = String(repeating: "x", count: 98) + "\r\n"
                try client.send(String(repeating: line, count: 40))
                let reply = try client.reply(after: ".")
                #expect(reply?.code == 552)
                #expect(reply?.lines.first?.hasPrefix("5.3.4") == true)
                #expect(server.recorder.aborts == [.tooLarge])
                #expect(server.recorder.messages.isEmpty)
                #expect(try client.command("QUIT") == 221)
            }
        }

        @Test("a peer that closes during DATA makes the hooks abort and nothing is delivered")
        func peerClosesMidData() throws {
            try withCheckedServer({ try startSMTPServer(tls: nil) }) { server in
                let client = try RawSMTPClient(port: server.port)
                #expect(try client.reply()?.code == 220)
                #expect(try client.command("EHLO client.test") == 250)
                #expect(try client.command("MAIL FROM:<a@sender.test>") == 250)
                #expect(try client.command("RCPT TO:<b@receiver.test>") == 250)
                #expect(try client.command("DATA") == 354)
                try client.send("Subject: cut short\r\n\r\nhalf a mess")
                client.close()
                #expect(eventually { server.recorder.aborts == [.connectionClosed] })
                #expect(server.recorder.messages.isEmpty)
                #expect(eventually { server.records("smtp.close").first?.field("reason") == "peer-closed" })
                #expect(server.records("smtp.close").first?.field("messages_aborted") == "1")
            }
        }

        @Test("a client that trickles one byte at a time is cut off with 421 4.4.2 at the command timeout")
        func slowDripClosed() throws {
            try withCheckedServer({ try startSMTPServer(tls: nil, commandTimeout: .milliseconds(600)) }) { server in
                let client = try RawSMTPClient(port: server.port)
                defer { client.close() }
                #expect(try client.reply()?.code == 220)
                let start = ContinuousClock.now
                var reply: RawReply?
                for byte in Array("EHLO a.rather.slow.client.test\r\n".utf8) {
                    try? client.send([byte])
                    client.stream.readTimeout = .milliseconds(150)
                    if let answer = try? client.reply() {
                        reply = answer
                        break
                    }
                }
                let elapsed = secondsSince(start)
                #expect(reply?.code == 421, "got \(String(describing: reply))")
                #expect(reply?.lines.first?.hasPrefix("4.4.2") == true)
                #expect(elapsed >= 0.5 && elapsed < 2.5, "closed after \(elapsed) s")
                client.stream.readTimeout = .seconds(2)
                #expect(try client.reply() == nil, "the server closed the connection")
                #expect(eventually { server.records("smtp.close").first?.field("reason") == "command-timeout" })
            }
        }

        @Test("silence during DATA ends the session with 421 4.4.2 at the data timeout and aborts the message")
        func dataTimeout() throws {
            try withCheckedServer({ try startSMTPServer(tls: nil, dataTimeout: .milliseconds(400)) }) { server in
                let client = try RawSMTPClient(port: server.port)
                defer { client.close() }
                #expect(try client.reply()?.code == 220)
                #expect(try client.command("EHLO client.test") == 250)
                #expect(try client.command("MAIL FROM:<a@sender.test>") == 250)
                #expect(try client.command("RCPT TO:<b@receiver.test>") == 250)
                #expect(try client.command("DATA") == 354)
                try client.send("Subject: and then nothing\r\n")
                let reply = try client.reply()
                #expect(reply?.code == 421)
                #expect(reply?.lines.first?.hasPrefix("4.4.2") == true)
                #expect(eventually { server.recorder.aborts == [.connectionClosed] })
                #expect(eventually { server.records("smtp.close").first?.field("reason") == "data-timeout" })
            }
        }

        @Test("a busy session is ended with 421 4.4.2 when its lifetime is over")
        func lifetimeExceeded() throws {
            try withCheckedServer({ try startSMTPServer(tls: nil, sessionLifetime: .milliseconds(800)) }) { server in
                let client = try RawSMTPClient(port: server.port)
                defer { client.close() }
                #expect(try client.reply()?.code == 220)
                let start = ContinuousClock.now
                var last = 0
                while secondsSince(start) < 3 {
                    last = try client.command("NOOP")
                    if last != 250 { break }
                    usleep(100_000)
                }
                #expect(last == 421)
                #expect(secondsSince(start) >= 0.7)
                #expect(eventually { server.records("smtp.close").first?.field("reason") == "lifetime-exceeded" })
            }
        }

        @Test("commands pipelined after STARTTLS are discarded, not executed after the handshake")
        func pipelinedAfterStartTLSDiscarded() throws {
            let pki = try SMTPTestPKI.shared()
            try withCheckedServer({ try startSMTPServer(tls: try pki.serverContext()) }) { server in
                let client = try RawSMTPClient(port: server.port)
                defer { client.close() }
                #expect(try client.reply()?.code == 220)
                try client.send("EHLO client.test\r\nSTARTTLS\r\nMAIL FROM:<mallory@evil.test>\r\n"
                                + "RCPT TO:<bob@receiver.test>\r\n")
                let ehlo = try client.reply()
                #expect(ehlo?.code == 250)
                #expect(ehlo?.lines.contains("STARTTLS") == true)
                #expect(try client.reply()?.code == 220)
                try client.startTLS(try pki.relayContext())
                let again = try client.reply(after: "EHLO client.test")
                #expect(again?.code == 250)
                #expect(again?.lines.contains("STARTTLS") == false, "no STARTTLS offered twice")
                #expect(try client.command("RCPT TO:<bob@receiver.test>") == 503, "no transaction survived")
                #expect(try client.command("MAIL FROM:<ok@sender.test>") == 250)
                #expect(try client.command("QUIT") == 221)
                let senders = server.recorder.senders
                #expect(senders.map(\.sender) == ["<ok@sender.test>"])
                #expect(senders.first?.tlsActive == true)
                #expect(senders.first?.peerIdentity?.contains("dns=sender.test,mx.sender.test") == true)
            }
        }

        // MARK: Shutdown

        @Test("shutdown refuses new connections and ends a session in DATA with 421 4.3.2 at the deadline")
        func gracefulShutdown() async throws {
            let socketsBefore = openSocketCount()
            let server = try startSMTPServer(tls: nil)
            let client = try RawSMTPClient(port: server.port)
            defer { client.close() }
            #expect(try client.reply()?.code == 220)
            #expect(try client.command("EHLO client.test") == 250)
            #expect(try client.command("MAIL FROM:<a@sender.test>") == 250)
            #expect(try client.command("RCPT TO:<b@receiver.test>") == 250)
            #expect(try client.command("DATA") == 354)
            try client.send("Subject: interrupted\r\n")

            let start = ContinuousClock.now
            let smtp = server.server
            async let report = onThread { smtp.shutdown(deadline: start + .milliseconds(600), grace: .seconds(1)) }
            let refused = eventually {
                guard let probe = try? TCPClient.connect(host: "127.0.0.1", port: smtp.port,
                                                         timeout: .milliseconds(200)) else { return true }
                probe.close()
                return false
            }
            #expect(refused, "new connections are refused once shutdown has begun")
            let reply = try client.reply()
            #expect(reply?.code == 421)
            #expect(reply?.lines.first?.hasPrefix("4.3.2") == true)
            #expect(secondsSince(start) >= 0.5)
            #expect(try await report.forcedConnections == 0)
            #expect(server.recorder.aborts == [.connectionClosed])
            #expect(server.recorder.messages.isEmpty)
            // Probes that connected before the listener closed show up as "peer-closed".
            #expect(server.records("smtp.close").filter { $0.field("reason") == "shutdown" }.count == 1)
            client.close()
            #expect(eventually { openSocketCount() == socketsBefore })
        }

        // MARK: Identity

        @Test("a peer identity authorises exactly the domains its certificate names")
        func identityMatching() throws {
            let pki = try SMTPTestPKI.shared()
            let relay = SMTPPeerIdentity(certificate: pki.relay)
            #expect(relay.authorises(domain: "sender.test"))
            #expect(relay.authorises(domain: "SENDER.test."))
            #expect(relay.authorises(domain: "mx.sender.test"))
            #expect(!relay.authorises(domain: "other.test"))
            #expect(!relay.authorises(domain: "sub.mx.sender.test"), "no parent-domain matching")
            #expect(!relay.authorises(domain: "test"))
            #expect(!relay.authorises(domain: ""))
            let user = SMTPPeerIdentity(certificate: pki.user)
            #expect(user.authorises(domain: "sender.test"))
            #expect(user.names(mailbox: try #require(SMTPMailbox(SMTPTestPKI.userAddress))))
            #expect(!user.names(mailbox: try #require(SMTPMailbox("bob@sender.test"))))
            #expect(!SMTPPeerIdentity(subject: "CN=sender.test").authorises(domain: "sender.test"), "CN is not used")
            #expect(user.fingerprint == pki.user.fingerprint)
        }
    }
}

extension RawSMTPClient {
    /// Sends `line` with CRLF and reads the reply.
    func reply(after line: String) throws -> RawReply? {
        try send(line + "\r\n")
        return try reply()
    }
}

