// Asymmetric keys: generation, import and export (PEM and DER), signing and verifying.
//
// Allowed key types (architecture §4): RSA of 3072 bits or more, EC on P-256 or P-384.
// A `PrivateKey` may live in memory or on a PKCS#11 token; every operation here works
// for both, except export, which a token refuses.
import COpenSSL
import CShims
public import Foundation

/// Key types and sizes the system generates and accepts.
public enum KeyAlgorithm: Sendable, Hashable, CustomStringConvertible {
    case rsa(bits: Int)
    case ecP256
    case ecP384

    /// The default RSA size for users who choose RSA.
    public static let rsa3072 = KeyAlgorithm.rsa(bits: 3072)

    /// Smallest RSA modulus the system generates (NIST SP 800-57 pt. 1, 128-bit strength).
    public static let minimumRSABits = 3072

    public var description: String {
        switch self {
        case .rsa(let bits): "RSA-\(bits)"
        case .ecP256: "EC-P256"
        case .ecP384: "EC-P384"
        }
    }

    /// Parses the names printed by `description` (`RSA-3072`, `EC-P256`, `EC-P384`).
    public init?(name: String) {
        switch name.uppercased() {
        case "EC-P256", "P-256", "P256": self = .ecP256
        case "EC-P384", "P-384", "P384": self = .ecP384
        default:
            let upper = name.uppercased()
            guard upper.hasPrefix("RSA-"), let bits = Int(upper.dropFirst(4)) else { return nil }
            self = .rsa(bits: bits)
        }
    }

    public var isRSA: Bool { if case .rsa = self { true } else { false } }
}

/// A public key (SubjectPublicKeyInfo).
///
/// `@unchecked Sendable`: the wrapped EVP_PKEY is never mutated after construction, and
/// OpenSSL 3 allows concurrent read-only use of one EVP_PKEY from several threads.
public final class PublicKey: @unchecked Sendable, Equatable {
    let pointer: OpaquePointer

    /// Takes ownership of one reference to `pointer`.
    init(owning pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    /// Parses a DER SubjectPublicKeyInfo.
    public convenience init(derEncoded der: Data) throws {
        OpenSSL.clearErrors()
        let key: OpaquePointer? = Array(der).withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        self.init(owning: try OpenSSL.unwrap(key, .malformedInput, "The public key is not valid DER SubjectPublicKeyInfo."))
    }

    /// Parses a PEM `PUBLIC KEY` block.
    public convenience init(pemEncoded pem: String) throws {
        OpenSSL.clearErrors()
        let bio = try MemoryBIO(Data(pem.utf8))
        let key = PEM_read_bio_PUBKEY(bio.pointer, nil, nil, nil)
        self.init(owning: try OpenSSL.unwrap(key, .malformedInput, "The text is not a PEM public key."))
    }

    /// DER SubjectPublicKeyInfo.
    public var derEncoded: Data {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(pointer, &out)
        guard length > 0, let out else { return Data() }
        defer { sem_OPENSSL_free(out) }
        return Data(bytes: out, count: Int(length))
    }

    public var pemEncoded: String { PEM.encode(derEncoded, label: "PUBLIC KEY") }

    public var algorithm: KeyAlgorithm { KeyAlgorithm(evp: pointer) }

    /// SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex.
    public var fingerprint: String { Digest.sha256(derEncoded).hexString }

    /// Checks `signature` over `data` (PKCS#1 v1.5 for RSA, ECDSA DER for EC).
    public func isValidSignature(_ signature: Data, for data: Data, digest: DigestAlgorithm = .sha256) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context); OpenSSL.clearErrors() }
        guard EVP_DigestVerifyInit(context, nil, digest.evp, nil, pointer) == 1 else { return false }
        let sig = Array(signature), message = Array(data)
        return EVP_DigestVerify(context, sig, sig.count, message, message.count) == 1
    }

    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { EVP_PKEY_eq(lhs.pointer, rhs.pointer) == 1 }
}

/// Where a private key lives.
public enum KeyLocation: Sendable, Equatable, CustomStringConvertible {
    /// In this process's memory (generated here or loaded from a key file).
    case memory
    /// On a PKCS#11 token; the key material never leaves it.
    case token(label: String, object: String)

    public var description: String {
        switch self {
        case .memory: "memory"
        case .token(let label, let object): "pkcs11:token=\(label);object=\(object)"
        }
    }
}

/// A private key, in memory or on a token.
///
/// `@unchecked Sendable`: the EVP_PKEY is immutable after construction; each operation
/// creates its own context. For token keys, libp11 serialises access to the session.
public final class PrivateKey: @unchecked Sendable {
    let pointer: OpaquePointer
    public let location: KeyLocation
    /// What must outlive the EVP_PKEY: for a token key, the loaded PKCS#11 module and
    /// its ENGINE, whose methods the key calls. Nil for keys in memory. Released only
    /// after `deinit` has freed the EVP_PKEY, because stored properties are released
    /// after the body of `deinit` runs.
    let owner: AnyObject?

    /// Takes ownership of one reference to `pointer`.
    init(owning pointer: OpaquePointer, location: KeyLocation = .memory, owner: AnyObject? = nil) {
        self.pointer = pointer
        self.location = location
        self.owner = owner
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Generates a fresh key in memory.
    public static func generate(_ algorithm: KeyAlgorithm) throws -> PrivateKey {
        OpenSSL.clearErrors()
        let context: OpaquePointer
        switch algorithm {
        case .rsa(let bits):
            guard bits >= KeyAlgorithm.minimumRSABits, bits <= 8192 else {
                throw CryptoError(.unsupportedAlgorithm,
                                  "RSA keys must have between \(KeyAlgorithm.minimumRSABits) and 8192 bits, not \(bits).")
            }
            context = try OpenSSL.unwrap(EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil), .internalFailure, "RSA is not available.")
        case .ecP256, .ecP384:
            context = try OpenSSL.unwrap(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nil), .internalFailure, "EC is not available.")
        }
        defer { EVP_PKEY_CTX_free(context) }
        try OpenSSL.check(EVP_PKEY_keygen_init(context), .internalFailure, "Key generation could not start.")
        switch algorithm {
        case .rsa(let bits):
            try OpenSSL.check(EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)), .internalFailure,
                              "RSA key size was refused.")
        case .ecP256:
            try OpenSSL.check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1), .internalFailure,
                              "Curve P-256 was refused.")
        case .ecP384:
            try OpenSSL.check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_secp384r1), .internalFailure,
                              "Curve P-384 was refused.")
        }
        var key: OpaquePointer?
        try OpenSSL.check(EVP_PKEY_keygen(context, &key), .internalFailure, "Key generation failed.")
        return PrivateKey(owning: try OpenSSL.unwrap(key, .internalFailure, "Key generation returned nothing."))
    }

    public var algorithm: KeyAlgorithm { KeyAlgorithm(evp: pointer) }

    /// The matching public key.
    public var publicKey: PublicKey {
        // i2d_PUBKEY on a private key writes only the public half; re-reading gives an
        // object that cannot be mistaken for the private key.
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(pointer, &out)
        precondition(length > 0 && out != nil, "OpenSSL could not encode a public key: \(OpenSSL.drainErrors())")
        defer { sem_OPENSSL_free(out) }
        var cursor = UnsafePointer(out)
        guard let key = d2i_PUBKEY(nil, &cursor, Int(length)) else {
            preconditionFailure("OpenSSL could not decode its own public key")
        }
        return PublicKey(owning: key)
    }

    /// Whether this key and `other` form a pair.
    public func matches(_ other: PublicKey) -> Bool { EVP_PKEY_eq(pointer, other.pointer) == 1 }

    /// Signs `data` (PKCS#1 v1.5 for RSA, ECDSA with a DER signature for EC).
    public func sign(_ data: Data, digest: DigestAlgorithm = .sha256) throws -> Data {
        OpenSSL.clearErrors()
        let context = try OpenSSL.unwrap(EVP_MD_CTX_new(), .internalFailure, "Could not allocate a digest context.")
        defer { EVP_MD_CTX_free(context) }
        try OpenSSL.check(EVP_DigestSignInit(context, nil, digest.evp, nil, pointer), .internalFailure,
                          "The key cannot sign with \(digest.rawValue).")
        let message = Array(data)
        var length = 0
        try OpenSSL.check(EVP_DigestSign(context, nil, &length, message, message.count), .internalFailure,
                          "Signing failed.")
        var signature = [UInt8](repeating: 0, count: length)
        try OpenSSL.check(EVP_DigestSign(context, &signature, &length, message, message.count),
                          location == .memory ? .internalFailure : .tokenFailure, "Signing failed.")
        return Data(signature.prefix(length))
    }
}

extension KeyAlgorithm {
    init(evp: OpaquePointer) {
        let bits = Int(EVP_PKEY_get_bits(evp))
        switch EVP_PKEY_get_base_id(evp) {
        case EVP_PKEY_RSA, EVP_PKEY_RSA_PSS: self = .rsa(bits: bits)
        // Group name lookups fail for some engine keys; the field size is reliable.
        default: self = bits > 256 ? .ecP384 : .ecP256
        }
    }

    /// Whether an imported key is one the system accepts.
    static func validate(_ key: OpaquePointer) throws {
        let bits = Int(EVP_PKEY_get_bits(key))
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA, EVP_PKEY_RSA_PSS:
            // Imported keys may be 2048 bits for interoperability with older peers;
            // generated keys are at least 3072.
            guard bits >= 2048 else {
                throw CryptoError(.unsupportedAlgorithm, "RSA keys shorter than 2048 bits are refused (got \(bits)).")
            }
        case EVP_PKEY_EC:
            guard bits == 256 || bits == 384 else {
                throw CryptoError(.unsupportedAlgorithm, "Only the P-256 and P-384 curves are accepted.")
            }
        default:
            throw CryptoError(.unsupportedAlgorithm, "Only RSA and EC keys are accepted.")
        }
    }
}
