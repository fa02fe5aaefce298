// Plain value types for X.509 extensions and revocation: key usage bits, extended
// key usage purposes, basic constraints and revocation reasons. No OpenSSL here;
// the *_openssl.swift files translate between these and the C structures.

/// The key usage bits of RFC 5280 §4.2.1.3.
///
/// ```
/// KeyUsage ::= BIT STRING {
///      digitalSignature        (0),
///      nonRepudiation          (1), -- recent editions of X.509 have
///                                   -- renamed this bit to contentCommitment
///      keyEncipherment         (2),
///      dataEncipherment        (3),
///      keyAgreement            (4),
///      keyCertSign             (5),
///      cRLSign                 (6),
///      encipherOnly            (7),
///      decipherOnly            (8) }
/// ```
/// Bit `n` of `rawValue` is the named bit `n` above.
public struct KeyUsage: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let digitalSignature = KeyUsage(rawValue: 1 << 0)
    public static let nonRepudiation = KeyUsage(rawValue: 1 << 1)
    /// The newer name of `nonRepudiation` (same bit).
    public static let contentCommitment = nonRepudiation
    public static let keyEncipherment = KeyUsage(rawValue: 1 << 2)
    public static let dataEncipherment = KeyUsage(rawValue: 1 << 3)
    public static let keyAgreement = KeyUsage(rawValue: 1 << 4)
    public static let keyCertSign = KeyUsage(rawValue: 1 << 5)
    public static let cRLSign = KeyUsage(rawValue: 1 << 6)
    public static let encipherOnly = KeyUsage(rawValue: 1 << 7)
    public static let decipherOnly = KeyUsage(rawValue: 1 << 8)

    /// The RFC 5280 bit numbers in this set, ascending.
    var bitNumbers: [Int32] { (0..<9).filter { rawValue & (1 << $0) != 0 }.map { Int32($0) } }

    static let names = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
                        "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"]

    public var description: String { "[" + bitNumbers.map { Self.names[Int($0)] }.joined(separator: ", ") + "]" }
}

/// A key purpose of the extended key usage extension (RFC 5280 §4.2.1.12), by its
/// dotted object identifier.
public struct ExtendedKeyUsage: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The dotted OID, e.g. "1.3.6.1.5.5.7.3.4".
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// id-kp-serverAuth: TLS server.
    public static let serverAuth = ExtendedKeyUsage(rawValue: "1.3.6.1.5.5.7.3.1")
    /// id-kp-clientAuth: TLS client.
    public static let clientAuth = ExtendedKeyUsage(rawValue: "1.3.6.1.5.5.7.3.2")
    /// id-kp-codeSigning.
    public static let codeSigning = ExtendedKeyUsage(rawValue: "1.3.6.1.5.5.7.3.3")
    /// id-kp-emailProtection: S/MIME signing and encryption.
    public static let emailProtection = ExtendedKeyUsage(rawValue: "1.3.6.1.5.5.7.3.4")
    /// id-kp-timeStamping.
    public static let timeStamping = ExtendedKeyUsage(rawValue: "1.3.6.1.5.5.7.3.8")
    /// id-kp-OCSPSigning: delegated OCSP responder (RFC 6960 §4.2.2.2).
    public static let ocspSigning = ExtendedKeyUsage(rawValue: "1.3.6.1.5.5.7.3.9")

    public var description: String {
        switch self {
        case .serverAuth: "serverAuth"
        case .clientAuth: "clientAuth"
        case .codeSigning: "codeSigning"
        case .emailProtection: "emailProtection"
        case .timeStamping: "timeStamping"
        case .ocspSigning: "OCSPSigning"
        default: rawValue
        }
    }
}

/// The basic constraints extension (RFC 5280 §4.2.1.9).
///
/// ```
/// BasicConstraints ::= SEQUENCE {
///      cA                      BOOLEAN DEFAULT FALSE,
///      pathLenConstraint       INTEGER (0..MAX) OPTIONAL }
/// ```
public struct BasicConstraints: Sendable, Hashable, CustomStringConvertible {
    /// Whether the subject is a CA. False when the extension is absent.
    public let isCA: Bool
    /// How many non-self-issued intermediate CAs may follow; nil for no limit.
    public let pathLength: Int?

    public init(isCA: Bool, pathLength: Int? = nil) {
        self.isCA = isCA
        self.pathLength = pathLength
    }

    public var description: String {
        guard isCA else { return "CA:FALSE" }
        return pathLength.map { "CA:TRUE, pathlen:\($0)" } ?? "CA:TRUE"
    }
}

/// Why a certificate was revoked: the CRLReason codes of RFC 5280 §5.3.1, also used by
/// OCSP (RFC 6960 §4.2.1). Value 7 is not used.
public enum RevocationReason: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case unspecified = 0
    case keyCompromise = 1
    case cACompromise = 2
    case affiliationChanged = 3
    case superseded = 4
    case cessationOfOperation = 5
    case certificateHold = 6
    /// Only meaningful in delta CRLs, which this system does not issue.
    case removeFromCRL = 8
    case privilegeWithdrawn = 9
    case aACompromise = 10

    public var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .cACompromise: "cACompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .certificateHold: "certificateHold"
        case .removeFromCRL: "removeFromCRL"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        case .aACompromise: "aACompromise"
        }
    }
}
