// A certificate together with its private key: what a server, a responder or a user
// presents and signs with.

/// A certificate and the private key that belongs to it.
public struct CertifiedKey: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey

    /// Fails when `key` is not the private half of `certificate`'s public key.
    public init(certificate: Certificate, key: PrivateKey) throws {
        guard key.matches(certificate.publicKey) else {
            throw CryptoError(.invalidArgument, "The private key does not belong to \(certificate.subject).")
        }
        self.certificate = certificate
        self.key = key
    }
}
