// AES-256-GCM through EVP with a nonce the caller supplies. The random-nonce sealed box
// (Symmetric_openssl.swift) is built on these, and formats that derive a distinct nonce
// per record from a random base and a counter (the chunked attachment format) call them
// directly. The caller owns nonce uniqueness: one (key, nonce) pair must never seal two
// records (NIST SP 800-38D §8). The random-nonce `AESGCM.seal` is the safer default.
import COpenSSL
public import Foundation

extension AESGCM {
    /// Seals `plaintext` under `key` and `nonce` (12 bytes); returns ciphertext ‖ tag.
    public static func seal(_ plaintext: some DataProtocol, key: Data, nonce: Data,
                            associatedData: Data = Data()) throws -> Data {
        try checkExplicit(key: key, nonce: nonce)
        let input = Array(plaintext)
        let context = try OpenSSL.unwrap(EVP_CIPHER_CTX_new(), .internalFailure, "Could not allocate a cipher context.")
        defer { EVP_CIPHER_CTX_free(context) }
        OpenSSL.clearErrors()
        let keyBytes = Array(key), nonceBytes = Array(nonce), aad = Array(associatedData)
        try OpenSSL.check(EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, keyBytes, nonceBytes),
                          .internalFailure, "AES-GCM could not start.")
        var length: Int32 = 0
        if !aad.isEmpty {
            try OpenSSL.check(EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)),
                              .internalFailure, "AES-GCM rejected the associated data.")
        }
        var output = [UInt8](repeating: 0, count: input.count + 16)
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
        return Data(output.prefix(total)) + Data(tag)
    }

    /// Opens ciphertext ‖ tag sealed with `seal(_:key:nonce:associatedData:)`.
    ///
    /// - Throws: `.authenticationFailed` when the data, nonce, associated data or key differ.
    public static func open(_ sealed: some DataProtocol, key: Data, nonce: Data,
                            associatedData: Data = Data()) throws -> Data {
        try checkExplicit(key: key, nonce: nonce)
        let box = Array(sealed)
        guard box.count >= tagLength else {
            throw CryptoError(.malformedInput, "The sealed data is shorter than an authentication tag.")
        }
        let body = Array(box[0..<(box.count - tagLength)])
        var tag = Array(box[(box.count - tagLength)...])
        let context = try OpenSSL.unwrap(EVP_CIPHER_CTX_new(), .internalFailure, "Could not allocate a cipher context.")
        defer { EVP_CIPHER_CTX_free(context) }
        OpenSSL.clearErrors()
        let keyBytes = Array(key), nonceBytes = Array(nonce), aad = Array(associatedData)
        try OpenSSL.check(EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, keyBytes, nonceBytes),
                          .internalFailure, "AES-GCM could not start.")
        var length: Int32 = 0
        if !aad.isEmpty {
            try OpenSSL.check(EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)),
                              .internalFailure, "AES-GCM rejected the associated data.")
        }
        var output = [UInt8](repeating: 0, count: body.count + 16)
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

    private static func checkExplicit(key: Data, nonce: Data) throws {
        guard key.count == keyLength else {
            throw CryptoError(.invalidArgument, "An AES-256 key must be 32 bytes, not \(key.count).")
        }
        guard nonce.count == nonceLength else {
            throw CryptoError(.invalidArgument, "An AES-GCM nonce must be \(nonceLength) bytes, not \(nonce.count).")
        }
    }
}
