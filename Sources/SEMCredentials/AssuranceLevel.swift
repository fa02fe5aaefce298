// Identity assurance levels and the certificate policy OIDs that carry them.
//
// The OIDs live under the UUID arc 2.25 (ITU-T X.667 / RFC 4122 §4), which anyone may
// use without registration: 2.25.265140810969007671893030079038447424723 is this
// system's arc, .1 holds assurance policies. An operator with its own registered arc
// may map these onto it; every party in a federation must agree on the mapping.

/// How well a user's identity was established before enrolment.
public enum AssuranceLevel: String, Sendable, Codable, CaseIterable, Comparable {
    /// The address was confirmed; nothing more. Keys may be in a key file.
    case low
    /// Identity checked against an official document by the registration officer.
    /// Keys may be in an encrypted key file.
    case substantial
    /// As substantial, checked in person, and the signing key is generated on a
    /// PKCS#11 token and never leaves it.
    case high

    /// The arc under which the system's certificate policies sit.
    public static let policyArc = "2.25.265140810969007671893030079038447424723.1"

    /// The certificatePolicies OID (RFC 5280 §4.2.1.4) that certifies this level.
    public var policyOID: String {
        switch self {
        case .low: "\(Self.policyArc).1"
        case .substantial: "\(Self.policyArc).2"
        case .high: "\(Self.policyArc).3"
        }
    }

    /// The level a certificate asserts: the highest of the system's policy OIDs in it.
    public init?(policies: [String]) {
        guard let level = AssuranceLevel.allCases.reversed().first(where: { policies.contains($0.policyOID) }) else {
            return nil
        }
        self = level
    }

    private var rank: Int {
        switch self {
        case .low: 0
        case .substantial: 1
        case .high: 2
        }
    }

    public static func < (lhs: AssuranceLevel, rhs: AssuranceLevel) -> Bool { lhs.rank < rhs.rank }
}
