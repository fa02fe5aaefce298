import Foundation
import SEMCrypto
@testable import SEMTransport
import Testing

extension NetworkTests {
    /// Hostile and broken clients over raw sockets. After each, `withCheckedServer` checks
    /// that a normal session still works, no session stays active and no socket leaks.
    @Suite("SMTP server driver: hostile input")
    struct SMTPServerRobustnessTests {
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
                #expect(server.records("smtp.close").first?.field("tls") == "false")
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
    }
}
