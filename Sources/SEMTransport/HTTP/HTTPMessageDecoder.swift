// The incremental HTTP/1.1 message decoder shared by the request and the response parser
// (RFC 9112). It reads the start line and the header section here, and the body in
// HTTPMessageDecoder+Body.swift.
//
// Strictness (each refusal is an HTTPError whose code gives the status):
//   - lines end in CRLF; a bare LF is refused (RFC 9112 §2.2 allows leniency, we do not);
//   - request line longer than the limit → 414; header section over its size or count
//     limit → 431;
//   - a header line that starts with whitespace (obsolete line folding, RFC 9112 §5.2, or
//     whitespace before the first field) → 400; a field name that is not a token, or
//     whitespace between name and colon (RFC 9112 §5.1) → 400;
//   - control characters other than HTAB in a field value (NUL, CR) → 400;
//   - HTTP/1.1 requests must carry exactly one Host field (RFC 9112 §3.2) → 400;
//   - a version other than HTTP/1.0 and HTTP/1.1 → 505.
//
// Field values are decoded as UTF-8 when they are valid UTF-8 and as ISO-8859-1 otherwise,
// so that no octet is lost (obs-text, RFC 9110 §5.5).
//
// The decoder buffers only input that does not yet form a complete line or body piece;
// the caller appends one read at a time and drains the events before the next read.

/// Events of the shared decoder; the public parsers map them to their own event types.
enum HTTPDecoderEvent: Sendable, Equatable {
    case requestHead(HTTPRequestHead)
    case responseHead(HTTPResponseHead)
    case body([UInt8])
    case end
}

struct HTTPMessageDecoder: Sendable {
    enum Role: Sendable { case request, response }

    enum ChunkState: Sendable, Equatable {
        case size
        case data(remaining: Int64)
        case dataEnd
        case trailers(bytes: Int)
    }

    enum Framing: Sendable, Equatable {
        case none
        case length(total: Int64, received: Int64)
        case chunked(ChunkState)
        case untilClose
    }

    enum State: Sendable, Equatable {
        case startLine
        case headers
        case body(Framing)
        case failed(HTTPError)
    }

    let role: Role
    let limits: HTTPParserLimits
    /// The body limit of the current message; reset to `limits.bodySize` at every head.
    var bodyLimit: Int64
    /// For responses: the method of the request being answered (HEAD has no body).
    var requestMethod = "GET"

    var buffer: [UInt8] = []
    var position = 0
    /// How far the current line has been searched for LF without finding it.
    var scanned = 0
    var inputEnded = false
    var state: State = .startLine
    var emptyLines = 0
    var headers = HTTPHeaders()
    var headerBytes = 0
    var pendingRequest: (method: String, target: String, version: HTTPVersion)?
    var pendingResponse: (status: Int, reason: String, version: HTTPVersion)?
    var bodyReceived: Int64 = 0

    init(role: Role, limits: HTTPParserLimits) {
        self.role = role
        self.limits = limits
        self.bodyLimit = limits.bodySize
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        precondition(!inputEnded, "input appended after its end")
        if position > 0 {
            buffer.removeFirst(position)
            scanned = max(0, scanned - position)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func endInput() { inputEnded = true }

    /// The next event, nil when more input is needed (or the input ended cleanly), or the
    /// error that makes the stream unusable. Errors are sticky.
    mutating func next() throws(HTTPError) -> HTTPDecoderEvent? {
        if case .failed(let error) = state { throw error }
        do throws(HTTPError) {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPError) -> HTTPDecoderEvent? {
        while true {
            switch state {
            case .startLine:
                let tooLong = role == .request
                    ? HTTPError(.uriTooLong, "The request line is longer than \(limits.startLineLength) octets")
                    : HTTPError(.headerTooLarge, "The status line is longer than \(limits.startLineLength) octets")
                guard let line = try line(limit: limits.startLineLength, tooLong: tooLong) else { return try needMore() }
                if line.isEmpty && role == .request {
                    // RFC 9112 §2.2: ignore a few empty lines before the request line.
                    emptyLines += 1
                    guard emptyLines <= 4 else { throw HTTPError(.badRequest, "Too many empty lines before the request") }
                    continue
                }
                try startLine(line)
                headers = HTTPHeaders()
                headerBytes = 0
                state = .headers
            case .headers:
                let tooLarge = HTTPError(.headerTooLarge,
                                         "The header section is larger than \(limits.headerSectionSize) octets")
                guard let line = try line(limit: limits.headerSectionSize - headerBytes, tooLong: tooLarge) else {
                    return try needMore()
                }
                headerBytes += line.count + 2
                if line.isEmpty { return try finishHead() }
                let field = try Self.field(line)
                headers.add(field.name, field.value)
                guard headers.count <= limits.headerCount else {
                    throw HTTPError(.headerTooLarge, "More than \(limits.headerCount) header fields")
                }
            case .body(let framing):
                if let event = try bodyStep(framing) { return event }
                return try needMore()
            case .failed(let error):
                throw error
            }
        }
    }

    /// Called where more input is needed: nothing to do yet, or the end of the input.
    private mutating func needMore() throws(HTTPError) -> HTTPDecoderEvent? {
        guard inputEnded else { return nil }
        switch state {
        case .startLine where position == buffer.count:
            return nil
        case .body(.untilClose):
            state = .startLine
            return .end
        default:
            throw HTTPError(.badRequest, "The connection closed in the middle of a message")
        }
    }

    /// The next line without its CRLF, or nil when it is not complete. Throws `tooLong`
    /// as soon as the line (CRLF included) cannot fit in `limit` octets.
    mutating func line(limit: Int, tooLong: HTTPError) throws(HTTPError) -> ArraySlice<UInt8>? {
        let searchStart = max(scanned, position)
        guard let newline = buffer[searchStart...].firstIndex(of: 0x0A) else {
            scanned = buffer.count
            guard buffer.count - position + 1 <= limit else { throw tooLong }
            return nil
        }
        guard newline - position + 1 <= limit else { throw tooLong }
        guard newline > position, buffer[newline - 1] == 0x0D else {
            throw HTTPError(.badRequest, "A line ends in a bare LF; HTTP lines end in CRLF")
        }
        let content = buffer[position..<(newline - 1)]
        position = newline + 1
        scanned = position
        return content
    }

    // MARK: Start line

    private mutating func startLine(_ line: ArraySlice<UInt8>) throws(HTTPError) {
        let parts = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        switch role {
        case .request:
            // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
            guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(HTTPSyntax.isTchar),
                !parts[1].isEmpty, parts[1].allSatisfy({ (0x21...0x7E).contains($0) })
            else { throw HTTPError(.badRequest, "The request line is malformed") }
            let version = try Self.version(parts[2])
            pendingRequest = (HTTPSyntax.ascii(parts[0]), HTTPSyntax.ascii(parts[1]), version)
        case .response:
            // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4);
            // a missing final SP is tolerated.
            guard parts.count >= 2, parts[1].count == 3, parts[1].allSatisfy({ (0x30...0x39).contains($0) })
            else { throw HTTPError(.badGateway, "The status line is malformed") }
            let version = try Self.version(parts[0])
            let status = Int(HTTPSyntax.ascii(parts[1]))!
            guard status >= 100 else { throw HTTPError(.badGateway, "The status code is out of range") }
            let reason = parts.count == 3 ? parts[2] : []
            guard reason.allSatisfy(HTTPSyntax.isFieldValueOctet) else {
                throw HTTPError(.badGateway, "The reason phrase contains a control character")
            }
            pendingResponse = (status, HTTPSyntax.text(reason), version)
        }
    }

    private static func version(_ bytes: ArraySlice<UInt8>) throws(HTTPError) -> HTTPVersion {
        switch HTTPSyntax.ascii(bytes) {
        case "HTTP/1.1": return .http11
        case "HTTP/1.0": return .http10
        default:
            // HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 9112 §2.3)
            let text = Array(bytes)
            if text.count == 8, Array(text[0..<5]) == Array("HTTP/".utf8), (0x30...0x39).contains(text[5]),
                text[6] == UInt8(ascii: "."), (0x30...0x39).contains(text[7]) {
                throw HTTPError(.versionNotSupported, "Only HTTP/1.0 and HTTP/1.1 are supported")
            }
            throw HTTPError(.badRequest, "The HTTP version is malformed")
        }
    }

    // MARK: Header fields

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5).
    static func field(_ line: ArraySlice<UInt8>) throws(HTTPError) -> (name: String, value: String) {
        guard let first = line.first, first != 0x20, first != 0x09 else {
            throw HTTPError(.badRequest, "Obsolete line folding is not accepted")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPError(.badRequest, "A header line has no colon")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTchar) else {
            throw HTTPError(.badRequest, "A header field name is invalid")
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 0x20 || byte == 0x09 { value = value.dropFirst() }
        while let byte = value.last, byte == 0x20 || byte == 0x09 { value = value.dropLast() }
        guard value.allSatisfy(HTTPSyntax.isFieldValueOctet) else {
            throw HTTPError(.badRequest, "A header field value contains a control character")
        }
        return (HTTPSyntax.ascii(name), HTTPSyntax.text(value))
    }
}

/// Character classes of RFC 9110 §5.6.2 and §5.5.
enum HTTPSyntax {
    /// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    static func isTchar(_ byte: UInt8) -> Bool {
        if (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) { return true }
        return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }

    /// field-vchar, SP and HTAB; obs-text (0x80-0xFF) is allowed.
    static func isFieldValueOctet(_ byte: UInt8) -> Bool {
        byte == 0x09 || (0x20...0x7E).contains(byte) || byte >= 0x80
    }

    static func ascii(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: Array(bytes), as: UTF8.self)
    }

    /// UTF-8 when valid, ISO-8859-1 otherwise.
    static func text(_ bytes: some Collection<UInt8>) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = ""
        out.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return out
    }
}
