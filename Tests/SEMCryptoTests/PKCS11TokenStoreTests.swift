import Foundation
@testable import SEMCrypto
import Testing

@Suite("PKCS#11 token store")
struct PKCS11TokenStoreTests {
    let fixture: SoftHSMFixture

    init() throws { fixture = try SoftHSMFixture.shared.get() }

    private func openStore(_ token: SoftHSMFixture.Token) throws -> PKCS11TokenStore {
        try PKCS11TokenStore(modulePath: SoftHSMFixture.modulePath, tokenLabel: token.label, pin: Secret(token.pin))
    }

    @Test("a key generated on the token signs, and the signature verifies with its public key",
          arguments: [KeyAlgorithm.ecP256, .rsa3072])
    func generatedKeySigns(_ algorithm: KeyAlgorithm) throws {
        let token = try fixture.takeToken()
        let store = try openStore(token)
        let key = try store.generateKey(label: "signing", algorithm: algorithm)
        #expect(key.algorithm == algorithm)
        #expect(key.location == .token(label: token.label, object: "signing"))
        let message = Data("a message signed on the token".utf8)
        let signature = try key.sign(message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Data("another message".utf8)))
        let reloaded = try store.privateKey(label: "signing")
        #expect(reloaded.matches(key.publicKey))
        let again = try reloaded.sign(message, digest: .sha384)
        #expect(key.publicKey.isValidSignature(again, for: message, digest: .sha384))
    }

    @Test("a token whose label needs percent-encoding in a PKCS#11 URI works")
    func labelWithSpecialCharacters() throws {
        let token = fixture.specialToken
        let store = try openStore(token)
        let key = try store.generateKey(label: "odd-token", algorithm: .ecP256)
        #expect(key.location == .token(label: "SEM test #0 (50% full)", object: "odd-token"))
        let message = Data("through an encoded URI".utf8)
        #expect(key.publicKey.isValidSignature(try store.privateKey(label: "odd-token").sign(message), for: message))
        #expect(PKCS11TokenStore.percentEncoded(token.label) == "SEM%20test%20%230%20%2850%25%20full%29")
    }

    @Test("a token key refuses every export")
    func tokenKeyRefusesExport() throws {
        let token = try fixture.takeToken()
        let key = try openStore(token).generateKey(label: "k", algorithm: .ecP256)
        #expect(throws: CryptoError(.keyNotExtractable, "")) { try key.pkcs8DER() }
        #expect(throws: CryptoError(.keyNotExtractable, "")) { try key.pkcs8PEM() }
        #expect(throws: CryptoError(.keyNotExtractable, "")) {
            try key.encryptedPKCS8PEM(passphrase: Secret("passphrase"), iterations: 20_000)
        }
    }

    @Test("pkcs11-tool sees the private key as sensitive and never extractable, with only the usages asked for",
          arguments: [KeyAlgorithm.ecP384, .rsa3072])
    func keyIsSensitiveOnTheToken(_ algorithm: KeyAlgorithm) throws {
        let token = try fixture.takeToken()
        _ = try openStore(token).generateKey(label: "guarded", algorithm: algorithm)
        let listing = try fixture.pkcs11Tool(token, ["--list-objects", "--type", "privkey"])
        try #require(listing.status == 0, "pkcs11-tool failed: \(listing.errors)")
        let lines = listing.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("label:      guarded"))
        let access = try #require(lines.first { $0.hasPrefix("Access:") }, "no Access line in: \(listing.output)")
        let flags = Set(access.dropFirst("Access:".count).split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        })
        #expect(flags.contains("sensitive"))
        #expect(flags.contains("always sensitive"))
        #expect(flags.contains("never extractable"))
        #expect(!flags.contains("extractable"))
        let usage = try #require(lines.first { $0.hasPrefix("Usage:") }, "no Usage line in: \(listing.output)")
        #expect(usage == (algorithm.isRSA ? "Usage:      decrypt, sign" : "Usage:      sign, derive"))
    }

    @Test("a wrong PIN gives a token failure that does not contain the PIN")
    func wrongPIN() throws {
        let token = try fixture.takeToken()
        let wrong = "9876-wrong-pin"
        let error = try #require(throws: CryptoError.self) {
            try PKCS11TokenStore(modulePath: SoftHSMFixture.modulePath, tokenLabel: token.label, pin: Secret(wrong))
        }
        #expect(error.code == .tokenFailure)
        #expect(error.reason == "The PIN was not accepted by token '\(token.label)'.")
        #expect(!error.description.contains(wrong))
        #expect(!error.description.contains(token.pin))
    }

    @Test("a wrong PIN is refused even while the token is logged in by another store")
    func wrongPINWhileLoggedIn() throws {
        let token = try fixture.takeToken()
        let first = try openStore(token)
        _ = try first.generateKey(label: "k", algorithm: .ecP256)
        let error = try #require(throws: CryptoError.self) {
            try PKCS11TokenStore(modulePath: SoftHSMFixture.modulePath, tokenLabel: token.label, pin: Secret("0000"))
        }
        #expect(error.reason == "The PIN was not accepted by token '\(token.label)'.")
        // The right PIN still opens a second store beside the first.
        #expect(try openStore(token).labels() == ["k"])
    }

    @Test("an unknown token label gives a token failure naming the label")
    func unknownToken() throws {
        _ = try openStore(try fixture.takeToken())  // the module is loaded and has tokens
        let error = try #require(throws: CryptoError.self) {
            try PKCS11TokenStore(modulePath: SoftHSMFixture.modulePath, tokenLabel: "no-such-token-label",
                                 pin: Secret("1234"))
        }
        #expect(error.code == .tokenFailure)
        #expect(error.reason.contains("no-such-token-label"))
    }

    @Test("a missing module gives a token failure naming the path")
    func missingModule() throws {
        let error = try #require(throws: CryptoError.self) {
            try PKCS11TokenStore(modulePath: "/nonexistent/libpkcs11-module.so", tokenLabel: "t", pin: Secret("1234"))
        }
        #expect(error.code == .tokenFailure)
        #expect(error.reason.contains("/nonexistent/libpkcs11-module.so"))
    }

    @Test("labels lists generated keys; delete removes both halves; unknown and duplicate labels are refused")
    func labelsAndDelete() throws {
        let token = try fixture.takeToken()
        let store = try openStore(token)
        #expect(try store.labels().isEmpty)
        _ = try store.generateKey(label: "zeta", algorithm: .ecP256)
        _ = try store.generateKey(label: "alpha", algorithm: .ecP384)
        #expect(try store.labels() == ["alpha", "zeta"])
        #expect(throws: CryptoError(.invalidArgument, "")) { try store.generateKey(label: "alpha", algorithm: .ecP256) }
        #expect(throws: CryptoError(.invalidArgument, "")) { try store.generateKey(label: "../x", algorithm: .ecP256) }
        #expect(throws: CryptoError(.keyNotFound, "")) { try store.privateKey(label: "missing") }
        #expect(throws: CryptoError(.keyNotFound, "")) { try store.deleteKey(label: "missing") }

        try store.deleteKey(label: "alpha")
        #expect(try store.labels() == ["zeta"])
        #expect(throws: CryptoError(.keyNotFound, "")) { try store.privateKey(label: "alpha") }
        let publicKeys = try fixture.pkcs11Tool(token, ["--list-objects", "--type", "pubkey"])
        #expect(publicKeys.status == 0)
        #expect(!publicKeys.output.contains("alpha"))
        #expect(publicKeys.output.contains("zeta"))
    }

    @Test("ECDH between a token key and a memory key gives the same secret both ways",
          arguments: [KeyAlgorithm.ecP256, .ecP384])
    func ecdhBothWays(_ algorithm: KeyAlgorithm) throws {
        let token = try fixture.takeToken()
        let tokenKey = try openStore(token).generateKey(label: "agree", algorithm: algorithm)
        let memoryKey = try PrivateKey.generate(algorithm)
        let onToken = try tokenKey.deriveSharedSecret(with: memoryKey.publicKey)
        let inMemory = try memoryKey.deriveSharedSecret(with: tokenKey.publicKey)
        #expect(onToken.bytes.count == (algorithm == .ecP256 ? 32 : 48))
        #expect(ConstantTime.equals(onToken.bytes, inMemory.bytes))
        let stranger = try PrivateKey.generate(algorithm)
        #expect(!ConstantTime.equals(try tokenKey.deriveSharedSecret(with: stranger.publicKey).bytes, onToken.bytes))
    }

    @Test("a token RSA key decrypts RSA-OAEP (SHA-256) made by the openssl tool")
    func rsaOAEPDecrypt() throws {
        let token = try fixture.takeToken()
        let key = try openStore(token).generateKey(label: "decrypt", algorithm: .rsa3072)
        try KeyStoreTestSupport.withTemporaryDirectory { directory in
            let publicPEM = directory.appendingPathComponent("public.pem")
            try key.publicKey.pemEncoded.write(to: publicPEM, atomically: true, encoding: .utf8)
            let plaintext = Data("a content-encryption key".utf8)
            let sealed = directory.appendingPathComponent("sealed.bin")
            let result = try KeyStoreTestSupport.run(
                "openssl", ["pkeyutl", "-encrypt", "-pubin", "-inkey", publicPEM.path, "-out", sealed.path,
                            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                            "-pkeyopt", "rsa_mgf1_md:sha256"], input: plaintext)
            try #require(result.status == 0, "openssl pkeyutl failed: \(result.errors)")
            let ciphertext = try Data(contentsOf: sealed)
            #expect(try key.decryptRSAOAEP(ciphertext).bytes == Array(plaintext))
            var tampered = ciphertext
            tampered[tampered.count / 2] ^= 0x01
            #expect(throws: CryptoError(.malformedInput, "")) { try key.decryptRSAOAEP(tampered) }
        }
    }

    @Test("a key keeps working after its store is gone")
    func keyOutlivesStore() throws {
        let token = try fixture.takeToken()
        var store: PKCS11TokenStore? = try openStore(token)
        let key = try #require(store).generateKey(label: "k", algorithm: .ecP256)
        store = nil
        let message = Data("still signing".utf8)
        #expect(key.publicKey.isValidSignature(try key.sign(message), for: message))
    }

    @Test("concurrent use of one store from several tasks")
    func concurrentUse() async throws {
        let token = try fixture.takeToken()
        let store = try openStore(token)
        _ = try store.generateKey(label: "shared", algorithm: .ecP256)
        let message = Data("in parallel".utf8)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let key = try store.privateKey(label: "shared")
                    _ = try store.labels()
                    return key.publicKey.isValidSignature(try key.sign(message), for: message)
                }
            }
            for try await verified in group { #expect(verified) }
        }
    }
}
