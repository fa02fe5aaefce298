import Foundation
import SEMCrypto
import SEMLogging
import SEMTestSupport
@testable import SEMTransport
import Synchronization
import Testing

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
                #expect(close.field("tls") == "true")
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

        // MARK: Shutdown

        @Test("shutdown refuses new connections and ends a session in DATA with 421 4.3.2 at the deadline")
        func gracefulShutdown() throws {
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
            // A plain thread, not a child task: when other suites block the cooperative
            // pool, a task could start too late for the timing this test checks.
            let report = Mutex<ShutdownReport?>(nil)
            Thread { report.withLock { $0 = smtp.shutdown(deadline: start + .milliseconds(600), grace: .seconds(1)) } }
                .start()
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
            #expect(eventually(timeout: .seconds(5)) { report.withLock { $0 != nil } })
            #expect(report.withLock { $0?.forcedConnections } == 0)
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
