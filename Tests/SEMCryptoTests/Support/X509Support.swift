// Test support for the X.509 area: a small PKI (root, issuing CA, leaves) minted per
// test, and a scratch directory in which the openssl command-line tool runs.
import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

/// A root CA, an issuing CA below it, and a way to issue leaves. EC P-256 keys keep it fast.
struct X509TestPKI {
    static let crlURL = "http://ca.example.test/issuing.crl"
    static let ocspURL = "http://ocsp.example.test/"
    static let policy = "1.3.6.1.4.1.55555.1.1"

    let now = Date()
    let root: CertificateIssuer
    let issuing: CertificateIssuer

    init(rootName: String = "Test Root") throws {
        let rootKey = try PrivateKey.generate(.ecP256)
        root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("C", "SE"), ("O", "Example"), ("CN", rootName)]), key: rootKey,
            notBefore: now - 3600, notAfter: now + 10 * 365 * 86400)
        let issuingKey = try PrivateKey.generate(.ecP256)
        let issuingCert = try root.issue(.issuingCA, CertificateParameters(
            subject: DistinguishedName([("C", "SE"), ("O", "Example"), ("CN", "\(rootName) Issuing CA")]),
            publicKey: issuingKey.publicKey, notBefore: now - 3600, notAfter: now + 5 * 365 * 86400))
        issuing = try CertificateIssuer(certificate: issuingCert, key: issuingKey)
    }

    /// A leaf of `profile` with a fresh key (or `key`), an e-mail and a DNS name, the
    /// policy, CRL and OCSP locations.
    func leaf(_ profile: CertificateProfile, key: PrivateKey? = nil, name: String = "Alice",
              emails: [String]? = nil, dnsNames: [String]? = nil)
        throws -> (certificate: Certificate, key: PrivateKey) {
        let key = try key ?? PrivateKey.generate(.ecP256)
        let parameters = CertificateParameters(
            subject: DistinguishedName([("O", "Example"), ("CN", name)]), publicKey: key.publicKey,
            notBefore: now - 60, notAfter: now + 365 * 86400,
            emailAddresses: emails ?? ["\(name.lowercased())@example.test"],
            dnsNames: dnsNames ?? ["\(name.lowercased()).example.test"], policies: [Self.policy],
            crlDistributionPoint: Self.crlURL, ocspResponderURL: Self.ocspURL)
        return (try issuing.issue(profile, parameters), key)
    }
}

/// The X.509 tests' scratch directory: the shared one, plus PEM bundles.
typealias X509Scratch = ScratchDirectory

extension ScratchDirectory {
    /// Writes PEM for each certificate, concatenated.
    func write(_ name: String, certificates: [Certificate]) throws {
        try write(name, certificates.map(\.pemEncoded).joined())
    }
}

extension Data {
    /// A copy with one byte changed, for tamper tests.
    func flippingByte(at offset: Int) -> Data {
        var copy = self
        copy[copy.startIndex + offset] ^= 0x01
        return copy
    }
}

extension Date {
    /// Certificates and CRLs keep whole seconds.
    var roundedDownToSecond: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
