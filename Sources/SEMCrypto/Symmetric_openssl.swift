// AES-256-GCM sealing and HKDF for data the system keeps locally (client store,
// wrapped storage keys). Messages between people use CMS, not these helpers.
import COpenSSL
public import Foundation

/// AES-256-GCM with a random 96-bit nonce (NIST SP 800-38D §8.2.2).
///
/// Sealed box layout: nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes).
public enum AESGCM {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// A fresh random 256-bit key.
    public static func generateKey() -> Data { SecureRandom.bytes(keyLength) }

    public static func seal(_ plaintext: some DataProtocol, key: Data, associatedData: Data = Data()) throws -> Data {
        try checkKey(key)
        let nonce = SecureRandom.bytes(nonceLength)
        let input = Array(plaintext)
        let context = try makeContext()
        defer { EVP_CIPHER_CTX_free(context) }
        OpenSSL.clearErrors()
        try key.withUnsafeBytes { k in
            try nonce.withUnsafeBytes { n in
                try OpenSSL.check(EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil,
                                                     k.bindMemory(to: UInt8.self).baseAddress,
                                                     n.bindMemory(to: UInt8.self).baseAddress),
                                  .internalFailure, "AES-GCM could not start.")
            }
        }
        try feedAAD(context, associatedData, encrypt: true)
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var length: Int32 = 0
        try OpenSSL.check(EVP_EncryptUpdate(context, &output, &length, input, Int32(input.count)),
                          .internalFailure, "AES-GCM could not encrypt.")
        var total = Int(length)
        try output.withUnsafeMutableBufferPointer { buffer in
            try OpenSSL.check(EVP_EncryptFinal_ex(context, buffer.baseAddress! + total, &length),
                              .internalFailure, "AES-GCM could not finish.")
        }
        total += Int(length)
        var tag = [UInt8](repeating: 0, count: tagLength)
        try OpenSSL.check(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag),
                          .internalFailure, "AES-GCM produced no tag.")
        return nonce + Data(output.prefix(total)) + Data(tag)
    }

    public static func open(_ sealed: some DataProtocol, key: Data, associatedData: Data = Data()) throws -> Data {
        try checkKey(key)
        let box = Array(sealed)
        guard box.count >= nonceLength + tagLength else {
            throw CryptoError(.malformedInput, "The sealed data is shorter than a nonce and a tag.")
        }
        let nonce = Array(box[0..<nonceLength])
        let body = Array(box[nonceLength..<(box.count - tagLength)])
        var tag = Array(box[(box.count - tagLength)...])
        let context = try makeContext()
        defer { EVP_CIPHER_CTX_free(context) }
        OpenSSL.clearErrors()
        try key.withUnsafeBytes { k in
            try OpenSSL.check(EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil,
                                                 k.bindMemory(to: UInt8.self).baseAddress, nonce),
                              .internalFailure, "AES-GCM could not start.")
        }
        try feedAAD(context, associatedData, encrypt: false)
        var output = [UInt8](repeating: 0, count: body.count + 16)
        var length: Int32 = 0
        try OpenSSL.check(EVP_DecryptUpdate(context, &output, &length, body, Int32(body.count)),
                          .internalFailure, "AES-GCM could not decrypt.")
        let total = Int(length)
        try OpenSSL.check(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag),
                          .internalFailure, "AES-GCM rejected the tag length.")
        let finished = output.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress! + total, &length)
        }
        guard finished == 1 else {
            // Never hand out plaintext whose tag failed (NIST SP 800-38D §7.2).
            output.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
            OpenSSL.clearErrors()
            throw CryptoError(.authenticationFailed,
                              "The data was altered or the key is wrong: AES-GCM authentication failed.")
        }
        return Data(output.prefix(total))
    }

    private static func checkKey(_ key: Data) throws {
        guard key.count == keyLength else {
            throw CryptoError(.invalidArgument, "An AES-256 key must be 32 bytes, not \(key.count).")
        }
    }

    private static func makeContext() throws -> OpaquePointer {
        try OpenSSL.unwrap(EVP_CIPHER_CTX_new(), .internalFailure, "Could not allocate a cipher context.")
    }

    private static func feedAAD(_ context: OpaquePointer, _ aad: Data, encrypt: Bool) throws {
        guard !aad.isEmpty else { return }
        let bytes = Array(aad)
        var length: Int32 = 0
        let result = encrypt
            ? EVP_EncryptUpdate(context, nil, &length, bytes, Int32(bytes.count))
            : EVP_DecryptUpdate(context, nil, &length, bytes, Int32(bytes.count))
        try OpenSSL.check(result, .internalFailure, "AES-GCM rejected the associated data.")
    }
}

/// HKDF (RFC 5869) with SHA-256 by default.
public enum HKDF {
    public static func deriveKey(inputKeyMaterial: Data, salt: Data = Data(), info: Data = Data(),
                                 outputLength: Int = 32, digest: DigestAlgorithm = .sha256) throws -> Data {
        // RFC 5869 §2.3: L <= 255 * HashLen.
        guard outputLength > 0, outputLength <= 255 * digest.length else {
            throw CryptoError(.invalidArgument, "HKDF cannot produce \(outputLength) bytes with \(digest.rawValue).")
        }
        OpenSSL.clearErrors()
        let context = try OpenSSL.unwrap(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil), .internalFailure,
                                         "HKDF is not available.")
        defer { EVP_PKEY_CTX_free(context) }
        try OpenSSL.check(EVP_PKEY_derive_init(context), .internalFailure, "HKDF could not start.")
        try OpenSSL.check(EVP_PKEY_CTX_set_hkdf_md(context, digest.evp), .internalFailure, "HKDF rejected the digest.")
        let ikm = Array(inputKeyMaterial), saltBytes = Array(salt), infoBytes = Array(info)
        try OpenSSL.check(EVP_PKEY_CTX_set1_hkdf_key(context, ikm, Int32(ikm.count)), .invalidArgument,
                          "HKDF rejected the input key material.")
        if !saltBytes.isEmpty {
            try OpenSSL.check(EVP_PKEY_CTX_set1_hkdf_salt(context, saltBytes, Int32(saltBytes.count)),
                              .invalidArgument, "HKDF rejected the salt.")
        }
        if !infoBytes.isEmpty {
            try OpenSSL.check(EVP_PKEY_CTX_add1_hkdf_info(context, infoBytes, Int32(infoBytes.count)),
                              .invalidArgument, "HKDF rejected the info string.")
        }
        var output = [UInt8](repeating: 0, count: outputLength)
        var length = outputLength
        try OpenSSL.check(EVP_PKEY_derive(context, &output, &length), .internalFailure, "HKDF failed.")
        return Data(output.prefix(length))
    }
}
