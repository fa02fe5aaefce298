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

    /// Server roles that get a TLS certificate, with the host name each answers to.
    public static let serverRoles = ["mail", "ca", "pdp"]

    /// Host name of a role's server in `domain`, e.g. `mail.alpha.test`.
    public static func hostName(role: String, domain: String) -> String { "\(role).\(domain)" }

    /// Generates a fresh domain PKI valid from `time`.
    public static func create(domain: String, at time: Date = Date(), rootLifetime: TimeInterval = 20 * 365 * 86400,
                              issuingLifetime: TimeInterval = 10 * 365 * 86400,
                              serviceLifetime: TimeInterval = 2 * 365 * 86400) throws -> DomainPKI {
        let organisation = ("O", domain)
        let notBefore = time.addingTimeInterval(-300)
        let root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([organisation, ("CN", "\(domain) Root CA")]),
            key: try PrivateKey.generate(.ecP256), notBefore: notBefore,
            notAfter: time.addingTimeInterval(rootLifetime))
        let issuingKey = try PrivateKey.generate(.ecP256)
        let issuingCertificate = try root.issue(.issuingCA, CertificateParameters(
            subject: DistinguishedName([organisation, ("CN", "\(domain) Issuing CA")]), publicKey: issuingKey.publicKey,
            notBefore: notBefore, notAfter: time.addingTimeInterval(issuingLifetime)))
        let issuing = try CertificateIssuer(certificate: issuingCertificate, key: issuingKey)

        func service(_ profile: CertificateProfile, name: String, emails: [String] = [],
                     dnsNames: [String] = []) throws -> CertifiedKey {
            let key = try PrivateKey.generate(.ecP256)
            let certificate = try issuing.issue(profile, CertificateParameters(
                subject: DistinguishedName([organisation, ("CN", name)]), publicKey: key.publicKey,
                notBefore: notBefore, notAfter: time.addingTimeInterval(serviceLifetime),
                emailAddresses: emails, dnsNames: dnsNames))
            return try CertifiedKey(certificate: certificate, key: key)
        }

        let responder = try service(.ocspResponder, name: "\(domain) OCSP Responder")
        let archive = try service(.userEncryption, name: "\(domain) Key Archive", emails: ["key-archive@\(domain)"])
        var servers: [String: CertifiedKey] = [:]
        for role in serverRoles {
            let host = hostName(role: role, domain: domain)
            servers[role] = try service(.tlsServer, name: host, dnsNames: [host])
        }
        let identity = CAIdentity(domain: domain, root: root.certificate, issuer: issuing, ocspResponder: responder,
                                  keyArchive: archive)
        return DomainPKI(identity: identity, servers: servers)
    }
}
