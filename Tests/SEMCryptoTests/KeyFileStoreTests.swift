import Foundation
import SEMCrypto
import SEMTestSupport
import Testing

@Suite("Encrypted key file store")
struct KeyFileStoreTests {
    static let passphrase = "a long passphrase for tests"
    /// Low on purpose: tests would take minutes at the default 600,000.
    static let iterations = 20_000

    private func withStore<R>(_ body: (EncryptedKeyFileStore, URL) throws -> R) throws -> R {
        try KeyStoreTestSupport.withTemporaryDirectory { root in
            let directory = root.appendingPathComponent("keys", isDirectory: true)
            let store = try EncryptedKeyFileStore(directory: directory, passphrase: Secret(Self.passphrase),
                                                  iterations: Self.iterations)
            return try body(store, directory)
        }
    }

    @Test("generated and imported keys come back and can be deleted", arguments: [KeyAlgorithm.ecP256, .rsa3072])
    func roundTrip(_ algorithm: KeyAlgorithm) throws {
        try withStore { store, _ in
            let generated = try store.generateKey(label: "generated", algorithm: algorithm)
            let imported = try PrivateKey.generate(.ecP384)
            try store.importKey(imported, label: "imported.1")
            #expect(try store.labels() == ["generated", "imported.1"])
            let reopened = try store.privateKey(label: "generated")
            #expect(reopened.matches(generated.publicKey))
            #expect(reopened.algorithm == algorithm)
            #expect(reopened.location == .memory)
            #expect(try store.privateKey(label: "imported.1").matches(imported.publicKey))
            try store.deleteKey(label: "generated")
            #expect(try store.labels() == ["imported.1"])
            #expect(throws: CryptoError(.keyNotFound, "")) { try store.privateKey(label: "generated") }
        }
    }

    @Test("a wrong passphrase gives wrong-passphrase")
    func wrongPassphrase() throws {
        try withStore { store, directory in
            _ = try store.generateKey(label: "k", algorithm: .ecP256)
            let other = try EncryptedKeyFileStore(directory: directory, passphrase: Secret("not the passphrase"),
                                                  iterations: Self.iterations)
            #expect(throws: CryptoError(.wrongPassphrase, "")) { try other.privateKey(label: "k") }
        }
    }

    @Test("a missing label gives key-not-found for loading and deleting")
    func missingLabel() throws {
        try withStore { store, _ in
            #expect(throws: CryptoError(.keyNotFound, "")) { try store.privateKey(label: "absent") }
            #expect(throws: CryptoError(.keyNotFound, "")) { try store.deleteKey(label: "absent") }
        }
    }

    @Test("a label in use is refused and the existing file is left untouched")
    func duplicateLabel() throws {
        try withStore { store, _ in
            let first = try store.generateKey(label: "mine", algorithm: .ecP256)
            let file = try store.fileURL(label: "mine")
            let before = try Data(contentsOf: file)
            let other = try PrivateKey.generate(.ecP256)
            #expect(throws: CryptoError(.invalidArgument, "")) {
                try store.generateKey(label: "mine", algorithm: .ecP256)
            }
            #expect(throws: CryptoError(.invalidArgument, "")) { try store.importKey(other, label: "mine") }
            #expect(try Data(contentsOf: file) == before)
            #expect(try store.privateKey(label: "mine").matches(first.publicKey))
        }
    }

    @Test("labels that could escape the directory or hide a file are refused",
          arguments: ["", "../escape", "a/b", ".hidden", "spaced label", String(repeating: "x", count: 65)])
    func badLabels(_ label: String) throws {
        try withStore { store, _ in
            #expect(throws: CryptoError(.invalidArgument, "")) {
                try store.generateKey(label: label, algorithm: .ecP256)
            }
            #expect(throws: CryptoError(.invalidArgument, "")) { try store.privateKey(label: label) }
        }
    }

    @Test("key files are 0600, the directory 0700, and no temporary files remain")
    func permissionsAndNoTemporaryFiles() throws {
        try withStore { store, directory in
            for index in 0..<3 { _ = try store.generateKey(label: "key-\(index)", algorithm: .ecP256) }
            try store.importKey(try PrivateKey.generate(.ecP256), label: "imported")
            _ = try? store.generateKey(label: "key-0", algorithm: .ecP256)  // a refused write
            #expect(try KeyStoreTestSupport.mode(of: directory) == 0o700)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            #expect(names == ["imported.key.pem", "key-0.key.pem", "key-1.key.pem", "key-2.key.pem"])
            for name in names {
                #expect(try KeyStoreTestSupport.mode(of: directory.appendingPathComponent(name)) == 0o600)
            }
        }
    }

    @Test("a key file that others can read is refused until it is 0600 again", arguments: [0o640, 0o604, 0o620])
    func looseFileRefused(_ mode: Int) throws {
        try withStore { store, _ in
            let key = try store.generateKey(label: "loose", algorithm: .ecP256)
            let file = try store.fileURL(label: "loose")
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file.path)
            let error = try #require(throws: CryptoError.self) { try store.privateKey(label: "loose") }
            #expect(error.code == .fileSystem)
            #expect(error.reason.contains("chmod 600"))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
            #expect(try store.privateKey(label: "loose").matches(key.publicKey))
        }
    }

    @Test("a symbolic link in place of a key file is refused")
    func symlinkRefused() throws {
        try withStore { store, directory in
            _ = try store.generateKey(label: "real", algorithm: .ecP256)
            try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("alias.key.pem"),
                                                       withDestinationURL: try store.fileURL(label: "real"))
            #expect(throws: CryptoError(.fileSystem, "")) { try store.privateKey(label: "alias") }
        }
    }

    @Test("an unencrypted key file is refused rather than opened")
    func clearKeyRefused() throws {
        try withStore { store, _ in
            let file = try store.fileURL(label: "clear")
            let pem = try PrivateKey.generate(.ecP256).pkcs8PEM()
            #expect(FileManager.default.createFile(atPath: file.path, contents: Data(pem.utf8),
                                                   attributes: [.posixPermissions: 0o600]))
            #expect(throws: CryptoError(.malformedInput, "")) { try store.privateKey(label: "clear") }
        }
    }

    @Test("the file is encrypted PKCS#8 and holds neither the passphrase nor the clear key")
    func fileIsEncrypted() throws {
        try withStore { store, _ in
            let key = try store.generateKey(label: "sealed", algorithm: .ecP256)
            let text = try String(contentsOf: try store.fileURL(label: "sealed"), encoding: .utf8)
            #expect(text.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
            #expect(!text.contains(Self.passphrase))
            let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            let der = try #require(Data(base64Encoded: body))
            #expect(der.range(of: Data(Self.passphrase.utf8)) == nil)
            // The clear PKCS#8 encoding contains the private scalar; none of it may show.
            let clear = try key.pkcs8DER()
            #expect(der.range(of: clear.suffix(32)) == nil)
            #expect(der.range(of: clear.prefix(48)) == nil)
        }
    }

    @Test("openssl pkey opens the file with the passphrase and prints the same public key")
    func opensslReadsTheFile() throws {
        try withStore { store, _ in
            let key = try store.generateKey(label: "interop", algorithm: .rsa3072)
            let file = try store.fileURL(label: "interop")
            let result = try KeyStoreTestSupport.run(
                "openssl", ["pkey", "-in", file.path, "-passin", "pass:\(Self.passphrase)", "-pubout"])
            try #require(result.status == 0, "openssl pkey failed: \(result.errors)")
            #expect(try PublicKey(pemEncoded: result.output) == key.publicKey)
            let wrong = try KeyStoreTestSupport.run("openssl", ["pkey", "-in", file.path, "-passin", "pass:wrong",
                                                                "-pubout"])
            #expect(wrong.status != 0)
        }
    }

    @Test("without an explicit count the store writes 600,000 PBKDF2-HMAC-SHA256 iterations")
    func defaultIterations() throws {
        try KeyStoreTestSupport.withTemporaryDirectory { root in
            let store = try EncryptedKeyFileStore(directory: root, passphrase: Secret(Self.passphrase))
            #expect(store.iterations == PrivateKey.defaultKDFIterations)
            _ = try store.generateKey(label: "slow", algorithm: .ecP256)
            let file = try store.fileURL(label: "slow")
            let parsed = try KeyStoreTestSupport.run("openssl", ["asn1parse", "-in", file.path])
            try #require(parsed.status == 0, "openssl asn1parse failed: \(parsed.errors)")
            #expect(parsed.output.contains("INTEGER           :0927C0"))  // 600,000
            #expect(parsed.output.contains("hmacWithSHA256"))
            #expect(parsed.output.contains("aes-256-cbc"))
        }
    }

    @Test("an empty passphrase, too few iterations and a world-writable directory are refused")
    func badConfiguration() throws {
        try KeyStoreTestSupport.withTemporaryDirectory { root in
            #expect(throws: CryptoError(.invalidArgument, "")) {
                try EncryptedKeyFileStore(directory: root, passphrase: Secret(""))
            }
            #expect(throws: CryptoError(.invalidArgument, "")) {
                try EncryptedKeyFileStore(directory: root, passphrase: Secret("p"), iterations: 1_000)
            }
            let open = root.appendingPathComponent("open", isDirectory: true)
            try FileManager.default.createDirectory(at: open, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o777])
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: open.path)
            #expect(throws: CryptoError(.fileSystem, "")) {
                try EncryptedKeyFileStore(directory: open, passphrase: Secret("p"), iterations: Self.iterations)
            }
        }
    }
}
