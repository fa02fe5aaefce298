// A mail server nobody registered: its own self-signed certificate, STARTTLS, and a
// letter for bob. The receiving server must refuse it with a 5.7.x reply.
import Foundation
import SEMCrypto
import SEMLogging
import SEMTransport

enum DemoIntruder {
    /// Tries to deliver to `domain`'s SMTP port; returns the refusal, or nil when accepted.
    static func deliver(to domain: DemoDomain) throws -> String? {
        let now = Date()
        let key = try PrivateKey.generate(.ecP256)
        let own = try CertificateIssuer.selfSignedRoot(subject: DistinguishedName([("CN", "mail.intruder.test")]), key: key,
                                                       notBefore: now - 60, notAfter: now + 3600)
        let validator = PathValidator(trustAnchors: [domain.root], knownIntermediates: [domain.pki.identity.issuer.certificate],
                                      revocationChecker: OnlineRevocationChecker())
        let tls = try TLSContext(.client(peerVerifier: PathValidatingPeerVerifier(validator: validator, purpose: .tlsServer),
                                         chain: [own.certificate], key: key))
        let client = try SMTPClient(options: SMTPClientOptions(session: SMTPClientConfiguration(heloName: "mail.intruder.test"),
                                                               tls: tls, timeouts: .uniform(.seconds(20))),
                                    logger: .disabled)
        guard let sender = SMTPMailbox("spam@intruder.test"), let bob = SMTPMailbox("bob@\(domain.name)") else { return nil }
        let report = client.deliver(Data("Subject: hello\r\n\r\nbuy now\r\n".utf8), from: .mailbox(sender), to: [bob],
                                    host: "127.0.0.1", port: domain.ports.smtp, serverName: "mail.\(domain.name)")
        guard !report.delivered else { return nil }
        return report.failure?.description ?? "not delivered"
    }
}
