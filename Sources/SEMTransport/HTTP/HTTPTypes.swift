// HTTP/1.1 message heads (RFC 9112 §3, §4, §5) and the connection-persistence rule
// (RFC 9112 §9.3).

/// The protocol versions this code speaks.
public enum HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    case http10
    case http11

    public var description: String {
        switch self {
        case .http10: "HTTP/1.0"
        case .http11: "HTTP/1.1"
        }
    }
}

/// Header fields in the order received. Names compare case-insensitively (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    /// Appends a field line.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Removes every field line named `name`, then adds one.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every field line named `name`.
    public mutating func remove(_ name: String) {
        let key = name.lowercased()
        fields.removeAll { $0.name.lowercased() == key }
    }

    /// The values of every field line named `name`, in order.
    public subscript(name: String) -> [String] {
        let key = name.lowercased()
        return fields.filter { $0.name.lowercased() == key }.map(\.value)
    }

    /// The value of the first field line named `name`.
    public func first(_ name: String) -> String? {
        let key = name.lowercased()
        return fields.first { $0.name.lowercased() == key }?.value
    }

    public func contains(_ name: String) -> Bool { first(name) != nil }

    /// The elements of a comma-separated list field (RFC 9110 §5.6.1) across all its field
    /// lines, trimmed, lower-cased, empty elements dropped.
    public func tokens(_ name: String) -> [String] {
        self[name].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingOWS().lowercased() }
            .filter { !$0.isEmpty }
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0 == $1 }
    }
}

/// The head of a request: request line and header fields.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive (RFC 9110 §9.1).
    public var method: String
    /// The request target as received (origin-form, absolute-form, authority-form or "*").
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: String, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// Whether the connection may carry another request after this one.
    public var keepAlive: Bool { HTTPKeepAlive.isPersistent(version: version, headers: headers) }
}

/// The head of a response: status line and header fields.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    /// The reason phrase; meaningless to software (RFC 9112 §4) but shown to people.
    public var reason: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(status: Int, reason: String? = nil, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.reason = reason ?? HTTPStatus.reason(status)
        self.version = version
        self.headers = headers
    }

    /// Whether the connection may carry another exchange after this one.
    public var keepAlive: Bool { HTTPKeepAlive.isPersistent(version: version, headers: headers) }
}

/// Persistence of a connection (RFC 9112 §9.3).
public enum HTTPKeepAlive {
    /// HTTP/1.1 persists unless "Connection: close"; HTTP/1.0 only with
    /// "Connection: keep-alive" (and never with "close").
    public static func isPersistent(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
        let options = headers.tokens("Connection")
        if options.contains("close") { return false }
        switch version {
        case .http11: return true
        case .http10: return options.contains("keep-alive")
        }
    }
}

/// Standard reason phrases (RFC 9110 §15).
public enum HTTPStatus {
    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
    func trimmingOWS() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
