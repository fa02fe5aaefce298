// The values an HTTP server application works with: its configuration, the request a
// handler receives, and the response it returns.
public import Foundation

/// Serves one request on the connection's worker thread. A thrown `HTTPError` becomes
/// its JSON error response; any other error becomes 500 `internal-error`.
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Settings of an `HTTPServer`.
public struct HTTPServerConfiguration: Sendable {
    /// Where to listen, TLS (with mutual TLS as the context says), worker pool, idle
    /// timeout between and within requests, and connection lifetime.
    public var listener: ListenerConfiguration
    /// Parser limits: request line (414), header section (431), default body size (413).
    /// A route's own body limit replaces `bodySize` for its requests.
    public var parserLimits: HTTPParserLimits
    public var targetLimits: HTTPTargetLimits
    /// Longest time from the first octet of a request head to its end; a client still
    /// sending its head then gets 408 and the connection is closed.
    public var headTimeout: Duration
    /// Most unread request body octets read and dropped after a response so that the
    /// connection can carry the next request; a longer remainder closes the connection.
    public var drainLimit: Int64
    /// Requests served on one connection before it is closed.
    public var maximumRequestsPerConnection: Int
    /// Size of each connection's read buffer.
    public var readBufferSize: Int

    public init(listener: ListenerConfiguration = ListenerConfiguration(name: "http"),
                parserLimits: HTTPParserLimits = HTTPParserLimits(),
                targetLimits: HTTPTargetLimits = HTTPTargetLimits(),
                headTimeout: Duration = .seconds(30), drainLimit: Int64 = 1024 * 1024,
                maximumRequestsPerConnection: Int = 1000, readBufferSize: Int = 64 * 1024) {
        self.listener = listener
        self.parserLimits = parserLimits
        self.targetLimits = targetLimits
        self.headTimeout = headTimeout
        self.drainLimit = drainLimit
        self.maximumRequestsPerConnection = maximumRequestsPerConnection
        self.readBufferSize = readBufferSize
    }
}

/// A request as a handler sees it. The body is not in memory: `body` pulls it from the
/// connection as the handler reads.
public struct HTTPRequest {
    public let head: HTTPRequestHead
    /// The parsed target: path, decoded segments and query parameters.
    public let target: HTTPTarget
    /// Values of the route's `{name}` segments.
    public let parameters: [String: String]
    /// The connection: peer address, TLS version, and the client's certificate chain
    /// under mutual TLS.
    public let connection: ConnectionInfo
    /// The request body, read on demand; empty when the request has none.
    public let body: HTTPBodyReader

    init(head: HTTPRequestHead, target: HTTPTarget, parameters: [String: String], connection: ConnectionInfo,
         body: HTTPBodyReader) {
        self.head = head
        self.target = target
        self.parameters = parameters
        self.connection = connection
        self.body = body
    }

    public var method: String { head.method }
    public var headers: HTTPHeaders { head.headers }
    /// The path as received, still percent-encoded.
    public var path: String { target.path }
    public var query: [(name: String, value: String)] { target.query }

    /// The subject of the client's TLS certificate (verified during the handshake), or
    /// nil without one.
    public var peerCertificateSubject: String? { connection.peerCertificateSubject }
}

/// A response returned by a handler.
public struct HTTPResponse {
    public var status: Int
    /// Header fields; the server adds Date, Content-Length or Transfer-Encoding, and
    /// Connection as needed.
    public var headers: HTTPHeaders
    public var body: HTTPOutgoingBody

    public init(status: Int = 200, headers: HTTPHeaders = HTTPHeaders(), body: HTTPOutgoingBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with the bytes of `body`.
    public init(status: Int = 200, headers: HTTPHeaders = HTTPHeaders(), bytes: some DataProtocol) {
        self.init(status: status, headers: headers, body: .bytes(Array(bytes)))
    }

    /// A `text/plain` response in UTF-8.
    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], bytes: Data(text.utf8))
    }

    /// A streamed response: chunked when `length` is nil, else with that Content-Length.
    public static func stream(status: Int = 200, headers: HTTPHeaders = HTTPHeaders(), length: Int64? = nil,
                              producer: @escaping (HTTPBodyWriter) throws -> Void) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: .stream(length: length, producer: producer))
    }

    /// The JSON error response for `error`: `{"error":"<code>","message":"<sentence>"}`.
    public static func error(_ error: HTTPError, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        .error(status: error.status, code: error.code.rawValue, message: error.message, headers: headers)
    }

    /// A JSON error response with an application's own stable code (for example
    /// `enrolment-code-used`) in the same shape as `error(_:)`.
    public static func error(status: Int, code: String, message: String,
                             headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var fields = headers
        fields.set("Content-Type", "application/json")
        fields.set("Cache-Control", "no-store")
        return HTTPResponse(status: status, headers: fields, body: .bytes(HTTPError.jsonBody(code: code, message: message)))
    }
}
