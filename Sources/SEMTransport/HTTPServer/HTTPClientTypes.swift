// The values an HTTP client works with: its configuration, a request to send, the
// response received, and the error a server reported in a JSON error body.
public import Foundation
public import SEMCrypto

/// Settings of an `HTTPClient`: one server, plain or TLS, and the time limits.
public struct HTTPClientConfiguration: Sendable {
    public var host: String
    public var port: UInt16
    /// A client-role context for HTTPS (it may carry a client certificate for mutual
    /// TLS); nil for plain HTTP.
    public var tls: TLSContext?
    /// The name the server certificate must carry; defaults to `host`.
    public var serverName: String?
    /// Longest time to set up the TCP connection.
    public var connectTimeout: Duration
    /// Longest wait for one read (and longest write stall).
    public var readTimeout: Duration
    /// Longest time from the end of the request to the end of the response head.
    public var responseHeadTimeout: Duration
    /// Parser limits; `bodySize` is the default response body limit.
    public var parserLimits: HTTPParserLimits
    /// Most octets of an unread response body read and dropped to reuse the connection
    /// for the next request; a longer remainder closes it instead.
    public var drainLimit: Int64
    /// Size of the read buffer.
    public var readBufferSize: Int

    public init(host: String, port: UInt16, tls: TLSContext? = nil, serverName: String? = nil,
                connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(60),
                responseHeadTimeout: Duration = .seconds(60), parserLimits: HTTPParserLimits = HTTPParserLimits(),
                drainLimit: Int64 = 1024 * 1024, readBufferSize: Int = 64 * 1024) {
        self.host = host
        self.port = port
        self.tls = tls
        self.serverName = serverName
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.responseHeadTimeout = responseHeadTimeout
        self.parserLimits = parserLimits
        self.drainLimit = drainLimit
        self.readBufferSize = readBufferSize
    }
}

/// A request for `HTTPClient.send`.
public struct HTTPClientRequest {
    public var method: String
    /// The request target, normally origin-form: "/path?query".
    public var target: String
    /// Header fields; the client adds Host, and Content-Length or Transfer-Encoding.
    public var headers: HTTPHeaders
    public var body: HTTPOutgoingBody
    /// Largest response body accepted; nil for the configuration's `parserLimits.bodySize`.
    public var responseBodyLimit: Int64?

    public init(method: String = "GET", target: String, headers: HTTPHeaders = HTTPHeaders(),
                body: HTTPOutgoingBody = .empty, responseBodyLimit: Int64? = nil) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.responseBodyLimit = responseBodyLimit
    }

    /// Whether the request may be sent again after a connection failed before any
    /// response arrived (RFC 9110 §9.2.2: idempotent method, body at hand).
    var isReplayable: Bool {
        guard ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"].contains(method) else { return false }
        if case .bytes = body { return true }
        return false
    }
}

/// A response whose body is read from the connection on demand.
///
/// Read the body to its end (or let the next `send` drain or drop it) before the
/// connection can carry another request.
public struct HTTPClientResponse {
    public let head: HTTPResponseHead
    public let body: HTTPBodyReader

    public var status: Int { head.status }
    public var headers: HTTPHeaders { head.headers }
}

/// A response read completely, as `HTTPClient.sendPipelined` returns them.
public struct HTTPBufferedResponse: Sendable {
    public let head: HTTPResponseHead
    public let body: Data

    public var status: Int { head.status }
}

/// An error a server reported: the status and, when the body was a JSON error
/// `{"error": code, "message": sentence}`, its code and message.
public struct HTTPRemoteError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    /// The server's stable code, e.g. "not-found"; "http-<status>" when the body was
    /// not a JSON error.
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The matching `HTTPError`, when the code is one of ours.
    public var httpError: HTTPError? {
        HTTPError.Code(rawValue: code).map { HTTPError($0, message) }
    }

    public var description: String { "\(status) \(code): \(message)" }
}
