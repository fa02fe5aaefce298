import Foundation
import SEMCrypto
import SEMFederation
import Testing

@Suite("Algorithm negotiation")
struct AlgorithmNegotiationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        var sender = DomainProfile()
        var recipient = DomainProfile()
        var capabilities: [ContentEncryptionAlgorithm] = []
        var recipientKey: KeyAlgorithm = .ecP256
        var senderKey: KeyAlgorithm? = nil
        var requirements: [String] = []
        let expected: String
        var testDescription: String { label }
    }

    static let successes: [Case] = [
        Case(label: "defaults with an EC P-256 recipient",
             expected: "AES-256-GCM, ECDH-P256-SHA256-KDF, SHA-512, ECDSA-P256-SHA256"),
        Case(label: "RSA recipient gets OAEP", recipientKey: .rsa3072,
             expected: "AES-256-GCM, RSA-OAEP-SHA256, SHA-512, ECDSA-P256-SHA256"),
        Case(label: "P-384 recipient gets ECDH on P-384", recipientKey: .ecP384,
             expected: "AES-256-GCM, ECDH-P384-SHA384-KDF, SHA-512, ECDSA-P256-SHA256"),
        Case(label: "recipient without GCM falls back to AES-256-CBC",
             recipient: DomainProfile(contentEncryption: [.aes256CBC, .aes128CBC]),
             expected: "AES-256-CBC, ECDH-P256-SHA256-KDF, SHA-512, ECDSA-P256-SHA256"),
        Case(label: "recipient capabilities narrow the profile", capabilities: [.aes128GCM, .aes256CBC],
             expected: "AES-256-CBC, ECDH-P256-SHA256-KDF, SHA-512, ECDSA-P256-SHA256"),
        Case(label: "strength, not list order, decides content encryption",
             sender: DomainProfile(contentEncryption: [.aes128GCM, .aes256CBC, .aes256GCM]),
             expected: "AES-256-GCM, ECDH-P256-SHA256-KDF, SHA-512, ECDSA-P256-SHA256"),
        Case(label: "the agreement's required algorithms restrict each category",
             requirements: ["AES-128-GCM", "SHA-256"],
             expected: "AES-128-GCM, ECDH-P256-SHA256-KDF, SHA-256, ECDSA-P256-SHA256"),
        Case(label: "common digests only", recipient: DomainProfile(digests: [.sha256, .sha384]),
             expected: "AES-256-GCM, ECDH-P256-SHA256-KDF, SHA-384, ECDSA-P256-SHA256"),
        Case(label: "a P-384 sender signs with ECDSA-P384", senderKey: .ecP384,
             expected: "AES-256-GCM, ECDH-P256-SHA256-KDF, SHA-512, ECDSA-P384-SHA384"),
        Case(label: "an RSA sender signs with RSA", senderKey: .rsa3072,
             expected: "AES-256-GCM, ECDH-P256-SHA256-KDF, SHA-512, RSA-PKCS1-SHA256"),
    ]

    @Test("the strongest common suite", arguments: successes)
    func success(_ entry: Case) throws {
        let suite = try AlgorithmNegotiation.negotiate(
            sender: entry.sender, recipient: entry.recipient, recipientCapabilities: entry.capabilities,
            recipientKey: entry.recipientKey, senderKey: entry.senderKey, agreementRequirements: entry.requirements)
        #expect(suite.description == entry.expected)
    }

    static let failures: [Case] = [
        Case(label: "no common content encryption",
             sender: DomainProfile(contentEncryption: [.aes256GCM]),
             recipient: DomainProfile(contentEncryption: [.aes128CBC]),
             expected: "No common algorithm for content encryption: the sender offers AES-256-GCM; "
                 + "the recipient offers AES-128-CBC."),
        Case(label: "capabilities exclude every common algorithm",
             capabilities: [.aes192CBC],
             expected: "No common algorithm for content encryption: the sender offers AES-256-GCM, AES-256-CBC, "
                 + "AES-128-GCM; the recipient offers AES-256-GCM, AES-256-CBC, AES-128-GCM (capabilities: AES-192-CBC)."),
        Case(label: "recipient cannot receive with RSA",
             recipient: DomainProfile(keyManagement: [.ecdhP256SHA256KDF]), recipientKey: .rsa3072,
             expected: "No common algorithm for key management with a RSA-3072 recipient key: the sender offers "
                 + "RSA-OAEP-SHA256, ECDH-P256-SHA256-KDF, ECDH-P384-SHA384-KDF; the recipient offers ECDH-P256-SHA256-KDF."),
        Case(label: "RSA key below the stricter minimum",
             recipient: DomainProfile(minimumRSABits: 4096), recipientKey: .rsa3072,
             expected: "No common algorithm for key management: the recipient's RSA key has 3072 bits; "
                 + "both profiles together require at least 4096."),
        Case(label: "agreement requires what the recipient lacks",
             recipient: DomainProfile(contentEncryption: [.aes256CBC]), requirements: ["AES-256-GCM"],
             expected: "No common algorithm for content encryption: the sender offers AES-256-GCM, AES-256-CBC, "
                 + "AES-128-GCM; the recipient offers AES-256-CBC; the agreement requires AES-256-GCM."),
        Case(label: "sender key fits no accepted signature",
             recipient: DomainProfile(signatures: [.ecdsaP256SHA256]), senderKey: .ecP384,
             expected: "No common algorithm for signatures for a EC-P384 signing key: the sender offers "
                 + "ECDSA-P256-SHA256, ECDSA-P384-SHA384, RSA-PKCS1-SHA256; the recipient offers ECDSA-P256-SHA256."),
    ]

    @Test("no common algorithm, with a reason naming both sides' lists", arguments: failures)
    func failure(_ entry: Case) {
        do {
            let suite = try AlgorithmNegotiation.negotiate(
                sender: entry.sender, recipient: entry.recipient, recipientCapabilities: entry.capabilities,
                recipientKey: entry.recipientKey, senderKey: entry.senderKey, agreementRequirements: entry.requirements)
            Issue.record("negotiated \(suite)")
        } catch let error as FederationError {
            #expect(error.code == .noCommonAlgorithm)
            #expect(error.reason == entry.expected)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("S/MIME capabilities from a signed message feed negotiation")
    func capabilities() throws {
        let advertised = [SMIMECapability(objectIdentifier: ContentEncryptionAlgorithm.aes256CBC.objectIdentifier,
                                          name: "aes-256-cbc"),
                          SMIMECapability(objectIdentifier: "1.2.840.113549.3.7", name: "des-ede3-cbc")]
        let suite = try AlgorithmNegotiation.negotiate(sender: DomainProfile(), recipient: DomainProfile(),
                                                       recipientCapabilities: advertised, recipientKey: .ecP256)
        #expect(suite.contentEncryption == .aes256CBC)
    }
}
