// The public HTTP/1.1 parsers: requests for servers, responses for clients.
//
// Both are pull parsers. The driver appends what one read returned, then calls `next()`
// until it returns nil, and repeats. Events come in the order head, body pieces, end, and
// again for the next message on the same connection (pipelined requests, or a final
// response after 1xx). Bodies are handed out in pieces of bounded size, so a server can
// stream a body of any size that the limits allow with bounded memory.
//
// Per-route body limits: after `.head` the server may set `bodyLimit` (for example from
// the matched route) before it asks for the next event; the limit applies to that
// message only.
//
// After an error the parser keeps throwing it: the connection must be answered (for a
// request, with `HTTPError.status`) and closed.

/// What a request parser yields.
public enum HTTPRequestEvent: Sendable, Equatable {
    case head(HTTPRequestHead)
    case body([UInt8])
    case end
}

/// What a response parser yields.
public enum HTTPResponseEvent: Sendable, Equatable {
    case head(HTTPResponseHead)
    case body([UInt8])
    case end
}

/// Incremental parser of HTTP/1.1 requests (RFC 9112).
public struct HTTPRequestParser: Sendable {
    private var decoder: HTTPMessageDecoder

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        decoder = HTTPMessageDecoder(role: .request, limits: limits)
    }

    /// The body limit of the current request (413 beyond it); reset to
    /// `limits.bodySize` at every request head.
    public var bodyLimit: Int64 {
        get { decoder.bodyLimit }
        set { decoder.bodyLimit = newValue }
    }

    /// Adds input from the connection.
    public mutating func append(_ bytes: some Sequence<UInt8>) { decoder.append(bytes) }

    /// Input appended and not yet handed out as events (for example the start of a
    /// pipelined request).
    public var bufferedCount: Int { decoder.buffer.count - decoder.position }

    /// Declares that the connection has no more input; a request cut short then fails.
    public mutating func endInput() { decoder.endInput() }

    /// The next event, or nil when more input is needed.
    public mutating func next() throws(HTTPError) -> HTTPRequestEvent? {
        switch try decoder.next() {
        case .requestHead(let head): .head(head)
        case .body(let bytes): .body(bytes)
        case .end: .end
        case .responseHead, nil: nil
        }
    }

    /// Appends `bytes` and returns every event they complete (convenient in tests and for
    /// small inputs; a server that adjusts `bodyLimit` after the head uses `next()`).
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(HTTPError) -> [HTTPRequestEvent] {
        append(bytes)
        var events: [HTTPRequestEvent] = []
        while let event = try next() { events.append(event) }
        return events
    }
}

/// Incremental parser of HTTP/1.1 responses (RFC 9112).
public struct HTTPResponseParser: Sendable {
    private var decoder: HTTPMessageDecoder

    /// `requestMethod` is the method of the request the next response answers; a response
    /// to HEAD has no body (RFC 9112 §6.3).
    public init(limits: HTTPParserLimits = HTTPParserLimits(), requestMethod: String = "GET") {
        decoder = HTTPMessageDecoder(role: .response, limits: limits)
        decoder.requestMethod = requestMethod
    }

    /// The method of the request being answered; set it before each new request.
    public var requestMethod: String {
        get { decoder.requestMethod }
        set { decoder.requestMethod = newValue }
    }

    /// The body limit of the current response; reset to `limits.bodySize` at every head.
    public var bodyLimit: Int64 {
        get { decoder.bodyLimit }
        set { decoder.bodyLimit = newValue }
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) { decoder.append(bytes) }

    /// Input appended and not yet handed out as events.
    public var bufferedCount: Int { decoder.buffer.count - decoder.position }

    /// Declares that the server closed the connection: a body read until close ends, a
    /// response cut short fails.
    public mutating func endInput() { decoder.endInput() }

    public mutating func next() throws(HTTPError) -> HTTPResponseEvent? {
        switch try decoder.next() {
        case .responseHead(let head): .head(head)
        case .body(let bytes): .body(bytes)
        case .end: .end
        case .requestHead, nil: nil
        }
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(HTTPError) -> [HTTPResponseEvent] {
        append(bytes)
        var events: [HTTPResponseEvent] = []
        while let event = try next() { events.append(event) }
        return events
    }
}
