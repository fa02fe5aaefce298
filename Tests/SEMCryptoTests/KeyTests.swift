import Foundation
import SEMCrypto
import Testing

@Suite("Keys")
struct KeyTests {
    @Test("generated keys have the requested algorithm", arguments: [KeyAlgorithm.ecP256, .ecP384, .rsa3072])
    func generatesRequestedAlgorithm(_ algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        #expect(key.algorithm == algorithm)
        #expect(key.publicKey.algorithm == algorithm)
        #expect(key.matches(key.publicKey))
    }

    @Test("RSA below 3072 bits is refused at generation")
    func refusesShortRSA() {
        #expect(throws: CryptoError(.unsupportedAlgorithm, "")) { try PrivateKey.generate(.rsa(bits: 2048)) }
    }

    @Test("signatures verify with the public key and fail on other data")
    func signAndVerify() throws {
        let key = try PrivateKey.generate(.ecP256)
        let message = Data("a letter".utf8)
        let signature = try key.sign(message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Data("another letter".utf8)))
    }

    @Test("clear PKCS#8 round-trips through PEM and DER")
    func clearRoundTrip() throws {
        let key = try PrivateKey.generate(.ecP384)
        let fromPEM = try PrivateKey(pemEncoded: try key.pkcs8PEM())
        let fromDER = try PrivateKey(derEncoded: try key.pkcs8DER())
        #expect(fromPEM.matches(key.publicKey))
        #expect(fromDER.matches(key.publicKey))
    }

    @Test("encrypted PKCS#8 opens with the passphrase and refuses a wrong one")
    func encryptedRoundTrip() throws {
        let key = try PrivateKey.generate(.ecP256)
        let pem = try key.encryptedPKCS8PEM(passphrase: Secret("correct horse"), iterations: 20_000)
        #expect(pem.contains("ENCRYPTED PRIVATE KEY"))
        let opened = try PrivateKey(pemEncoded: pem, passphrase: Secret("correct horse"))
        #expect(opened.matches(key.publicKey))
        #expect(throws: CryptoError(.wrongPassphrase, "")) {
            try PrivateKey(pemEncoded: pem, passphrase: Secret("wrong horse"))
        }
    }

    @Test("garbage and truncated DER give malformed-input")
    func garbageDER() throws {
        let der = try PrivateKey.generate(.ecP256).pkcs8DER()
        #expect(throws: CryptoError(.malformedInput, "")) { try PrivateKey(derEncoded: der.prefix(der.count / 2)) }
        #expect(throws: CryptoError(.malformedInput, "")) { try PrivateKey(derEncoded: Data([0x30, 0x03, 0x02])) }
        #expect(throws: CryptoError(.malformedInput, "")) { try PublicKey(derEncoded: Data("nonsense".utf8)) }
    }
}
