// The one error type of SEMRegistry: a stable code, the log entry it concerns (when there
// is one) and a sentence a person understands.

/// An error from the registry: its log, its state and registration requests.
///
/// Two errors are equal when their codes and sequence numbers are equal; the reason text
/// is for people and may change between versions.
public struct RegistryError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Stable, machine-readable codes.
    public enum Code: String, Sendable, CaseIterable {
        /// Stored or received bytes are not a canonical, well-formed log entry.
        case malformedEntry = "malformed-entry"
        /// An entry's previous hash is not the hash of the entry before it.
        case hashLinkBroken = "hash-link-broken"
        /// An entry's signature does not verify with its signer certificate.
        case signatureInvalid = "signature-invalid"
        /// An entry's sequence number is not the next one (a gap, a repeat or a reordering).
        case sequenceGap = "sequence-gap"
        /// An entry was signed by a certificate that is not a trusted SMI signer.
        case unknownSigner = "unknown-signer"
        /// An entry asks for a change the registry's state does not allow.
        case invalidTransition = "invalid-transition"
        /// A registration request was refused.
        case registrationRefused = "registration-refused"
        /// The payload is not a JSON object or is too large.
        case invalidPayload = "invalid-payload"
        /// A follower refused the leader's signed trust list.
        case trustListRefused = "trust-list-refused"
        /// A follower was asked for a change; changes go to the leader.
        case readOnly = "read-only"
        /// Reading or writing the log's database failed.
        case storage = "storage"
    }

    public let code: Code
    /// The sequence number of the entry concerned, when there is one.
    public let sequence: UInt64?
    /// A sentence a person understands.
    public let reason: String

    public init(_ code: Code, sequence: UInt64? = nil, _ reason: String) {
        self.code = code
        self.sequence = sequence
        self.reason = reason
    }

    public var description: String {
        if let sequence { return "\(code.rawValue) at entry \(sequence): \(reason)" }
        return "\(code.rawValue): \(reason)"
    }

    public static func == (lhs: RegistryError, rhs: RegistryError) -> Bool {
        lhs.code == rhs.code && lhs.sequence == rhs.sequence
    }
}
