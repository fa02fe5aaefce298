// Test support for the federation area: per-test PKIs for domains (root, administrator,
// mail server) and for the SMI signer, and a trust list built from them.
import Foundation
import SEMCrypto
import SEMFederation
import SEMPolicy

/// Whole seconds: signed documents keep dates to the second.
let federationNow = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

/// One domain's PKI: a root, its administrator's signing certificate and a mail server.
struct TestDomain {
    let name: String
    let root: CertificateIssuer
    let admin: CMSSigner
    let serverCertificate: Certificate

    init(_ name: String, profile: DomainProfile = DomainProfile()) throws {
        self.name = name
        let now = federationNow
        root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("O", name), ("CN", "\(name) Root")]), key: try PrivateKey.generate(.ecP256),
            notBefore: now - 3600, notAfter: now + 10 * 365 * 86400)
        let adminKey = try PrivateKey.generate(.ecP256)
        let adminCert = try root.issue(.userSigning, CertificateParameters(
            subject: DistinguishedName([("O", name), ("CN", "Administrator")]), publicKey: adminKey.publicKey,
            notBefore: now - 60, notAfter: now + 365 * 86400, emailAddresses: ["admin@\(name)"]))
        admin = try CMSSigner(key: adminKey, certificate: adminCert)
        let serverKey = try PrivateKey.generate(.ecP256)
        serverCertificate = try root.issue(.domainServer, CertificateParameters(
            subject: DistinguishedName([("O", name), ("CN", "mx.\(name)")]), publicKey: serverKey.publicKey,
            notBefore: now - 60, notAfter: now + 365 * 86400, dnsNames: ["mx.\(name)"]))
    }

    func entry(status: DomainStatus = .active, profile: DomainProfile = DomainProfile()) -> TrustedDomain {
        TrustedDomain(name: name, status: status, rootCertificate: root.certificate,
                      servers: [TrustedServer(hostName: "mx.\(name)", smtp: "mx.\(name):25", https: "mx.\(name):443",
                                              certificate: serverCertificate)],
                      profile: profile)
    }
}

/// The SMI operator's signer: a registrySigner certificate below an SMI root.
struct TestSMI {
    let signer: CertifiedKey

    init(name: String = "SMI") throws {
        let now = federationNow
        let root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("O", "Federation"), ("CN", "\(name) Root")]), key: try PrivateKey.generate(.ecP256),
            notBefore: now - 3600, notAfter: now + 10 * 365 * 86400)
        let key = try PrivateKey.generate(.ecP256)
        let certificate = try root.issue(.registrySigner, CertificateParameters(
            subject: DistinguishedName([("O", "Federation"), ("CN", "\(name) Trust List Signer")]), publicKey: key.publicKey,
            notBefore: now - 60, notAfter: now + 365 * 86400))
        signer = try CertifiedKey(certificate: certificate, key: key)
    }

    var certificate: Certificate { signer.certificate }
}

/// A federation of alpha.test, beta.test and gamma.test with an SMI.
struct TestFederation {
    let smi: TestSMI
    let alpha: TestDomain
    let beta: TestDomain
    let gamma: TestDomain

    init() throws {
        smi = try TestSMI()
        alpha = try TestDomain("alpha.test")
        beta = try TestDomain("beta.test")
        gamma = try TestDomain("gamma.test")
    }

    var verification: AgreementVerification {
        AgreementVerification(roots: [alpha.name: alpha.root.certificate, beta.name: beta.root.certificate,
                                      gamma.name: gamma.root.certificate])
    }

    /// alice's domain writes to bob's and back, proposed by alpha, accepted by beta.
    func alphaBetaAgreement(id: String = "alpha-beta") throws -> BilateralAgreement {
        let terms = BilateralTerms(
            id: id, proposingDomain: "alpha.test", acceptingDomain: "beta.test", proposer: "admin@alpha.test",
            directions: [
                AgreementDirection(from: "alpha.test", to: "beta.test", senders: [try AddressPattern("*@alpha.test")],
                                   recipients: [try AddressPattern("*@beta.test")],
                                   conditions: AgreementConditions(minimumAssurance: .substantial,
                                                                   requiredAlgorithms: ["AES-256-GCM"],
                                                                   receiptsRequired: true)),
                AgreementDirection(from: "beta.test", to: "alpha.test", senders: [try AddressPattern("*@beta.test")],
                                   recipients: [try AddressPattern("*@alpha.test")]),
            ],
            notBefore: federationNow - 86400, notAfter: federationNow + 365 * 86400)
        var agreement = try BilateralAgreement.propose(terms, signer: alpha.admin)
        try agreement.accept(signer: beta.admin, verification: verification, at: federationNow)
        return agreement
    }

    func list(sequence: UInt64, issuedAt: Date = federationNow, nextUpdate: Date? = nil,
              agreements: [BilateralAgreement] = [], betaStatus: DomainStatus = .active) -> TrustList {
        TrustList(sequence: sequence, issuedAt: issuedAt, nextUpdate: nextUpdate ?? issuedAt + 7 * 86400,
                  issuer: "Test SMI", domains: [alpha.entry(), beta.entry(status: betaStatus), gamma.entry()],
                  agreements: agreements)
    }
}

extension Data {
    /// A copy with one byte changed, for tamper tests.
    func flippingFederationByte(at offset: Int) -> Data {
        var copy = self
        copy[copy.startIndex + offset] ^= 0x01
        return copy
    }
}
