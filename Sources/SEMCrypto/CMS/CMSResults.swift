// What verification, decryption and receipt checks return. Nothing here touches OpenSSL.
//
// None of these values says that a certificate is trustworthy: CMS verification checks
// signatures and digests only. The caller must run path validation (trust anchor,
// validity, key usage, revocation) on every returned signer certificate before it
// believes who signed.
public import Foundation

/// One verified signer of a SignedData (RFC 5652 §5.3 SignerInfo).
public struct CMSSignerInfo: Sendable {
    /// The certificate whose key verified the signature. Not yet validated: see the file note.
    public let certificate: Certificate
    /// The digest algorithm of the signature.
    public let digest: DigestAlgorithm
    /// The signingTime attribute (RFC 5652 §11.3), as claimed by the signer.
    public let signingTime: Date?
    /// The SMIMECapabilities the signer advertised, most preferred first (RFC 8551 §2.5.2).
    public let capabilities: [SMIMECapability]
    /// The ESS receipt request, when the signer asked for a signed receipt.
    public let receiptRequest: ReceiptRequest?
    /// Whether an ESS signingCertificate(V2) attribute was present. When present it has
    /// been checked to name `certificate` (RFC 5035 §5.4); a mismatch fails verification.
    public let hasSigningCertificateAttribute: Bool

    /// Content-encryption algorithms among `capabilities`, in the signer's order.
    public var contentEncryptionPreferences: [ContentEncryptionAlgorithm] {
        capabilities.compactMap(\.contentEncryption)
    }
}

/// A SignedData whose signatures and content digests all verified.
public struct CMSVerifiedContent: Sendable {
    /// The signed content (for a detached signature, the content that was passed in).
    public let content: Data
    /// Whether the SignedData carried no content of its own.
    public let isDetached: Bool
    /// Every signer, in the order of the SignerInfos; never empty.
    public let signers: [CMSSignerInfo]
    /// Every certificate the message carries, for building the signer's path.
    public let certificates: [Certificate]

    /// The first signer (S/MIME messages normally have exactly one).
    public var signer: CMSSignerInfo { signers[0] }
}

/// The plaintext of an EnvelopedData or AuthEnvelopedData.
public struct CMSDecryptedContent: Sendable {
    /// The decrypted content.
    public let content: Data
    /// The content-encryption algorithm the sender chose.
    public let algorithm: ContentEncryptionAlgorithm

    /// Whether the content was integrity-protected by the cipher (AES-GCM).
    public var isAuthenticated: Bool { algorithm.isAuthenticated }
}

/// A signed receipt (RFC 2634 §2.8) that verified against the original message.
public struct CMSVerifiedReceipt: Sendable {
    /// Who signed the receipt. Not yet validated: see the file note.
    public let signer: CMSSignerInfo
    /// The identifier from the original receipt request, which the receipt repeats.
    public let signedContentIdentifier: Data
}

/// An S/MIME message that was decrypted, then verified (RFC 8551 §3.7 order reversed).
public struct CMSOpenedMessage: Sendable {
    /// The content-encryption algorithm of the outer envelope.
    public let encryption: ContentEncryptionAlgorithm
    /// The inner SignedData, verified.
    public let verified: CMSVerifiedContent

    /// The signed content.
    public var content: Data { verified.content }
}
