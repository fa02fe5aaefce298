// The algorithm names a domain profile uses, beside SEMCrypto's own enums for content
// encryption (ContentEncryptionAlgorithm) and digests (DigestAlgorithm), whose raw values
// are the same names ("AES-256-GCM", "SHA-256").
public import SEMCrypto

/// How the content-encryption key reaches a recipient (RFC 5652 §6.2).
public enum KeyManagementAlgorithm: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// Key transport with RSAES-OAEP, SHA-256 for the hash and MGF1 (RFC 8017, RFC 4055 §4).
    case rsaOAEPSHA256 = "RSA-OAEP-SHA256"
    /// ECDH key agreement on P-256, X9.63 KDF with SHA-256 (RFC 5753 §3.1).
    case ecdhP256SHA256KDF = "ECDH-P256-SHA256-KDF"
    /// ECDH key agreement on P-384, X9.63 KDF with SHA-384 (RFC 5753 §3.1).
    case ecdhP384SHA384KDF = "ECDH-P384-SHA384-KDF"

    /// The algorithm that fits a recipient key of this kind.
    public static func matching(_ key: KeyAlgorithm) -> KeyManagementAlgorithm {
        switch key {
        case .rsa: .rsaOAEPSHA256
        case .ecP256: .ecdhP256SHA256KDF
        case .ecP384: .ecdhP384SHA384KDF
        }
    }

    public var description: String { rawValue }
}

/// Signature algorithms for CMS SignerInfos and certificates.
public enum SignatureAlgorithm: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case ecdsaP256SHA256 = "ECDSA-P256-SHA256"
    case ecdsaP384SHA384 = "ECDSA-P384-SHA384"
    case rsaPKCS1SHA256 = "RSA-PKCS1-SHA256"
    case rsaPKCS1SHA384 = "RSA-PKCS1-SHA384"
    case rsaPSSSHA256 = "RSA-PSS-SHA256"

    /// Whether a signer key of this kind can make the signature.
    public func fits(_ key: KeyAlgorithm) -> Bool {
        switch (self, key) {
        case (.ecdsaP256SHA256, .ecP256), (.ecdsaP384SHA384, .ecP384): true
        case (.rsaPKCS1SHA256, .rsa), (.rsaPKCS1SHA384, .rsa), (.rsaPSSSHA256, .rsa): true
        default: false
        }
    }

    /// Whether the algorithm needs an RSA key (and so the profile's RSA minimum applies).
    public var isRSA: Bool { self == .rsaPKCS1SHA256 || self == .rsaPKCS1SHA384 || self == .rsaPSSSHA256 }

    public var description: String { rawValue }
}

/// When a domain sends signed receipts (RFC 2634 §2) for mail it receives.
public enum ReceiptPolicy: String, Sendable, CaseIterable, Codable {
    case never
    /// When the sender's SignedData carries a receiptRequest.
    case onRequest = "on-request"
    case always
}

/// Strength orders used by negotiation, strongest first. Key size decides before mode:
/// AES-256-CBC ranks above AES-128-GCM (architecture §4 prefers AES-256-GCM, then AES-256-CBC).
enum Strength {
    static let contentEncryption: [ContentEncryptionAlgorithm] = [
        .aes256GCM, .aes256CBC, .aes192GCM, .aes192CBC, .aes128GCM, .aes128CBC,
    ]
    static let digests: [DigestAlgorithm] = [.sha512, .sha384, .sha256]

    static func rank<T: Equatable>(_ value: T, in order: [T]) -> Int { order.firstIndex(of: value) ?? order.count }
}
