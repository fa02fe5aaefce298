import Foundation
import SEMCrypto
import SEMLogging
import SEMTestSupport
@testable import SEMTransport
import Testing

/// A message with the lines that need dot-stuffing: one starting with a dot, one with two,
/// and one holding a single dot, which would end the data if sent unstuffed.
let stuffingMessage = Array("""
    From: alice@sender.test\r
    To: bob@receiver.test\r
    Subject: dot-stuffing\r
    \r
    Hello.\r
    .a line starting with a dot\r
    ..two dots\r
    .\r
    The end.\r

    """.utf8)

/// A client presenting the relay certificate, with short timeouts, logging to memory.
func relayClient(tls: TLSContext?, requireTLS: Bool = true, timeouts: SMTPClientTimeouts = .uniform(.seconds(10)),
                 maximumMessageSize: Int = 1_000_000) throws -> (SMTPClient, InMemoryLogHandler) {
    let memory = InMemoryLogHandler()
    let session = SMTPClientConfiguration(heloName: "mx.sender.test", requireTLS: requireTLS)
    let options = SMTPClientOptions(session: session, tls: tls, timeouts: timeouts,
                                    maximumMessageSize: maximumMessageSize)
    return (try SMTPClient(options: options, logger: Logger(component: "smtp-client-test", level: .debug,
                                                            handler: memory)), memory)
}

func mailboxes(_ addresses: String...) throws -> [SMTPMailbox] {
    try addresses.map { try #require(SMTPMailbox($0)) }
}

func sender(_ address: String) throws -> SMTPReversePath { .mailbox(try #require(SMTPMailbox(address))) }

extension NetworkTests {
    @Suite("SMTP client driver")
    struct SMTPClientTests {
        // MARK: aiosmtpd as an independent server

        @Test("delivers through aiosmtpd over STARTTLS with a client certificate; message and envelope arrive intact")
        func aiosmtpdDelivery() throws {
            let pki = try SMTPTestPKI.shared()
            try startProcessMachinery()
            let socketsBefore = openSocketCount()
            let peer = try AiosmtpdServer(pki: pki)
            defer { peer.stop() }
            let (client, log) = try relayClient(tls: try pki.relayContext())
            let recipients = try mailboxes("bob@receiver.test", "carol@receiver.test")
            let report = client.deliver(stuffingMessage, from: try sender("alice@sender.test"), to: recipients,
                                        host: "127.0.0.1", port: peer.port, serverName: "localhost")

            #expect(report.failure == nil, "\(String(describing: report.failure))")
            #expect(report.delivered)
            #expect(report.deliveredRecipients == recipients)
            #expect(report.dispositions.map(\.disposition) == [.delivered, .delivered])
            #expect(report.messageReply?.code == 250)
            #expect(try peer.message() == stuffingMessage)
            let envelope = try peer.envelope()
            #expect(envelope["from"] as? String == "alice@sender.test")
            #expect(envelope["to"] as? [String] == ["bob@receiver.test", "carol@receiver.test"])
            #expect(envelope["tls"] as? Bool == true)
            #expect(envelope["client_dns"] as? [String] == ["sender.test", "mx.sender.test"])
            #expect(log.records.contains { $0.event == "smtp.client.tls" && $0.field("tls.version") == "TLSv1.3" })
            #expect(log.records.last?.event == "smtp.delivery")
            // Foundation holds a socket while the child process runs: count after it ended.
            peer.stop()
            #expect(eventually { openSocketCount() == socketsBefore })
        }

        @Test("a recipient aiosmtpd refuses with 550 shows as rejected; the others get the message")
        func aiosmtpdRefusesOneRecipient() throws {
            let pki = try SMTPTestPKI.shared()
            let peer = try AiosmtpdServer(pki: pki, refusing: "nobody@receiver.test")
            defer { peer.stop() }
            let (client, _) = try relayClient(tls: try pki.relayContext())
            let recipients = try mailboxes("bob@receiver.test", "nobody@receiver.test", "carol@receiver.test")
            let report = client.deliver(stuffingMessage, from: try sender("alice@sender.test"), to: recipients,
                                        host: "127.0.0.1", port: peer.port, serverName: "localhost")

            #expect(report.delivered)
            guard case .rejected(let refusal) = report.recipients[1].status else {
                Issue.record("got \(report.recipients[1].status)")
                return
            }
            #expect(refusal.code == 550)
            #expect(refusal.enhanced == "5.1.1" || refusal.text.hasPrefix("5.1.1"))
            #expect(report.deliveredRecipients == [recipients[0], recipients[2]])
            let dispositions = report.dispositions.map(\.disposition)
            #expect(dispositions[0] == .delivered && dispositions[2] == .delivered)
            guard case .bounce = dispositions[1] else {
                Issue.record("a 550 refusal must bounce, got \(dispositions[1])")
                return
            }
            #expect(try peer.envelope()["to"] as? [String] == ["bob@receiver.test", "carol@receiver.test"])
            #expect(try peer.message() == stuffingMessage)
        }

        // MARK: Our client against our server

        @Test("our client delivers to our server over mutual TLS; the hooks get the exact message")
        func mutualTLSDelivery() throws {
            let pki = try SMTPTestPKI.shared()
            try withCheckedServer(followUpTLS: try pki.relayContext(), {
                try startSMTPServer(tls: try pki.serverContext(), requireTLS: true, checkSenderDomain: true)
            }) { server in
                let (client, _) = try relayClient(tls: try pki.relayContext())
                let recipients = try mailboxes("bob@receiver.test", "busy@receiver.test", "unknown@receiver.test")
                let report = client.deliver(stuffingMessage, from: try sender("alice@sender.test"), to: recipients,
                                            host: "127.0.0.1", port: server.port, serverName: "localhost")
                #expect(report.delivered, "\(String(describing: report.failure))")
                #expect(report.messageReply?.text.contains("queued as") == true)
                let dispositions = report.dispositions.map(\.disposition)
                #expect(dispositions.count == 3)
                #expect(dispositions.first == .delivered)
                guard case .retry = dispositions[1], case .bounce = dispositions[2] else {
                    Issue.record("450 must be retried and 550 bounced, got \(dispositions)")
                    return
                }
                let messages = server.recorder.messages
                try #require(messages.count == 1)
                #expect(messages[0].data == stuffingMessage)
                #expect(messages[0].recipients == ["bob@receiver.test"])
                #expect(server.recorder.senders.first?.peerIdentity?.contains("dns=sender.test") == true)
            }
        }

        @Test("a sender domain the client certificate does not name is refused with 5.7.1 and bounces")
        func senderDomainMismatch() throws {
            let pki = try SMTPTestPKI.shared()
            try withCheckedServer(followUpTLS: try pki.relayContext(), {
                try startSMTPServer(tls: try pki.serverContext(), requireTLS: true, checkSenderDomain: true)
            }) { server in
                let (client, _) = try relayClient(tls: try pki.relayContext())
                let recipients = try mailboxes("bob@receiver.test")
                let report = client.deliver(stuffingMessage, from: try sender("mallory@unregistered.test"),
                                            to: recipients, host: "127.0.0.1", port: server.port,
                                            serverName: "localhost")
                #expect(!report.delivered)
                #expect(report.failure?.kind == .senderRefused)
                #expect(report.failure?.reply?.code == 550)
                #expect(report.failure?.reply?.enhanced?.hasPrefix("5.7.") == true)
                #expect(report.failure?.isTransient == false)
                guard case .bounce? = report.dispositions.first?.disposition else {
                    Issue.record("got \(report.dispositions)")
                    return
                }
                #expect(server.recorder.messages.isEmpty)
                #expect(server.recorder.senders.map(\.sender) == ["<mallory@unregistered.test>"])
            }
        }

        @Test("with TLS required, nothing is sent to a server that does not offer STARTTLS")
        func tlsRequiredButNotOffered() throws {
            let pki = try SMTPTestPKI.shared()
            try withCheckedServer({ try startSMTPServer(tls: nil) }) { server in
                let (client, _) = try relayClient(tls: try pki.relayContext())
                let report = client.deliver(stuffingMessage, from: try sender("alice@sender.test"),
                                            to: try mailboxes("bob@receiver.test"), host: "127.0.0.1",
                                            port: server.port, serverName: "localhost")
                #expect(report.failure?.kind == .tlsNotOffered)
                #expect(server.recorder.senders.isEmpty)
            }
        }

        @Test("a server certificate that does not match the server name fails TLS, to be retried")
        func serverNameMismatch() throws {
            let pki = try SMTPTestPKI.shared()
            try withCheckedServer(followUpTLS: try pki.relayContext(), {
                try startSMTPServer(tls: try pki.serverContext(), requireTLS: true)
            }) { server in
                let (client, _) = try relayClient(tls: try pki.relayContext())
                let report = client.deliver(stuffingMessage, from: try sender("alice@sender.test"),
                                            to: try mailboxes("bob@receiver.test"), host: "127.0.0.1",
                                            port: server.port, serverName: "mx.elsewhere.test")
                #expect(report.failure?.kind == .tlsFailed)
                #expect(report.failure?.isTransient == true)
                guard case .retry? = report.dispositions.first?.disposition else {
                    Issue.record("got \(report.dispositions)")
                    return
                }
                #expect(server.recorder.senders.isEmpty)
            }
        }

        @Test("a message larger than the server's SIZE is not sent; one larger than the client's limit is not tried")
        func sizeLimits() throws {
            let pki = try SMTPTestPKI.shared()
            try withCheckedServer(followUpTLS: try pki.relayContext(), {
                try startSMTPServer(tls: try pki.serverContext(), requireTLS: true, maxMessageSize: 100)
            }) { server in
                let (client, _) = try relayClient(tls: try pki.relayContext())
                let report = client.deliver(stuffingMessage, from: try sender("alice@sender.test"),
                                            to: try mailboxes("bob@receiver.test"), host: "127.0.0.1",
                                            port: server.port, serverName: "localhost")
                #expect(report.failure?.kind == .messageTooLarge)
                #expect(report.failure?.isTransient == false)
                #expect(server.recorder.senders.isEmpty)
            }
            let (small, _) = try relayClient(tls: try pki.relayContext(), maximumMessageSize: 10)
            // Port 9 (discard) is never contacted: the limit is checked first.
            let report = small.deliver(stuffingMessage, from: try sender("alice@sender.test"),
                                       to: try mailboxes("bob@receiver.test"), host: "127.0.0.1", port: 9)
            #expect(report.failure?.kind == .messageTooLarge)
            #expect(report.failure?.reason.contains("client's limit") == true)
        }

        // MARK: Network failures

        @Test("a refused connection and a server that never greets are transient failures")
        func connectionFailures() throws {
            let pki = try SMTPTestPKI.shared()
            let (client, _) = try relayClient(
                tls: try pki.relayContext(),
                timeouts: SMTPClientTimeouts(connect: .seconds(2), greeting: .milliseconds(300)))

            // A port nobody listens on: bind one, note it, close it.
            let closed = try startSMTPServer(tls: nil)
            let unusedPort = closed.port
            closed.server.shutdown(gracePeriod: .milliseconds(100))
            let refused = client.deliver(stuffingMessage, from: try sender("alice@sender.test"),
                                         to: try mailboxes("bob@receiver.test"), host: "127.0.0.1",
                                         port: unusedPort)
            #expect(refused.failure?.kind == .connectFailed)
            #expect(refused.failure?.isTransient == true)
            #expect(refused.recipients.allSatisfy { $0.status == .notAttempted })

            // A listener that accepts and stays silent.
            let silent = try Listener(configuration: ListenerConfiguration(idleTimeout: .seconds(5)),
                                      logger: .disabled) { stream, _ in _ = readUntilClosed(stream) }
            silent.start()
            defer { silent.shutdown(gracePeriod: .milliseconds(100)) }
            let start = ContinuousClock.now
            let mute = client.deliver(stuffingMessage, from: try sender("alice@sender.test"),
                                      to: try mailboxes("bob@receiver.test"), host: "127.0.0.1", port: silent.port)
            #expect(mute.failure?.kind == .timedOut)
            #expect(mute.failure?.isTransient == true)
            #expect(secondsSince(start) < 2)
        }

        @Test("client settings that cannot work are refused when the client is made")
        func invalidSettings() throws {
            let pki = try SMTPTestPKI.shared()
            #expect(throws: NetworkError.self) { try relayClient(tls: nil, requireTLS: true) }
            #expect(throws: NetworkError.self) { try relayClient(tls: try pki.serverContext()) }
            #expect(throws: NetworkError.self) {
                try relayClient(tls: nil, requireTLS: false, timeouts: .uniform(.zero))
            }
            #expect(throws: Never.self) { try relayClient(tls: nil, requireTLS: false) }
        }
    }
}
