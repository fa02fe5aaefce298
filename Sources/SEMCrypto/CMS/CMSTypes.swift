// Value types shared by the CMS / S/MIME operations: algorithms, capabilities,
// receipt requests and signing options. Nothing here touches OpenSSL.
//
// Standards: CMS (RFC 5652), AuthEnvelopedData (RFC 5083) with AES-GCM (RFC 5084),
// AES-CBC in CMS (RFC 3565), S/MIME 4.0 (RFC 8551), ESS receipts (RFC 2634) and
// signingCertificateV2 (RFC 5035).
public import Foundation

/// Limits that every CMS operation applies to its inputs.
public enum CMS {
    /// The largest message or content, in bytes, that the CMS operations accept. Large
    /// attachments travel separately (architecture §4), so a letter stays far below this.
    public static let maximumInputBytes = 128 << 20

    /// Most recipients one envelope may carry.
    public static let maximumRecipients = 1_000

    static func checkSize(_ count: Int, _ what: String) throws {
        guard count <= maximumInputBytes else {
            throw CryptoError(.invalidArgument,
                              "The \(what) is \(count) bytes; at most \(maximumInputBytes) bytes are accepted.")
        }
    }
}

/// Symmetric algorithms that encrypt the content of a CMS envelope.
///
/// GCM variants produce AuthEnvelopedData (RFC 5083, RFC 5084 §3); CBC variants produce
/// EnvelopedData (RFC 5652 §6, RFC 3565). On decryption every variant is accepted; other
/// algorithms (3DES, RC2, ...) are refused.
public enum ContentEncryptionAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    case aes256GCM = "AES-256-GCM"
    case aes192GCM = "AES-192-GCM"
    case aes128GCM = "AES-128-GCM"
    case aes256CBC = "AES-256-CBC"
    case aes192CBC = "AES-192-CBC"
    case aes128CBC = "AES-128-CBC"

    /// The order in which a signer advertises its preferences by default (RFC 8551
    /// §2.5.2: strongest first; §2.7 makes AES-128-GCM and AES-256-GCM the MUSTs).
    public static let defaultPreferences: [ContentEncryptionAlgorithm] = [
        .aes256GCM, .aes128GCM, .aes256CBC, .aes128CBC,
    ]

    /// Whether the cipher authenticates the content (AEAD), i.e. the envelope is an
    /// AuthEnvelopedData.
    public var isAuthenticated: Bool {
        switch self {
        case .aes256GCM, .aes192GCM, .aes128GCM: true
        case .aes256CBC, .aes192CBC, .aes128CBC: false
        }
    }

    /// The algorithm's object identifier (RFC 3565 §4.1, RFC 5084 §3.2).
    public var objectIdentifier: String {
        switch self {
        case .aes128CBC: "2.16.840.1.101.3.4.1.2"
        case .aes192CBC: "2.16.840.1.101.3.4.1.22"
        case .aes256CBC: "2.16.840.1.101.3.4.1.42"
        case .aes128GCM: "2.16.840.1.101.3.4.1.6"
        case .aes192GCM: "2.16.840.1.101.3.4.1.26"
        case .aes256GCM: "2.16.840.1.101.3.4.1.46"
        }
    }

    public init?(objectIdentifier: String) {
        guard let match = Self.allCases.first(where: { $0.objectIdentifier == objectIdentifier }) else { return nil }
        self = match
    }

    public var description: String { rawValue }
}

/// One entry of a signer's SMIMECapabilities attribute (RFC 8551 §2.5.2).
///
/// ```
/// SMIMECapability ::= SEQUENCE {
///    capabilityID OBJECT IDENTIFIER,
///    parameters ANY DEFINED BY capabilityID OPTIONAL }
/// ```
public struct SMIMECapability: Sendable, Hashable, CustomStringConvertible {
    /// The capability's object identifier in dotted form.
    public let objectIdentifier: String
    /// A short name for the identifier where OpenSSL knows one, otherwise the dotted form.
    public let name: String

    public init(objectIdentifier: String, name: String) {
        self.objectIdentifier = objectIdentifier
        self.name = name
    }

    /// The content-encryption algorithm this capability names, if it is one this system uses.
    public var contentEncryption: ContentEncryptionAlgorithm? {
        ContentEncryptionAlgorithm(objectIdentifier: objectIdentifier)
    }

    public var description: String { name }
}

/// An ESS receipt request (RFC 2634 §2.7): the originator asks recipients for a signed
/// receipt that proves the message arrived unaltered.
///
/// ```
/// ReceiptRequest ::= SEQUENCE {
///   signedContentIdentifier ContentIdentifier,
///   receiptsFrom ReceiptsFrom,
///   receiptsTo SEQUENCE SIZE (1..ub-receiptsTo) OF GeneralNames }
/// ```
///
/// Only e-mail (rfc822Name) general names are represented; other name forms in a
/// received request are skipped.
public struct ReceiptRequest: Sendable, Hashable {
    /// Who is asked to return a receipt (RFC 2634 §2.7 `ReceiptsFrom`).
    public enum Requestees: Sendable, Hashable {
        /// allOrFirstTier = allReceipts (0): every recipient.
        case allRecipients
        /// allOrFirstTier = firstTierRecipients (1): recipients who got the message from
        /// the originator directly, not through a mailing list.
        case firstTierRecipients
        /// receiptList: only the listed addresses.
        case listed([String])
    }

    /// RFC 2634 §2.7: `ub-receiptsTo INTEGER ::= 16`.
    public static let maximumReceiptsTo = 16
    /// Longest content identifier accepted (the RFC sets no bound; OpenSSL makes 32 bytes).
    public static let maximumIdentifierBytes = 128

    /// Identifies the signed content; a receipt repeats it.
    public var signedContentIdentifier: Data
    public var receiptsFrom: Requestees
    /// Where receipts go. Empty when signing means "the signer's own e-mail addresses".
    public var receiptsTo: [String]

    /// `signedContentIdentifier` defaults to 32 fresh random bytes, which makes it unique.
    public init(signedContentIdentifier: Data = SecureRandom.bytes(32), receiptsFrom: Requestees = .allRecipients,
                receiptsTo: [String] = []) {
        self.signedContentIdentifier = signedContentIdentifier
        self.receiptsFrom = receiptsFrom
        self.receiptsTo = receiptsTo
    }

    /// Whether a recipient with `address` is asked for a receipt. For
    /// `.firstTierRecipients` the caller must also know that it received the message
    /// directly (RFC 2634 §2.2). Addresses compare without regard to case.
    public func asks(_ address: String) -> Bool {
        switch receiptsFrom {
        case .allRecipients, .firstTierRecipients: true
        case .listed(let addresses): addresses.contains { $0.lowercased() == address.lowercased() }
        }
    }
}

/// How `CMSSigner` builds a SignedData.
public struct CMSSigningOptions: Sendable {
    /// Leave the content out of the SignedData (a detached signature).
    public var detached: Bool
    /// Digest for the message digest and the signature. SHA-1 is not offered.
    public var digest: DigestAlgorithm
    /// Content-encryption algorithms to advertise in SMIMECapabilities, most preferred first.
    public var capabilities: [ContentEncryptionAlgorithm]
    /// An ESS receipt request to include as a signed attribute.
    public var receiptRequest: ReceiptRequest?

    public init(detached: Bool = false, digest: DigestAlgorithm = .sha256,
                capabilities: [ContentEncryptionAlgorithm] = ContentEncryptionAlgorithm.defaultPreferences,
                receiptRequest: ReceiptRequest? = nil) {
        self.detached = detached
        self.digest = digest
        self.capabilities = capabilities
        self.receiptRequest = receiptRequest
    }
}
