// The error type of the message layer: a stable code and a sentence a person understands.
// Cryptographic failures (a tampered envelope, a bad signature) arrive as SEMCrypto's
// `CryptoError` unchanged, so callers can tell "not a letter" from "altered letter".

/// An error from building, parsing or reading a message.
public struct MessageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Stable, machine-readable codes; the raw values may appear in logs and must not change.
    public enum Code: String, Sendable, CaseIterable {
        /// The bytes are not well-formed MIME / RFC 5322 (or not the structure expected).
        case malformed = "message-malformed"
        /// The input exceeds a parser limit (size, line length, nesting, part count).
        case limitExceeded = "message-limit-exceeded"
        /// A caller passed a value that cannot be put into a message.
        case invalidArgument = "message-invalid-argument"
        /// The message is well-formed but not of a kind this layer reads
        /// (for example not S/MIME encrypted, or an unknown attachment format).
        case unsupported = "message-unsupported"
        /// An attachment's size or digest differs from what its reference promises.
        case integrityFailure = "message-integrity-failure"
    }

    public let code: Code
    /// A sentence a person understands. Never contains message content.
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    /// Two errors are equal when their codes are equal; the sentence may change.
    public static func == (lhs: MessageError, rhs: MessageError) -> Bool { lhs.code == rhs.code }
}
