// Test support for the message suites: a small PKI minted with CertificateIssuer (EC
// P-256 CA; EC signing and encryption certificates; one RSA-3072 encryption
// certificate), shared per test process, and helpers for the openssl tool.
import Foundation
import SEMCrypto
import SEMMessage
import SEMTestSupport
import Synchronization

/// A person with a signing and an encryption identity.
struct MessageTestUser: Sendable {
    let address: String
    let signingKey: PrivateKey
    let signingCertificate: Certificate
    let encryptionKey: PrivateKey
    let encryptionCertificate: Certificate

    func signer(chain: [Certificate]) throws -> CMSSigner {
        try CMSSigner(key: signingKey, certificate: signingCertificate, chain: chain)
    }
}

final class MessageTestPKI: Sendable {
    let caKey: PrivateKey
    let caCertificate: Certificate
    /// EC sender.
    let alice: MessageTestUser
    /// EC recipient.
    let bob: MessageTestUser
    /// RSA-3072 encryption key (EC signing key).
    let carol: MessageTestUser

    private static let cache = Mutex<MessageTestPKI?>(nil)

    static func shared() throws -> MessageTestPKI {
        try cache.withLock { cached in
            if let cached { return cached }
            let made = try MessageTestPKI()
            cached = made
            return made
        }
    }

    private init() throws {
        let now = Date()
        caKey = try PrivateKey.generate(.ecP256)
        let root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("O", "Example"), ("CN", "Message Test CA")]), key: caKey,
            notBefore: now - 3600, notAfter: now + 86400 * 30)
        caCertificate = root.certificate
        func user(_ name: String, encryption: KeyAlgorithm) throws -> MessageTestUser {
            let address = "\(name)@example.org"
            let signingKey = try PrivateKey.generate(.ecP256)
            let encryptionKey = try PrivateKey.generate(encryption)
            func issue(_ profile: CertificateProfile, _ key: PrivateKey) throws -> Certificate {
                try root.issue(profile, CertificateParameters(
                    subject: DistinguishedName([("O", "Example"), ("CN", name)]), publicKey: key.publicKey,
                    notBefore: now - 60, notAfter: now + 86400 * 30, emailAddresses: [address]))
            }
            return MessageTestUser(address: address, signingKey: signingKey,
                                   signingCertificate: try issue(.userSigning, signingKey),
                                   encryptionKey: encryptionKey,
                                   encryptionCertificate: try issue(.userEncryption, encryptionKey))
        }
        alice = try user("alice", encryption: .ecP256)
        bob = try user("bob", encryption: .ecP256)
        carol = try user("carol", encryption: .rsa(bits: 3072))
    }
}

enum MessageTestTool {
    /// Runs openssl in `directory`, throwing with its error text unless it exits with 0.
    @discardableResult
    static func openssl(_ arguments: [String], in directory: ScratchDirectory, input: Data? = nil) throws -> Data {
        let result = try directory.openssl(arguments, input: input)
        guard result.status == 0 else {
            throw ScratchError("openssl \(arguments.joined(separator: " ")) exited with \(result.status): \(result.errors)")
        }
        return result.outputData
    }

    /// Writes a key (mode 0600) and certificate as PEM; returns their file names.
    static func write(key: PrivateKey, certificate: Certificate, name: String,
                      in directory: ScratchDirectory) throws -> (key: String, certificate: String) {
        try directory.write("\(name).key", try key.pkcs8PEM(), secret: true)
        try directory.write("\(name).pem", certificate.pemEncoded)
        return ("\(name).key", "\(name).pem")
    }
}

/// A deterministic byte stream (xorshift) for large-attachment tests, produced in pieces.
struct PatternStream {
    private var state: UInt64
    private(set) var remaining: Int

    init(seed: UInt64, length: Int) {
        state = seed | 1
        remaining = length
    }

    mutating func next(maximum: Int) -> Data? {
        guard remaining > 0 else { return nil }
        let count = min(maximum, remaining)
        remaining -= count
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[index] = UInt8(truncatingIfNeeded: state)
        }
        return Data(bytes)
    }
}
