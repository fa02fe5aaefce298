// Transfer assertions and the HTTP range rule, without sockets.
import Foundation
import SEMCrypto
import SEMMail
import Testing

@Suite("Transfer assertions")
struct TransferTests {
    private static func server(_ name: String) throws -> (CMSSigner, Certificate) {
        let now = Date()
        let root = try CertificateIssuer.selfSignedRoot(subject: DistinguishedName([("CN", "\(name) Root")]),
                                                        key: try PrivateKey.generate(.ecP256), notBefore: now - 60,
                                                        notAfter: now + 86400)
        let key = try PrivateKey.generate(.ecP256)
        let certificate = try root.issue(.domainServer, CertificateParameters(
            subject: DistinguishedName([("CN", "mail.\(name)")]), publicKey: key.publicKey, notBefore: now - 60,
            notAfter: now + 86400, dnsNames: ["mail.\(name)"]))
        return (try CMSSigner(key: key, certificate: certificate), certificate)
    }

    @Test("an assertion for several recipients verifies for an envelope left with some of them")
    func assertionAfterRefusedRecipient() throws {
        let (signer, certificate) = try Self.server("alpha.test")
        let content = Data("ciphertext".utf8), now = Date()
        let signed = try TransferAssertion(messageId: "2@alpha.test", sender: "alice@alpha.test",
                                           recipients: ["bob@beta.test", "carol@beta.test"], content: content,
                                           attachments: [], server: "mail.alpha.test", time: now).signed(by: signer)
        // carol was refused at RCPT; bob's copy still carries the assertion made for both.
        let verified = try TransferAssertion.verify(signed, peerCertificate: certificate, sender: "alice@alpha.test",
                                                    recipients: ["Bob@beta.test"], content: content, at: now)
        #expect(verified.recipients == ["bob@beta.test", "carol@beta.test"])
        for envelope in [["bob@beta.test", "dave@beta.test"], []] {
            #expect(throws: MailError(.forbidden, "")) {
                _ = try TransferAssertion.verify(signed, peerCertificate: certificate, sender: "alice@alpha.test",
                                                 recipients: envelope, content: content, at: now)
            }
        }
    }

    @Test("an assertion verifies for its server, envelope and content, and for nothing else")
    func assertionBinding() throws {
        let (signer, certificate) = try Self.server("alpha.test")
        let (_, other) = try Self.server("rogue.test")
        let content = Data("ciphertext".utf8), now = Date()
        let signed = try TransferAssertion(messageId: "1@alpha.test", sender: "alice@alpha.test", recipients: ["bob@beta.test"],
                                           content: content, attachments: [], server: "mail.alpha.test", time: now)
            .signed(by: signer)
        let verified = try TransferAssertion.verify(signed, peerCertificate: certificate, sender: "alice@alpha.test",
                                                    recipients: ["bob@beta.test"], content: content, at: now)
        #expect(verified.messageId == "1@alpha.test")
        let refusals: [() throws -> TransferAssertion] = [
            { try TransferAssertion.verify(signed, peerCertificate: other, sender: "alice@alpha.test",
                                           recipients: ["bob@beta.test"], content: content, at: now) },
            { try TransferAssertion.verify(signed, peerCertificate: certificate, sender: "mallory@alpha.test",
                                           recipients: ["bob@beta.test"], content: content, at: now) },
            { try TransferAssertion.verify(signed, peerCertificate: certificate, sender: "alice@alpha.test",
                                           recipients: ["bob@beta.test", "carol@beta.test"], content: content, at: now) },
            { try TransferAssertion.verify(signed, peerCertificate: certificate, sender: "alice@alpha.test",
                                           recipients: ["bob@beta.test"], content: Data("changed".utf8), at: now) },
            { try TransferAssertion.verify(signed, peerCertificate: certificate, sender: "alice@alpha.test",
                                           recipients: ["bob@beta.test"], content: content, at: now + 3600) },
        ]
        for refusal in refusals { #expect(throws: MailError(.forbidden, "")) { _ = try refusal() } }
    }

    @Test("a signed notification opens with its signer")
    func notification() throws {
        let (signer, certificate) = try Self.server("beta.test")
        let signed = try DeliveryNotification(status: .delivered, messageId: "1@alpha.test", recipient: "Bob@beta.test",
                                              server: "mail.beta.test", time: Date()).signed(by: signer)
        let opened = try DeliveryNotification.open(signed)
        #expect(opened.notification.recipient == "bob@beta.test")
        #expect(opened.signer == certificate)
        var damaged = signed
        damaged[damaged.count / 2] ^= 0x01
        #expect(throws: MailError.self) { _ = try DeliveryNotification.open(damaged) }
    }

    @Test("ranges follow RFC 9110: first-last, open-ended and suffix; others do not fit",
          arguments: [("bytes=0-9", 0...9), ("bytes=90-", 90...99), ("bytes=-5", 95...99), ("bytes=95-200", 95...99)])
    func ranges(_ field: String, _ expected: ClosedRange<Int64>) throws {
        #expect(try MailHTTPService.range(field, size: 100) == expected)
    }

    @Test("unsatisfiable or malformed ranges are refused", arguments: ["bytes=100-", "bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=-0"])
    func badRanges(_ field: String) {
        #expect(throws: MailError.self) { _ = try MailHTTPService.range(field, size: 100) }
    }
}
