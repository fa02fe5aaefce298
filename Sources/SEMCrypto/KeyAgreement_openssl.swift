// Raw private-key operations besides signing: ECDH key agreement and RSA-OAEP
// decryption. CMS uses OpenSSL's CMS routines for both; these entry points exist so that
// the same EVP_PKEY paths can be checked directly, for keys in memory and on tokens.
import COpenSSL
import Foundation

extension PrivateKey {
    /// The ECDH shared secret (the x-coordinate of the shared point, SEC 1 §3.3.1)
    /// between this EC key and `peer`, which must be on the same curve. For a token
    /// key the derivation runs on the token (CKM_ECDH1_DERIVE). Feed the result to a
    /// KDF; never use it directly as a key.
    /// - Throws: `.invalidArgument` for RSA keys or mismatched curves, `.tokenFailure`
    ///   when the token refuses.
    public func deriveSharedSecret(with peer: PublicKey) throws -> Secret {
        guard !algorithm.isRSA, !peer.algorithm.isRSA else {
            throw CryptoError(.invalidArgument, "Key agreement needs two EC keys.")
        }
        guard algorithm == peer.algorithm else {
            throw CryptoError(.invalidArgument, "Key agreement needs keys on the same curve "
                              + "(\(algorithm) and \(peer.algorithm)).")
        }
        let failure: CryptoError.Code = location == .memory ? .internalFailure : .tokenFailure
        OpenSSL.clearErrors()
        let context = try OpenSSL.unwrap(EVP_PKEY_CTX_new(pointer, nil), .internalFailure,
                                         "Could not allocate a key agreement context.")
        defer { EVP_PKEY_CTX_free(context) }
        try OpenSSL.check(EVP_PKEY_derive_init(context), failure, "The key cannot be used for key agreement.")
        try OpenSSL.check(EVP_PKEY_derive_set_peer(context, peer.pointer), .invalidArgument,
                          "The peer key does not fit this key.")
        var length = 0
        try OpenSSL.check(EVP_PKEY_derive(context, nil, &length), failure, "Key agreement failed.")
        var secret = [UInt8](repeating: 0, count: length)
        defer { secret.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        try OpenSSL.check(EVP_PKEY_derive(context, &secret, &length), failure, "Key agreement failed.")
        return Secret(Array(secret.prefix(length)))
    }

    /// RSA-OAEP decryption with SHA-256 for OAEP and MGF1 (RFC 8017 §7.1.2), the
    /// parameters the system's CMS uses for key transport.
    func decryptRSAOAEP(_ ciphertext: Data) throws -> Secret {
        guard algorithm.isRSA else { throw CryptoError(.invalidArgument, "RSA-OAEP needs an RSA key.") }
        let failure: CryptoError.Code = location == .memory ? .internalFailure : .tokenFailure
        OpenSSL.clearErrors()
        let context = try OpenSSL.unwrap(EVP_PKEY_CTX_new(pointer, nil), .internalFailure,
                                         "Could not allocate a decryption context.")
        defer { EVP_PKEY_CTX_free(context) }
        try OpenSSL.check(EVP_PKEY_decrypt_init(context), failure, "The key cannot decrypt.")
        try OpenSSL.check(EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING), failure,
                          "OAEP padding was refused.")
        try OpenSSL.check(EVP_PKEY_CTX_set_rsa_oaep_md(context, EVP_sha256()), failure, "SHA-256 for OAEP was refused.")
        try OpenSSL.check(EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()), failure, "SHA-256 for MGF1 was refused.")
        let input = Array(ciphertext)
        var length = 0
        try OpenSSL.check(EVP_PKEY_decrypt(context, nil, &length, input, input.count), failure, "Decryption failed.")
        var plaintext = [UInt8](repeating: 0, count: length)
        defer { plaintext.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        guard EVP_PKEY_decrypt(context, &plaintext, &length, input, input.count) == 1 else {
            // The error stays vague on purpose: telling padding failures apart helps a
            // chosen-ciphertext attacker (Manger's attack on OAEP).
            OpenSSL.clearErrors()
            throw CryptoError(.malformedInput, "The ciphertext could not be decrypted with this key.")
        }
        OpenSSL.clearErrors()
        return Secret(Array(plaintext.prefix(length)))
    }
}
