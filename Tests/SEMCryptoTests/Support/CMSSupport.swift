// Test support for the CMS suites: a temporary directory, a runner for the `openssl`
// command-line tool, and a small PKI (EC CA, EC and RSA-3072 users) that the tool mints
// once per test process.
import Foundation
import SEMCrypto
import SEMTestSupport
import Synchronization

/// The CMS tests' scratch directory: the shared one.
typealias CMSTempDirectory = ScratchDirectory

extension ScratchDirectory {
    /// Writes `data` to `name` with mode 0600 and returns the path.
    @discardableResult
    func write(_ data: Data, to name: String) throws -> String {
        try write(name, data, secret: true)
        return path(name)
    }
}

struct CMSToolFailure: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let errors: String
    var description: String { "`\(command)` exited with \(status): \(errors)" }
}

/// Runs `/usr/bin/openssl` with output captured in files (no pipe can fill up and stall).
enum CMSOpenSSLTool {
    struct Result {
        let status: Int32
        let output: Data
        let errors: String
    }

    static func run(_ arguments: [String], in directory: CMSTempDirectory) throws -> Result {
        let result = try directory.openssl(arguments)
        return Result(status: result.status, output: result.outputData, errors: result.errors)
    }

    /// Runs the tool and throws unless it exits with status 0; returns its standard output.
    @discardableResult
    static func check(_ arguments: [String], in directory: CMSTempDirectory) throws -> Data {
        let result = try run(arguments, in: directory)
        guard result.status == 0 else {
            throw CMSToolFailure(command: "openssl " + arguments.joined(separator: " "), status: result.status,
                                 errors: result.errors)
        }
        return result.output
    }
}

/// A key with its certificate, in memory and as PEM for the command-line tool.
struct CMSTestIdentity: Sendable {
    let name: String
    let key: PrivateKey
    let certificate: Certificate
    let keyPEM: String
    let certificatePEM: String

    /// Writes `<name>.pem` and `<name>.key` into `directory`; returns (certificate, key) paths.
    @discardableResult
    func write(to directory: CMSTempDirectory) throws -> (certificate: String, key: String) {
        (try directory.write(Data(certificatePEM.utf8), to: "\(name).pem"),
         try directory.write(Data(keyPEM.utf8), to: "\(name).key"))
    }

    func signer(chain: [Certificate] = []) throws -> CMSSigner {
        try CMSSigner(key: key, certificate: certificate, chain: chain)
    }
}

/// The test PKI: one EC P-256 CA and users issued by it with S/MIME extensions.
final class CMSTestPKI: Sendable {
    let ca: CMSTestIdentity
    /// EC P-256, digitalSignature + nonRepudiation, alice@example.org.
    let alice: CMSTestIdentity
    /// EC P-256 signing certificate of bob@example.org (signs receipts).
    let bob: CMSTestIdentity
    /// EC P-256, keyAgreement, bob@example.org.
    let bobEncryption: CMSTestIdentity
    /// RSA-3072, keyEncipherment, carol@example.org.
    let carolEncryption: CMSTestIdentity
    /// EC P-256, keyAgreement, dave@example.org; never a recipient in the tests.
    let daveEncryption: CMSTestIdentity

    private static let cache = Mutex<CMSTestPKI?>(nil)

    static func shared() throws -> CMSTestPKI {
        try cache.withLock { cached in
            if let cached { return cached }
            let made = try CMSTestPKI()
            cached = made
            return made
        }
    }

    private init() throws {
        let directory = try CMSTempDirectory()
        // A minimal configuration, so that no default extensions sneak in.
        try directory.write(Data("[req]\ndistinguished_name = dn\n[dn]\n".utf8), to: "req.cnf")
        try CMSOpenSSLTool.check(["req", "-config", "req.cnf", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                                  "-subj", "/CN=CMS Test CA", "-days", "2",
                                  "-addext", "basicConstraints=critical,CA:TRUE",
                                  "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                                  "-addext", "subjectKeyIdentifier=hash"], in: directory)
        ca = try Self.load("ca", from: directory)
        let signing = "keyUsage=critical,digitalSignature,nonRepudiation"
        alice = try Self.issue("alice", "ec", usage: signing, email: "alice@example.org", in: directory)
        bob = try Self.issue("bob", "ec", usage: signing, email: "bob@example.org", in: directory)
        bobEncryption = try Self.issue("bob-enc", "ec", usage: "keyUsage=critical,keyAgreement",
                                       email: "bob@example.org", in: directory)
        carolEncryption = try Self.issue("carol-enc", "rsa:3072", usage: "keyUsage=critical,keyEncipherment",
                                         email: "carol@example.org", in: directory)
        daveEncryption = try Self.issue("dave-enc", "ec", usage: "keyUsage=critical,keyAgreement",
                                        email: "dave@example.org", in: directory)
    }

    private static func issue(_ name: String, _ keyType: String, usage: String, email: String,
                              in directory: CMSTempDirectory) throws -> CMSTestIdentity {
        var arguments = ["req", "-config", "req.cnf", "-new", "-newkey", keyType]
        if keyType == "ec" { arguments += ["-pkeyopt", "ec_paramgen_curve:P-256"] }
        arguments += ["-nodes", "-keyout", "\(name).key", "-subj", "/CN=\(name)", "-x509", "-CA", "ca.pem",
                      "-CAkey", "ca.key", "-days", "2", "-addext", "basicConstraints=critical,CA:FALSE",
                      "-addext", usage, "-addext", "extendedKeyUsage=emailProtection",
                      "-addext", "subjectAltName=email:\(email)", "-out", "\(name).pem"]
        try CMSOpenSSLTool.check(arguments, in: directory)
        return try load(name, from: directory)
    }

    private static func load(_ name: String, from directory: CMSTempDirectory) throws -> CMSTestIdentity {
        let certificatePEM = String(decoding: try directory.read("\(name).pem"), as: UTF8.self)
        let keyPEM = String(decoding: try directory.read("\(name).key"), as: UTF8.self)
        return CMSTestIdentity(name: name, key: try PrivateKey(pemEncoded: keyPEM),
                               certificate: try Certificate(pemEncoded: certificatePEM),
                               keyPEM: keyPEM, certificatePEM: certificatePEM)
    }
}

/// Byte surgery for negative tests.
enum CMSBytes {
    /// A copy of `data` with the byte at `index` inverted.
    static func flip(_ data: Data, at index: Int) -> Data {
        var copy = Data(data)
        copy[index] ^= 0xFF
        return copy
    }

    /// The offset of the first occurrence of `needle` in `data`, if any.
    static func offset(of needle: Data, in data: Data) -> Int? {
        guard let range = data.range(of: needle) else { return nil }
        return range.lowerBound - data.startIndex
    }
}
