// Private key import and export: PKCS#8 (RFC 5958) in DER and PEM, clear or encrypted.
//
// Encrypted PKCS#8 uses PBES2 (RFC 8018 §6.2) with PBKDF2-HMAC-SHA256 and AES-256-CBC.
// The default iteration count follows current guidance for PBKDF2-HMAC-SHA256
// (600,000); OpenSSL's own default (2,048) is far too low for keys at rest.
import COpenSSL
import CShims
public import Foundation

extension PrivateKey {
    /// Default PBKDF2 iteration count for encrypted key files.
    public static let defaultKDFIterations = 600_000

    /// Parses a private key from PEM: `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, or the
    /// traditional `RSA PRIVATE KEY` / `EC PRIVATE KEY` forms.
    public convenience init(pemEncoded pem: String, passphrase: Secret? = nil) throws {
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            let der = try PEM.decode(pem, label: "ENCRYPTED PRIVATE KEY")
            try self.init(derEncoded: der, passphrase: passphrase)
            return
        }
        OpenSSL.clearErrors()
        let bio = try MemoryBIO(Data(pem.utf8))
        // The callback answers "no passphrase" instead of letting OpenSSL prompt on a
        // terminal; a traditional encrypted PEM therefore needs `passphrase`.
        var key: OpaquePointer?
        if let passphrase {
            var text = try passphrase.cString()
            defer { text.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
            key = PEM_read_bio_PrivateKey(bio.pointer, nil, nil, &text)
        } else {
            key = PEM_read_bio_PrivateKey(bio.pointer, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let key else {
            let detail = OpenSSL.drainErrors()
            if pem.contains("Proc-Type: 4,ENCRYPTED") {
                throw CryptoError(passphrase == nil ? .invalidArgument : .wrongPassphrase,
                                  passphrase == nil ? "The key is encrypted and needs a passphrase."
                                                    : "The passphrase does not open this key.", detail: detail)
            }
            throw CryptoError(.malformedInput, "The text is not a PEM private key.", detail: detail)
        }
        try Self.adopt(key)
        self.init(owning: key)
    }

    /// Parses DER: an `EncryptedPrivateKeyInfo` when `passphrase` is given, otherwise a
    /// clear `PrivateKeyInfo` (or a traditional RSA/EC structure).
    public convenience init(derEncoded der: Data, passphrase: Secret? = nil) throws {
        OpenSSL.clearErrors()
        let bytes = Array(der)
        if let passphrase {
            let sealed: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
                var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
                return d2i_X509_SIG(nil, &cursor, buffer.count)
            }
            guard let sealed else {
                throw OpenSSL.error(.malformedInput, "The data is not an encrypted PKCS#8 private key.")
            }
            defer { X509_SIG_free(sealed) }
            var text = try passphrase.cString()
            defer { text.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
            guard let info = PKCS8_decrypt(sealed, text, Int32(text.count - 1)) else {
                throw OpenSSL.error(.wrongPassphrase, "The passphrase does not open this key.")
            }
            defer { PKCS8_PRIV_KEY_INFO_free(info) }
            let key = try OpenSSL.unwrap(EVP_PKCS82PKEY(info), .malformedInput,
                                         "The decrypted key is not a usable private key.")
            try Self.adopt(key)
            self.init(owning: key)
            return
        }
        let key: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_AutoPrivateKey(nil, &cursor, buffer.count)
        }
        guard let key else {
            throw OpenSSL.error(.malformedInput, "The data is not a DER private key (it may be encrypted).")
        }
        try Self.adopt(key)
        self.init(owning: key)
    }

    /// Clear PKCS#8 `PrivateKeyInfo` DER. Refused for token keys.
    public func pkcs8DER() throws -> Data {
        try requireExtractable()
        OpenSSL.clearErrors()
        let info = try OpenSSL.unwrap(EVP_PKEY2PKCS8(pointer), .internalFailure, "The key could not be encoded.")
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_PKCS8_PRIV_KEY_INFO(info, &out)
        guard length > 0, let out else { throw OpenSSL.error(.internalFailure, "The key could not be encoded.") }
        defer { CRYPTO_clear_free(out, Int(length), #fileID, #line) }
        return Data(bytes: out, count: Int(length))
    }

    /// Clear PKCS#8 in PEM (`PRIVATE KEY`). Refused for token keys.
    public func pkcs8PEM() throws -> String {
        PEM.encode(try pkcs8DER(), label: "PRIVATE KEY")
    }

    /// `EncryptedPrivateKeyInfo` DER: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC.
    public func encryptedPKCS8DER(passphrase: Secret, iterations: Int = PrivateKey.defaultKDFIterations) throws -> Data {
        try requireExtractable()
        guard !passphrase.isEmpty else { throw CryptoError(.invalidArgument, "An empty passphrase protects nothing.") }
        guard iterations >= 10_000 else {
            throw CryptoError(.invalidArgument, "At least 10,000 PBKDF2 iterations are required (got \(iterations)).")
        }
        OpenSSL.clearErrors()
        var salt = Array(SecureRandom.bytes(16))
        guard let parameters = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), Int32(iterations), &salt, Int32(salt.count), nil,
                                                 NID_hmacWithSHA256) else {
            throw OpenSSL.error(.internalFailure, "PBES2 parameters could not be created.")
        }
        guard let info = EVP_PKEY2PKCS8(pointer) else {
            X509_ALGOR_free(parameters)
            throw OpenSSL.error(.internalFailure, "The key could not be encoded.")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        var text = try passphrase.cString()
        defer { text.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        // PKCS8_set0_pbe takes ownership of `parameters` on success only.
        guard let sealed = PKCS8_set0_pbe(text, Int32(text.count - 1), info, parameters) else {
            X509_ALGOR_free(parameters)
            throw OpenSSL.error(.internalFailure, "The key could not be encrypted.")
        }
        defer { X509_SIG_free(sealed) }
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_SIG(sealed, &out)
        guard length > 0, let out else { throw OpenSSL.error(.internalFailure, "The key could not be encoded.") }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    /// `ENCRYPTED PRIVATE KEY` PEM; readable by `openssl pkey -passin`.
    public func encryptedPKCS8PEM(passphrase: Secret, iterations: Int = PrivateKey.defaultKDFIterations) throws -> String {
        PEM.encode(try encryptedPKCS8DER(passphrase: passphrase, iterations: iterations), label: "ENCRYPTED PRIVATE KEY")
    }

    private func requireExtractable() throws {
        if case .token = location {
            throw CryptoError(.keyNotExtractable, "The key lives on a token (\(location)) and cannot be exported.")
        }
    }

    /// Validates a freshly decoded key, freeing it if it is refused.
    private static func adopt(_ key: OpaquePointer) throws {
        do { try KeyAlgorithm.validate(key) } catch {
            EVP_PKEY_free(key)
            throw error
        }
    }
}
