// Who the mail server is and whom it trusts locally: its TLS certificate and key (which
// also sign transfer assertions and delivery notifications), the domain's root and issuing
// CA, and the validator that checks local certificates with revocation (OCSP from the CA,
// the root CRL as evidence for the issuing CA).
import Foundation
public import SEMCrypto

public struct MailServerIdentity: Sendable {
    public let domain: String
    /// The server's certificate (naming mail.<domain>) and key.
    public let credential: CertifiedKey
    /// What the server presents in TLS: its certificate and the issuing CA.
    public let chain: [Certificate]
    public let root: Certificate
    public let issuing: Certificate
    /// Validates local users' and servers' certificates, revocation included.
    public let localValidator: PathValidator

    public init(domain: String, credential: CertifiedKey, chain: [Certificate], root: Certificate, issuing: Certificate,
                localValidator: PathValidator) {
        self.domain = domain.lowercased()
        self.credential = credential
        self.chain = chain
        self.root = root
        self.issuing = issuing
        self.localValidator = localValidator
    }

    /// The host name on the server's certificate.
    public var hostName: String { credential.certificate.dnsNames.first ?? "mail.\(domain)" }

    /// Signs server statements (transfer assertions, notifications) as CMS SignedData.
    public func signer() throws -> CMSSigner {
        try CMSSigner(key: credential.key, certificate: credential.certificate, chain: [issuing])
    }

    /// The TLS context for connections this server makes to the domain's own servers
    /// (PDP, CA): their certificates must chain to the local root.
    public func localClientTLS() throws -> TLSContext {
        try TLSContext(.client(peerVerifier: PathValidatingPeerVerifier(validator: localValidator, purpose: .tlsServer),
                               chain: chain, key: credential.key))
    }
}
