// Test support for the X.509 area: a small PKI (root, issuing CA, leaves) minted per
// test, and a scratch directory in which the openssl command-line tool runs.
import Foundation
import SEMCrypto
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

/// What one openssl run printed.
struct X509ToolResult {
    let status: Int32
    let output: String
    let errors: String
    /// stdout and stderr together, for messages that move between them across versions.
    var all: String { output + errors }
}

/// A temporary directory, removed when the value goes away.
final class X509Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sem-x509-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes a file; private keys are created with mode 0600.
    func write(_ name: String, _ data: Data, secret: Bool = false) throws {
        let created = FileManager.default.createFile(atPath: path(name), contents: data,
                                                     attributes: [.posixPermissions: secret ? 0o600 : 0o644])
        if !created { throw CryptoError(.fileSystem, "could not write \(name)") }
    }

    func write(_ name: String, _ text: String, secret: Bool = false) throws {
        try write(name, Data(text.utf8), secret: secret)
    }

    /// Writes PEM for each certificate, concatenated.
    func write(_ name: String, certificates: [Certificate]) throws {
        try write(name, certificates.map(\.pemEncoded).joined())
    }

    func read(_ name: String) throws -> Data { try Data(contentsOf: url.appendingPathComponent(name)) }

    /// Runs `openssl` with `arguments` in this directory.
    @discardableResult
    func openssl(_ arguments: [String]) throws -> X509ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = url
        // Files rather than pipes: no risk of a full pipe blocking the tool.
        let outName = "stdout-\(UUID().uuidString)", errName = "stderr-\(UUID().uuidString)"
        try write(outName, Data())
        try write(errName, Data())
        let out = try FileHandle(forWritingTo: url.appendingPathComponent(outName))
        let err = try FileHandle(forWritingTo: url.appendingPathComponent(errName))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let result = X509ToolResult(status: process.terminationStatus,
                                    output: String(decoding: try read(outName), as: UTF8.self),
                                    errors: String(decoding: try read(errName), as: UTF8.self))
        try? FileManager.default.removeItem(atPath: path(outName))
        try? FileManager.default.removeItem(atPath: path(errName))
        return result
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
