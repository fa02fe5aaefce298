// Test support for the registry: per-test PKIs for domains (root, administrator, mail
// server) and for SMI signers, and logs in in-memory databases.
import Foundation
import SEMCrypto
import SEMFederation
import SEMPolicy
import SEMRegistry
import SEMStorage

/// Whole seconds: log entries keep times to the second.
let registryNow = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

/// One domain's PKI and its signed registration request.
struct RegistryTestDomain {
    let name: String
    let root: CertificateIssuer
    let admin: CMSSigner
    let serverCertificate: Certificate

    init(_ name: String) throws {
        self.name = name
        root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("O", name), ("CN", "\(name) Root")]), key: try PrivateKey.generate(.ecP256),
            notBefore: registryNow - 3600, notAfter: registryNow + 10 * 365 * 86400)
        admin = try Self.user(of: root, name: name, address: "admin@\(name)")
        let serverKey = try PrivateKey.generate(.ecP256)
        serverCertificate = try root.issue(.domainServer, CertificateParameters(
            subject: DistinguishedName([("O", name), ("CN", "mx.\(name)")]), publicKey: serverKey.publicKey,
            notBefore: registryNow - 60, notAfter: registryNow + 365 * 86400, dnsNames: ["mx.\(name)"]))
    }

    /// A signing certificate below `root` for `address`.
    static func user(of root: CertificateIssuer, name: String, address: String) throws -> CMSSigner {
        let key = try PrivateKey.generate(.ecP256)
        let certificate = try root.issue(.userSigning, CertificateParameters(
            subject: DistinguishedName([("O", name), ("CN", address)]), publicKey: key.publicKey,
            notBefore: registryNow - 60, notAfter: registryNow + 365 * 86400, emailAddresses: [address]))
        return try CMSSigner(key: key, certificate: certificate)
    }

    var registration: DomainRegistration {
        DomainRegistration(domain: name, rootCertificate: root.certificate,
                           servers: [TrustedServer(hostName: "mx.\(name)", smtp: "mx.\(name):25",
                                                   https: "mx.\(name):443", certificate: serverCertificate)])
    }

    func request(signedBy signer: CMSSigner? = nil) throws -> Data {
        try registration.signedRequest(by: signer ?? admin)
    }
}

/// An SMI signer: a registrySigner certificate below its own root.
struct RegistryTestSMI {
    let signer: CertifiedKey

    init(name: String = "SMI") throws {
        let root = try CertificateIssuer.selfSignedRoot(
            subject: DistinguishedName([("O", "Federation"), ("CN", "\(name) Root")]), key: try PrivateKey.generate(.ecP256),
            notBefore: registryNow - 3600, notAfter: registryNow + 10 * 365 * 86400)
        let key = try PrivateKey.generate(.ecP256)
        let certificate = try root.issue(.registrySigner, CertificateParameters(
            subject: DistinguishedName([("O", "Federation"), ("CN", "\(name) Registry Signer")]), publicKey: key.publicKey,
            notBefore: registryNow - 60, notAfter: registryNow + 365 * 86400))
        signer = try CertifiedKey(certificate: certificate, key: key)
    }

    var certificate: Certificate { signer.certificate }
}

/// A log in a fresh in-memory database.
func makeRegistryLog() throws -> RegistryLog {
    try RegistryLog(database: try Database.inMemory())
}

extension RegistryLog {
    /// Registers and approves `domain`.
    func admit(_ domain: RegistryTestDomain, smi: RegistryTestSMI) throws {
        try register(request: try domain.request(), signer: smi.signer, at: registryNow)
        try append(.domainApproved, domain: domain.name, payload: StatusPayload(reason: "checked by the operator"),
                   signer: smi.signer, at: registryNow)
    }

    /// Overwrites the stored bytes of one entry, as an attacker with database access could.
    func overwrite(sequence: UInt64, with bytes: Data, hash: String? = nil) throws {
        try database.execute("UPDATE entries SET bytes = ?, hash = COALESCE(?, hash) WHERE sequence = ?",
                             [.blob(bytes), .optional(hash), .integer(Int64(sequence))])
    }
}

/// Terms for mail both ways between alpha.test and beta.test, proposed by alpha.
func alphaBetaTerms(id: String = "alpha-beta") throws -> BilateralTerms {
    BilateralTerms(
        id: id, proposingDomain: "alpha.test", acceptingDomain: "beta.test", proposer: "admin@alpha.test",
        directions: [
            AgreementDirection(from: "alpha.test", to: "beta.test", senders: [try AddressPattern("*@alpha.test")],
                               recipients: [try AddressPattern("*@beta.test")]),
            AgreementDirection(from: "beta.test", to: "alpha.test", senders: [try AddressPattern("*@beta.test")],
                               recipients: [try AddressPattern("*@alpha.test")]),
        ],
        notBefore: registryNow - 86400, notAfter: registryNow + 365 * 86400)
}

extension Data {
    /// A copy with the first occurrence of the bytes of `old` replaced by those of `new`;
    /// works on binary data (DER) as well as on JSON.
    func replacingRegistryText(_ old: String, with new: String) -> Data {
        guard let range = range(of: Data(old.utf8)) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: Data(new.utf8))
        return copy
    }
}
