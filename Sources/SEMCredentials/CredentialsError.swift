// The one error type of the credentials layer (CA, key archive, directory).

/// A refusal or failure of the CA service. `code` is stable and appears in API error
/// bodies; `reason` is a sentence a person understands.
public struct CredentialsError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case unknownUser = "unknown-user"
        case userExists = "user-exists"
        case invalidAddress = "invalid-address"
        case enrolmentCodeInvalid = "enrolment-code-invalid"
        case enrolmentCodeUsed = "enrolment-code-used"
        case enrolmentCodeExpired = "enrolment-code-expired"
        case requestInvalid = "request-invalid"
        case addressMismatch = "address-mismatch"
        case keyArchiveRequired = "key-archive-required"
        case keyArchiveMismatch = "key-archive-mismatch"
        case certificateNotFound = "certificate-not-found"
        case alreadyRevoked = "already-revoked"
        case configurationInvalid = "configuration-invalid"
        case recoveryNotConfigured = "recovery-not-configured"
        case recoveryRequestNotFound = "recovery-request-not-found"
        case recoveryOfficerUnknown = "recovery-officer-unknown"
        case recoveryRefused = "recovery-refused"
        case recoveryIncomplete = "recovery-incomplete"
        case auditLogBroken = "audit-log-broken"
        case internalFailure = "internal-failure"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (lhs: CredentialsError, rhs: CredentialsError) -> Bool { lhs.code == rhs.code }
}
