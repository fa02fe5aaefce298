// Message body framing (RFC 9112 §6) and the chunked transfer coding (RFC 9112 §7.1).
//
// Requests (§6.3): Transfer-Encoding and Content-Length together → 400 (the smuggling
// defence of §6.1: we reject rather than let TE win); Transfer-Encoding in an HTTP/1.0
// request → 400 (§6.1); a coding other than "chunked" → 501 (none is implemented);
// "chunked" twice → 400; Content-Length values that are not all the same number → 400;
// neither field → no body.
//
// Responses: no body for HEAD, 1xx, 204 and 304; "chunked" → chunked; Transfer-Encoding
// ending in another coding → read until close; Content-Length → that length; neither →
// read until close. Transfer-Encoding together with Content-Length is refused here too.
//
// Chunked: chunk-size is 1*HEXDIG (at most 15 digits); chunk extensions are checked for
// control characters and ignored, the whole chunk-size line being bounded by
// `chunkLineLength`; trailer fields are checked like header fields, bounded by
// `trailerSectionSize`, and dropped.
//
// Body pieces are at most `bodyPieceSize` octets; the body limit (413) is checked against
// the declared Content-Length before any body octet is returned and against the running
// total for chunked and read-until-close bodies.

/// Limits of the HTTP parsers.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line or status line, CRLF included (→ 414 for requests).
    public var startLineLength: Int
    /// Largest header section, every field line and the empty line with their CRLFs (→ 431).
    public var headerSectionSize: Int
    /// Most header fields (→ 431).
    public var headerCount: Int
    /// Largest body; a parser's `bodyLimit` starts at this value for every message (→ 413).
    public var bodySize: Int64
    /// Longest chunk-size line, extensions and CRLF included (→ 400).
    public var chunkLineLength: Int
    /// Largest trailer section (→ 431).
    public var trailerSectionSize: Int
    /// Largest body piece handed out at once.
    public var bodyPieceSize: Int

    public init(startLineLength: Int = 8 * 1024, headerSectionSize: Int = 32 * 1024, headerCount: Int = 100,
                bodySize: Int64 = 10 * 1024 * 1024, chunkLineLength: Int = 1024, trailerSectionSize: Int = 8 * 1024,
                bodyPieceSize: Int = 64 * 1024) {
        precondition(startLineLength >= 16 && headerSectionSize >= 2 && bodyPieceSize > 0 && chunkLineLength >= 3)
        self.startLineLength = startLineLength
        self.headerSectionSize = headerSectionSize
        self.headerCount = headerCount
        self.bodySize = bodySize
        self.chunkLineLength = chunkLineLength
        self.trailerSectionSize = trailerSectionSize
        self.bodyPieceSize = bodyPieceSize
    }
}

extension HTTPMessageDecoder {
    /// The header section is complete: build the head and choose the framing.
    mutating func finishHead() throws(HTTPError) -> HTTPDecoderEvent {
        bodyReceived = 0
        bodyLimit = limits.bodySize
        emptyLines = 0
        switch role {
        case .request:
            guard let request = pendingRequest else { throw HTTPError(.internalError, "No request line") }
            let hosts = headers["Host"]
            if request.version == .http11 && hosts.count != 1 {
                throw HTTPError(.badRequest, "An HTTP/1.1 request needs exactly one Host header field")
            }
            state = .body(try requestFraming(version: request.version))
            return .requestHead(HTTPRequestHead(method: request.method, target: request.target,
                                                version: request.version, headers: headers))
        case .response:
            guard let response = pendingResponse else { throw HTTPError(.internalError, "No status line") }
            state = .body(try responseFraming(status: response.status))
            return .responseHead(HTTPResponseHead(status: response.status, reason: response.reason,
                                                  version: response.version, headers: headers))
        }
    }

    private func requestFraming(version: HTTPVersion) throws(HTTPError) -> Framing {
        if headers.contains("Transfer-Encoding") {
            guard !headers.contains("Content-Length") else {
                throw HTTPError(.badRequest, "Both Transfer-Encoding and Content-Length are present")
            }
            guard version == .http11 else {
                throw HTTPError(.badRequest, "Transfer-Encoding is not allowed in an HTTP/1.0 request")
            }
            let codings = headers.tokens("Transfer-Encoding")
            guard !codings.isEmpty else { throw HTTPError(.badRequest, "Transfer-Encoding is empty") }
            guard codings.allSatisfy({ $0 == "chunked" }) else {
                throw HTTPError(.notImplemented, "Only the chunked transfer coding is implemented")
            }
            guard codings.count == 1 else { throw HTTPError(.badRequest, "The chunked coding is applied twice") }
            return .chunked(.size)
        }
        if let length = try contentLength() { return length == 0 ? .none : .length(total: length, received: 0) }
        return .none
    }

    private func responseFraming(status: Int) throws(HTTPError) -> Framing {
        if requestMethod == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return .none }
        if headers.contains("Transfer-Encoding") {
            guard !headers.contains("Content-Length") else {
                throw HTTPError(.badGateway, "Both Transfer-Encoding and Content-Length are present")
            }
            let codings = headers.tokens("Transfer-Encoding")
            guard codings.last == "chunked" else { return .untilClose }
            guard codings == ["chunked"] else {
                throw HTTPError(.notImplemented, "Only the chunked transfer coding is implemented")
            }
            return .chunked(.size)
        }
        if let length = try contentLength() { return length == 0 ? .none : .length(total: length, received: 0) }
        return .untilClose
    }

    /// Content-Length = 1*DIGIT; repeated values (in several lines or a list) must agree.
    private func contentLength() throws(HTTPError) -> Int64? {
        let values = headers["Content-Length"].flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingOWS() }
        guard let first = values.first else { return nil }
        guard values.allSatisfy({ $0 == first }) else {
            throw HTTPError(.badRequest, "Content-Length values disagree")
        }
        guard (1...18).contains(first.count), first.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let length = Int64(first)
        else { throw HTTPError(.badRequest, "Content-Length is not a valid number") }
        return length
    }

    // MARK: Body

    /// The next body event, or nil when more input is needed.
    mutating func bodyStep(_ framing: Framing) throws(HTTPError) -> HTTPDecoderEvent? {
        var framing = framing
        while true {
            switch framing {
            case .none:
                state = .startLine
                return .end
            case .length(let total, let received):
                guard total <= bodyLimit else { throw tooLarge() }
                if received == total {
                    state = .startLine
                    return .end
                }
                guard let piece = take(upTo: total - received) else { return nil }
                state = .body(.length(total: total, received: received + Int64(piece.count)))
                return .body(piece)
            case .untilClose:
                // Hand out exactly up to the limit and fail on the first octet beyond it,
                // so that the events do not depend on how the input was split.
                guard position < buffer.count else { return nil }
                guard bodyReceived < bodyLimit else { throw tooLarge() }
                guard let piece = take(upTo: bodyLimit - bodyReceived) else { return nil }
                bodyReceived += Int64(piece.count)
                return .body(piece)
            case .chunked(let chunk):
                switch try chunkStep(chunk) {
                case .event(let event): return event
                case .needMore: return nil
                case .continueWith(let next):
                    framing = .chunked(next)
                    state = .body(framing)
                }
            }
        }
    }

    private enum ChunkStep {
        case event(HTTPDecoderEvent)
        case needMore
        case continueWith(ChunkState)
    }

    private mutating func chunkStep(_ chunk: ChunkState) throws(HTTPError) -> ChunkStep {
        switch chunk {
        case .size:
            let tooLong = HTTPError(.badRequest, "A chunk-size line is longer than \(limits.chunkLineLength) octets")
            guard let line = try line(limit: limits.chunkLineLength, tooLong: tooLong) else { return .needMore }
            let size = try Self.chunkSize(line)
            if size == 0 { return .continueWith(.trailers(bytes: 0)) }
            guard bodyReceived + size <= bodyLimit else { throw tooLarge() }
            return .continueWith(.data(remaining: size))
        case .data(let remaining):
            guard let piece = take(upTo: remaining) else { return .needMore }
            bodyReceived += Int64(piece.count)
            let left = remaining - Int64(piece.count)
            state = .body(.chunked(left == 0 ? .dataEnd : .data(remaining: left)))
            return .event(.body(piece))
        case .dataEnd:
            let available = buffer.count - position
            if available >= 1 && buffer[position] != 0x0D || available >= 2 && buffer[position + 1] != 0x0A {
                throw HTTPError(.badRequest, "Chunk data is not followed by CRLF")
            }
            guard available >= 2 else { return .needMore }
            position += 2
            scanned = position
            return .continueWith(.size)
        case .trailers(let bytes):
            let tooLarge = HTTPError(.headerTooLarge, "The trailer section is larger than \(limits.trailerSectionSize) octets")
            guard let line = try line(limit: limits.trailerSectionSize - bytes, tooLong: tooLarge) else { return .needMore }
            if line.isEmpty {
                state = .startLine
                return .event(.end)
            }
            _ = try Self.field(line)
            return .continueWith(.trailers(bytes: bytes + line.count + 2))
        }
    }

    /// chunk-size [ chunk-ext ]; chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ).
    private static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPError) -> Int64 {
        let digits = line.prefix(while: { HTTPSyntax.hexValue($0) != nil })
        guard (1...15).contains(digits.count) else { throw HTTPError(.badRequest, "A chunk size is malformed") }
        let extensions = line[digits.endIndex...].drop(while: { $0 == 0x20 || $0 == 0x09 })
        guard extensions.isEmpty || extensions.first == UInt8(ascii: ";"),
            extensions.allSatisfy(HTTPSyntax.isFieldValueOctet)
        else { throw HTTPError(.badRequest, "A chunk extension is malformed") }
        return digits.reduce(Int64(0)) { $0 * 16 + Int64(HTTPSyntax.hexValue($1)!) }
    }

    /// Up to `limit` buffered octets (and at most one body piece), or nil when none.
    private mutating func take(upTo limit: Int64) -> [UInt8]? {
        let available = buffer.count - position
        guard available > 0 else { return nil }
        let count = Int(min(Int64(available), limit, Int64(limits.bodyPieceSize)))
        let piece = Array(buffer[position..<(position + count)])
        position += count
        scanned = position
        return piece
    }

    private func tooLarge() -> HTTPError {
        HTTPError(.payloadTooLarge, "The body is larger than \(bodyLimit) octets")
    }
}

extension HTTPSyntax {
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
