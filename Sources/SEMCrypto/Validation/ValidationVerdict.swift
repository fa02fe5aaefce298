// The result of certificate path validation: a verdict carrying a reason, never a Bool.
public import Foundation

/// What a certificate is about to be used for (RFC 5280 §4.2.1.3 key usage and
/// §4.2.1.12 extended key usage; RFC 8550 §4.4 for S/MIME).
public enum CertificatePurpose: String, Sendable, CaseIterable {
    /// Signing mail (S/MIME SignedData, receipts).
    case emailSigning = "email-signing"
    /// Receiving mail encrypted to the key (EnvelopedData / AuthEnvelopedData).
    case emailEncryption = "email-encryption"
    case tlsServer = "tls-server"
    case tlsClient = "tls-client"
    /// A delegated OCSP responder (RFC 6960 §4.2.2.2).
    case ocspSigning = "ocsp-signing"
    /// The federation registry's signer of the trust list.
    case trustListSigning = "trust-list-signing"
}

/// Revocation state of one certificate as established from a CRL or an OCSP response.
public enum RevocationStatus: Sendable, Equatable {
    case good(source: RevocationSource)
    case revoked(date: Date, reason: RevocationReason, source: RevocationSource)
    /// Neither a current CRL nor a valid OCSP response was available; the text says why.
    case unknown(String)
}

/// Where a revocation answer came from.
public enum RevocationSource: String, Sendable, Equatable {
    case ocsp, crl
    /// The issuing CA's own records, when the CA itself validates a path.
    case issuerRecords = "issuer-records"
}

/// How a missing revocation answer is treated. Hard failure is the default; soft
/// failure has to be chosen explicitly, and the verdict still records that the state
/// was unknown.
public enum RevocationMode: Sendable, Equatable {
    case hardFail
    case softFail
}

/// Why a path was refused.
public struct ValidationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case expired(notAfter: Date)
        case notYetValid(notBefore: Date)
        case unknownIssuer
        case badSignature
        case wrongUsage(String)
        case invalidCA
        case pathTooLong
        case revoked(date: Date, reason: RevocationReason)
        case revocationUnknown(String)
        case policyNotAccepted(required: [String])
        case malformed(String)

        /// Stable code for logs and API error bodies.
        public var code: String {
            switch self {
            case .expired: "certificate-expired"
            case .notYetValid: "certificate-not-yet-valid"
            case .unknownIssuer: "unknown-issuer"
            case .badSignature: "bad-signature"
            case .wrongUsage: "wrong-usage"
            case .invalidCA: "invalid-ca"
            case .pathTooLong: "path-too-long"
            case .revoked: "certificate-revoked"
            case .revocationUnknown: "revocation-unknown"
            case .policyNotAccepted: "policy-not-accepted"
            case .malformed: "malformed-certificate"
            }
        }
    }

    public let reason: Reason
    /// Subject of the certificate at fault, if known.
    public let subject: String?
    /// Position in the chain: 0 is the leaf.
    public let depth: Int?

    public init(_ reason: Reason, subject: String? = nil, depth: Int? = nil) {
        self.reason = reason
        self.subject = subject
        self.depth = depth
    }

    public var code: String { reason.code }

    public var description: String {
        let who = subject.map { "The certificate of \($0)" } ?? "The certificate"
        switch reason {
        case .expired(let date): return "\(who) expired on \(ISO8601Format.string(date))."
        case .notYetValid(let date): return "\(who) is not valid before \(ISO8601Format.string(date))."
        case .unknownIssuer: return "\(who) was not issued by a trusted authority."
        case .badSignature: return "\(who) carries a signature that does not verify."
        case .wrongUsage(let detail): return "\(who) may not be used for this: \(detail)"
        case .invalidCA: return "\(who) is used as an authority but is not allowed to issue certificates."
        case .pathTooLong: return "The chain to \(subject ?? "the certificate") is longer than its authorities allow."
        case .revoked(let date, let reason):
            return "\(who) was revoked on \(ISO8601Format.string(date)) (reason: \(reason))."
        case .revocationUnknown(let detail): return "The revocation state of \(subject ?? "the certificate") is unknown: \(detail)"
        case .policyNotAccepted(let required):
            return "\(who) asserts none of the required policies (\(required.joined(separator: ", ")))."
        case .malformed(let detail): return "\(who) could not be processed: \(detail)"
        }
    }
}

/// A chain that passed validation.
public struct ValidatedChain: Sendable {
    /// Leaf first, trust anchor last.
    public let certificates: [Certificate]
    /// Revocation answer for each certificate except the anchor, leaf first.
    public let revocation: [RevocationStatus]

    public var leaf: Certificate { certificates[0] }
    public var anchor: Certificate { certificates[certificates.count - 1] }
}

/// The verdict of path validation.
public enum ValidationVerdict: Sendable {
    case valid(ValidatedChain)
    case invalid(ValidationFailure)

    public var isValid: Bool { if case .valid = self { true } else { false } }

    public var failure: ValidationFailure? { if case .invalid(let failure) = self { failure } else { nil } }

    /// The chain, or the failure thrown.
    public func get() throws -> ValidatedChain {
        switch self {
        case .valid(let chain): return chain
        case .invalid(let failure): throw failure
        }
    }
}

enum ISO8601Format {
    static func string(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
