// Creating a security domain's PKI: root CA, issuing CA, OCSP responder, key-archive
// certificate and the TLS certificates of the domain's servers. Every key is EC P-256
// (architecture §4: servers and CAs sign with P-256 for throughput).
public import Foundation
public import SEMCrypto

/// The certificates and keys a new domain starts with.
public struct DomainPKI: Sendable {
    public let identity: CAIdentity
    /// TLS server certificates (with the issuing CA's signature) for each server role,
    /// keyed by role name: "mail", "ca", "pdp".
    public let servers: [String: CertifiedKey]
    /// The domain administrator's signing certificate and key: signs the domain's
    /// registration at the federation registry and its agreements with other domains.
    public let administrator: CertifiedKey
    /// The root's CRL, which covers the issuing CA. The root signs it once at creation
    /// with a long lifetime, so the root key can stay offline afterwards; it must be
    /// reissued before `nextUpdate` or when the issuing CA is revoked.
    public let rootCRL: CertificateRevocationList

    /// Server roles that get a TLS certificate, with the host name each answers to.
    public static let serverRoles = ["mail", "ca", "pdp"]

    /// Host name of a role's server in `domain`, e.g. `mail.alpha.test`.
    public static func hostName(role: String, domain: String) -> String { "\(role).\(domain)" }

    /// Labels of the keys a domain holds, in the key store of its choice.
    public enum KeyLabel {
        public static let root = "root-ca"
        public static let issuing = "issuing-ca"
        public static let ocspResponder = "ocsp-responder"
        public static let keyArchive = "key-archive"
        public static let administrator = "domain-admin"
        public static func server(_ role: String) -> String { "tls-\(role)" }
    }

    /// Generates a fresh domain PKI valid from `time`. `keyStore`, when given, creates
    /// and keeps every key (an encrypted key file directory or a token); otherwise the
    /// keys exist in memory only.
    public static func create(domain: String, keyStore: (any KeyStore)? = nil, revocationBaseURL: String? = nil,
                              at time: Date = Date(), rootLifetime: TimeInterval = 20 * 365 * 86400,
                              rootCRLLifetime: TimeInterval = 365 * 86400,
                              issuingLifetime: TimeInterval = 10 * 365 * 86400,
                              serviceLifetime: TimeInterval = 2 * 365 * 86400) throws -> DomainPKI {
        func makeKey(_ label: String) throws -> PrivateKey {
            try keyStore?.generateKey(label: label, algorithm: .ecP256) ?? PrivateKey.generate(.ecP256)
        }
        let organisation = ("O", domain)
        let notBefore = time.addingTimeInterval(-300)
        let root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([organisation, ("CN", "\(domain) Root CA")]),
            key: try makeKey(KeyLabel.root), notBefore: notBefore,
            notAfter: time.addingTimeInterval(rootLifetime))
        let issuingKey = try makeKey(KeyLabel.issuing)
        let issuingCertificate = try root.issue(.issuingCA, CertificateParameters(
            subject: DistinguishedName([organisation, ("CN", "\(domain) Issuing CA")]), publicKey: issuingKey.publicKey,
            notBefore: notBefore, notAfter: time.addingTimeInterval(issuingLifetime),
            crlDistributionPoint: revocationBaseURL.map { "\($0)/crl/root.crl" }))
        let issuing = try CertificateIssuer(certificate: issuingCertificate, key: issuingKey)

        func service(_ profile: CertificateProfile, label: String, name: String, emails: [String] = [],
                     dnsNames: [String] = []) throws -> CertifiedKey {
            let key = try makeKey(label)
            // The responder itself carries id-pkix-ocsp-nocheck and no revocation pointers.
            let revocable = profile != .ocspResponder
            let certificate = try issuing.issue(profile, CertificateParameters(
                subject: DistinguishedName([organisation, ("CN", name)]), publicKey: key.publicKey,
                notBefore: notBefore, notAfter: time.addingTimeInterval(serviceLifetime),
                emailAddresses: emails, dnsNames: dnsNames,
                crlDistributionPoint: revocable ? revocationBaseURL.map { "\($0)/crl/issuing.crl" } : nil,
                ocspResponderURL: revocable ? revocationBaseURL.map { "\($0)/ocsp" } : nil))
            return try CertifiedKey(certificate: certificate, key: key)
        }

        let responder = try service(.ocspResponder, label: KeyLabel.ocspResponder, name: "\(domain) OCSP Responder")
        let archive = try service(.userEncryption, label: KeyLabel.keyArchive, name: "\(domain) Key Archive",
                                  emails: ["key-archive@\(domain)"])
        let administrator = try service(.userSigning, label: KeyLabel.administrator, name: "\(domain) Administrator",
                                        emails: ["admin@\(domain)"])
        var servers: [String: CertifiedKey] = [:]
        for role in serverRoles {
            let host = hostName(role: role, domain: domain)
            servers[role] = try service(.domainServer, label: KeyLabel.server(role), name: host, dnsNames: [host])
        }
        let rootCRL = try CertificateRevocationList.issue(
            issuer: root.certificate, key: root.key, thisUpdate: notBefore,
            nextUpdate: time.addingTimeInterval(rootCRLLifetime), crlNumber: 1, revoked: [])
        let identity = CAIdentity(domain: domain, root: root.certificate, issuer: issuing, ocspResponder: responder,
                                  keyArchive: archive, rootCRL: rootCRL)
        return DomainPKI(identity: identity, servers: servers, administrator: administrator, rootCRL: rootCRL)
    }
}
