// The one error type of SEMFederation: a stable code and a sentence a person understands.

/// An error from the federation layer: trust lists, profiles, agreements, negotiation.
///
/// Two errors are equal when their codes are equal; the reason text is for people and
/// may change between versions.
public struct FederationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Stable, machine-readable codes. The raw values appear in logs and API bodies.
    public enum Code: String, Sendable, CaseIterable {
        /// Bytes that should be canonical JSON are not (syntax, duplicate keys, floats,
        /// unknown fields, non-canonical form).
        case invalidJSON = "invalid-json"
        /// The trust list's signature does not verify or was not made by the pinned SMI signer.
        case trustListSignature = "trust-list-signature"
        /// The signed trust list's content is not a well-formed, canonical trust list.
        case trustListMalformed = "trust-list-malformed"
        /// The trust list is older than (or conflicts with) the last one accepted.
        case trustListRollback = "trust-list-rollback"
        /// The trust list is past its nextUpdate plus the grace period.
        case trustListStale = "trust-list-stale"
        /// The trust list was issued in the future, beyond the allowed clock skew.
        case trustListNotYetValid = "trust-list-not-yet-valid"
        /// There is no accepted trust list yet.
        case trustListMissing = "trust-list-missing"
        /// A domain profile names unknown algorithms, has empty lists or impossible sizes.
        case invalidProfile = "invalid-profile"
        /// An agreement is malformed or the requested state change is not allowed.
        case invalidAgreement = "invalid-agreement"
        /// An agreement signature does not verify or its signer is not the domain's administrator.
        case agreementSignature = "agreement-signature"
        /// The trust list names no such domain (or server), or the domain is suspended.
        case unknownDomain = "unknown-domain"
        /// A certificate is not one the trust list registers.
        case unknownCertificate = "unknown-certificate"
        /// Sender and recipient share no acceptable algorithm.
        case noCommonAlgorithm = "no-common-algorithm"
        /// Reading or writing the trust list cache failed.
        case storage = "storage"
    }

    public let code: Code
    /// A sentence a person understands.
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (lhs: FederationError, rhs: FederationError) -> Bool { lhs.code == rhs.code }
}
