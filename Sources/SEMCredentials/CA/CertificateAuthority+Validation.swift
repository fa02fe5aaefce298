// Path validation inside the CA server itself: for its own certificates the CA consults
// its records directly rather than fetching its own CRL or OCSP over the network.
public import Foundation
public import SEMCrypto

/// Answers revocation questions from the CA's database (for certificates its issuing
/// CA signed) and from the root CRL (for the issuing CA).
public struct CARecordsRevocationChecker: RevocationChecker {
    public let ca: CertificateAuthority

    public init(ca: CertificateAuthority) { self.ca = ca }

    public func status(of certificate: Certificate, issuer: Certificate, at time: Date) -> RevocationStatus {
        guard issuer == ca.identity.issuer.certificate else {
            return RevocationEvidence(crls: [ca.identity.rootCRL]).status(of: certificate, issuer: issuer, at: time)
        }
        guard let issued = try? ca.store.certificate(serialHex: certificate.serialNumberHex) else {
            return .unknown("the CA has no record of serial \(certificate.serialNumberHex)")
        }
        if let revokedAt = issued.revokedAt, revokedAt <= time {
            return .revoked(date: revokedAt, reason: RevocationReason(rawValue: issued.revocationReason ?? 0) ?? .unspecified,
                            source: .issuerRecords)
        }
        return .good(source: .issuerRecords)
    }
}

extension CertificateAuthority {
    /// A validator that trusts this domain's root and checks revocation in the CA's records.
    public var localValidator: PathValidator {
        PathValidator(trustAnchors: [identity.root], knownIntermediates: [identity.issuer.certificate],
                      revocationChecker: CARecordsRevocationChecker(ca: self))
    }

    /// Records a server certificate (for example the domain's mail server) so that the
    /// CA's own checks and its OCSP responder know it.
    public func recordServerCertificate(_ certificate: Certificate, role: String, at time: Date = Date()) throws {
        try recordCertificate(certificate, address: "\(role).\(identity.domain)", kind: .server, at: time)
    }

    /// Records a certificate issued outside enrolment (domain creation); a certificate
    /// already known is left as it is.
    public func recordCertificate(_ certificate: Certificate, address: String, kind: CertificateKind,
                                  at time: Date = Date()) throws {
        guard try store.certificate(serialHex: certificate.serialNumberHex) == nil else { return }
        try store.record(IssuedCertificate(serialHex: certificate.serialNumberHex, address: address, kind: kind,
                                           der: certificate.derEncoded, notAfter: certificate.notAfter,
                                           revokedAt: nil, revocationReason: nil), at: time)
    }
}
