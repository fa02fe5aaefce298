// The one error type of SEMCrypto: a stable code, a sentence for a person, the
// OpenSSL error queue where there was one, and where it was thrown.

/// An error from a cryptographic operation.
///
/// Two errors are equal when their codes are equal; the reason text and the OpenSSL
/// detail are for people and may change between versions.
public struct CryptoError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Stable, machine-readable error codes. The raw values appear in logs and in
    /// API error bodies and must not change.
    public enum Code: String, Sendable, CaseIterable {
        /// Bytes that should be DER, PEM, CMS or similar could not be decoded.
        case malformedInput = "malformed-input"
        /// A caller passed a value outside what the operation accepts.
        case invalidArgument = "invalid-argument"
        /// The passphrase did not open the encrypted key.
        case wrongPassphrase = "wrong-passphrase"
        /// An authenticated cipher (AES-GCM) rejected the ciphertext or tag.
        case authenticationFailed = "authentication-failed"
        /// None of the supplied keys is a recipient of the enveloped message.
        case noMatchingRecipient = "no-matching-recipient"
        /// A signature did not verify.
        case badSignature = "bad-signature"
        /// A certificate does not fit the operation (usage, purpose, key type).
        case certificateUnsuitable = "certificate-unsuitable"
        /// The algorithm or key size is not one this system allows.
        case unsupportedAlgorithm = "unsupported-algorithm"
        /// The private key lives on a token and cannot be exported.
        case keyNotExtractable = "key-not-extractable"
        /// A key with that label does not exist in the key store.
        case keyNotFound = "key-not-found"
        /// The PKCS#11 token or its module failed (not present, wrong PIN, locked).
        case tokenFailure = "token-failure"
        /// An OCSP responder answered with an error status (tryLater, unauthorized, ...)
        /// or its answer does not cover the certificate asked about.
        case responderError = "responder-error"
        /// A revocation answer is outside its validity window or does not carry the
        /// nonce that was sent, so it may be stale or replayed.
        case notFresh = "not-fresh"
        /// Reading or writing a file failed.
        case fileSystem = "file-system"
        /// OpenSSL failed in a way that does not fit any code above.
        case internalFailure = "internal-failure"
    }

    public let code: Code
    /// A sentence a person understands.
    public let reason: String
    /// The drained OpenSSL error queue, if any (never contains key material).
    public let detail: String?
    public let file: String
    public let line: Int

    public init(_ code: Code, _ reason: String, detail: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.detail = (detail?.isEmpty ?? true) ? nil : detail
        self.file = file
        self.line = line
    }

    public var description: String {
        if let detail { return "\(code.rawValue): \(reason) (\(detail))" }
        return "\(code.rawValue): \(reason)"
    }

    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool { lhs.code == rhs.code }
}
