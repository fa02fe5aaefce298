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
        let nonce = SecureRandom.bytes(nonceLength)
        return nonce + (try seal(plaintext, key: key, nonce: nonce, associatedData: associatedData))
    }

    public static func open(_ sealed: some DataProtocol, key: Data, associatedData: Data = Data()) throws -> Data {
        let box = Data(sealed)
        guard box.count >= nonceLength + tagLength else {
            throw CryptoError(.malformedInput, "The sealed data is shorter than a nonce and a tag.")
        }
        return try open(box.dropFirst(nonceLength), key: key, nonce: Data(box.prefix(nonceLength)),
                        associatedData: associatedData)
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

/// scrypt (RFC 7914): a memory-hard key derivation from a passphrase.
public enum Scrypt {
    /// Cost parameters. The defaults (N = 2^17, r = 8, p = 1) take 128 MiB and a few
    /// hundred milliseconds here, the cost RFC 7914 §2 suggests for interactive use
    /// with more memory to spare.
    public struct Cost: Sendable, Codable, Equatable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64

        public init(n: UInt64 = 1 << 17, r: UInt64 = 8, p: UInt64 = 1) {
            self.n = n
            self.r = r
            self.p = p
        }
    }

    public static func deriveKey(passphrase: Secret, salt: Data, cost: Cost = Cost(), outputLength: Int = 32) throws -> Data {
        // RFC 7914 §2: N a power of two above 1; r * p < 2^30. The memory bound is set
        // from the parameters (128 * r * N bytes, plus slack) so OpenSSL's 32 MiB default
        // does not refuse the chosen cost, and a hostile stored cost cannot ask for more than 1 GiB.
        guard cost.n > 1, cost.n & (cost.n - 1) == 0, cost.r > 0, cost.p > 0, cost.r * cost.p < 1 << 30,
              outputLength > 0 else {
            throw CryptoError(.invalidArgument, "The scrypt cost parameters are not valid.")
        }
        let memory = 128 * cost.r * cost.n + (1 << 20)
        guard memory <= 1 << 30 else { throw CryptoError(.invalidArgument, "The scrypt cost asks for more than 1 GiB.") }
        OpenSSL.clearErrors()
        var output = [UInt8](repeating: 0, count: outputLength)
        let saltBytes = Array(salt)
        let status = passphrase.bytes.withUnsafeBufferPointer { pass in
            pass.withMemoryRebound(to: CChar.self) { chars in
                EVP_PBE_scrypt(chars.baseAddress, chars.count, saltBytes, saltBytes.count, cost.n, cost.r, cost.p,
                               memory, &output, outputLength)
            }
        }
        try OpenSSL.check(status, .internalFailure, "scrypt failed.")
        return Data(output)
    }
}
