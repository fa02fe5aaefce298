// The one error type of SEMMail: a stable code, an HTTP status for the client API, and a
// sentence a person understands.
public import SEMTransport

/// An error from the mail service.
public struct MailError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        /// The caller presented no usable certificate, or one that names no local address.
        case unauthenticated = "unauthenticated"
        /// The PDP denied the action.
        case forbidden = "forbidden"
        /// The request is malformed: bad JSON, a bad address, an unknown attachment id.
        case invalidRequest = "invalid-request"
        /// No such message, attachment or user.
        case notFound = "not-found"
        /// The address book changed since the version the client read.
        case versionConflict = "version-conflict"
        /// The message or attachment is larger than this domain accepts.
        case tooLarge = "too-large"
        /// A recipient's domain is not in the trust list.
        case unknownDomain = "unknown-domain"
        /// The PDP, the CA, the SMI or a peer server could not be reached.
        case unavailable = "unavailable"
        /// The server's own storage failed.
        case storage = "storage"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (lhs: MailError, rhs: MailError) -> Bool { lhs.code == rhs.code }

    /// The HTTP status the client API answers with.
    public var status: Int {
        switch code {
        case .unauthenticated: 401
        case .forbidden: 403
        case .invalidRequest, .unknownDomain: 400
        case .notFound: 404
        case .versionConflict: 409
        case .tooLarge: 413
        case .unavailable: 503
        case .storage: 500
        }
    }

    /// The JSON error response.
    public var response: HTTPResponse { .error(status: status, code: code.rawValue, message: reason) }
}
