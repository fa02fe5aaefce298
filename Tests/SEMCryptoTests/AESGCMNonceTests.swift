import Foundation
import SEMCrypto
import Testing

@Suite("AES-256-GCM with a caller-supplied nonce")
struct AESGCMNonceTests {
    @Test("known answers from the GCM specification (AES-256, test cases 13 and 14)")
    func knownAnswers() throws {
        let key = Data(count: 32), nonce = Data(count: 12)
        #expect(try AESGCM.seal(Data(), key: key, nonce: nonce).hexString == "530f8afbc74536b9a963b4f1c4cb738b")
        #expect(try AESGCM.seal(Data(count: 16), key: key, nonce: nonce).hexString
                == "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919")
    }

    @Test("open reverses seal and refuses another nonce, associated data or a flipped bit")
    func roundTripAndRefusals() throws {
        let key = AESGCM.generateKey(), nonce = SecureRandom.bytes(12), aad = Data("context".utf8)
        let plaintext = Data("attachment chunk".utf8)
        let sealed = try AESGCM.seal(plaintext, key: key, nonce: nonce, associatedData: aad)
        #expect(try AESGCM.open(sealed, key: key, nonce: nonce, associatedData: aad) == plaintext)
        var otherNonce = nonce
        otherNonce[11] ^= 1
        var flipped = sealed
        flipped[0] ^= 1
        #expect(throws: CryptoError(.authenticationFailed, "")) { try AESGCM.open(sealed, key: key, nonce: otherNonce, associatedData: aad) }
        #expect(throws: CryptoError(.authenticationFailed, "")) { try AESGCM.open(sealed, key: key, nonce: nonce) }
        #expect(throws: CryptoError(.authenticationFailed, "")) { try AESGCM.open(flipped, key: key, nonce: nonce, associatedData: aad) }
        #expect(throws: CryptoError(.invalidArgument, "")) { try AESGCM.seal(plaintext, key: key, nonce: Data(count: 8)) }
    }
}
