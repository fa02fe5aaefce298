// The one error type of the HTTP code: a stable code that maps to one status, and a
// sentence for a person. Parsers throw it, and servers answer it with a JSON body:
//
//   {"error":"<stable-code>","message":"<sentence>"}
internal import Foundation

/// An HTTP-level failure with a stable code and a human sentence.
///
/// Two errors are equal when their codes are equal; the message is for people.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable error codes. The raw values appear in API error bodies and must not change.
    public enum Code: String, Sendable, CaseIterable {
        case badRequest = "bad-request"
        case unauthorized = "unauthorized"
        case forbidden = "forbidden"
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case timeout = "timeout"
        case conflict = "conflict"
        case payloadTooLarge = "payload-too-large"
        case uriTooLong = "uri-too-long"
        case unsupportedMediaType = "unsupported-media-type"
        case headerTooLarge = "header-too-large"
        case tooManyRequests = "too-many-requests"
        case internalError = "internal-error"
        case notImplemented = "not-implemented"
        case badGateway = "bad-gateway"
        case unavailable = "unavailable"
        case versionNotSupported = "version-not-supported"

        /// The response status for this code.
        public var status: Int {
            switch self {
            case .badRequest: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .timeout: 408
            case .conflict: 409
            case .payloadTooLarge: 413
            case .uriTooLong: 414
            case .unsupportedMediaType: 415
            case .headerTooLarge: 431
            case .tooManyRequests: 429
            case .internalError: 500
            case .notImplemented: 501
            case .badGateway: 502
            case .unavailable: 503
            case .versionNotSupported: 505
            }
        }
    }

    public let code: Code
    /// A sentence a person understands; never contains secrets.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The response status for this error.
    public var status: Int { code.status }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool { lhs.code == rhs.code }

    /// The JSON error body `{"error":"<code>","message":"<sentence>"}`.
    public var jsonBody: [UInt8] { HTTPError.jsonBody(code: code.rawValue, message: message) }

    /// The JSON error body for any stable code, including an application's own.
    public static func jsonBody(code: String, message: String) -> [UInt8] {
        struct Body: Encodable {
            let error: String
            let message: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding two strings cannot fail; the fallback only keeps the function total.
        return Array((try? encoder.encode(Body(error: code, message: message))) ?? Data("{}".utf8))
    }
}
