@testable import SEMTransport
import SEMTestSupport
import Testing

@Suite("HTTP request parser")
struct HTTPRequestParserTests {
    @Test("a GET head is parsed with trimmed values and keep-alive by default")
    func simpleGet() throws {
        let outcome = parseRequestsAllWays(bytes("GET /v1/inbox?limit=5 HTTP/1.1\r\nHost: mail.example.org\r\n"
                                                 + "Accept:  application/json \t\r\nX-Empty:\r\n\r\n"))
        #expect(outcome.error == nil)
        try #require(outcome.events.count == 2)
        guard case .head(let head) = outcome.events[0] else { throw HTTPError(.internalError, "no head") }
        #expect(head.method == "GET" && head.target == "/v1/inbox?limit=5" && head.version == .http11)
        #expect(head.headers.first("accept") == "application/json")
        #expect(head.headers.first("X-EMPTY") == "")
        #expect(head.keepAlive)
        #expect(outcome.events[1] == .end)
    }

    @Test("Content-Length bodies are delivered and pipelined requests follow")
    func contentLengthAndPipelining() {
        let input = bytes("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
                          + "\r\n"  // one empty line before a request line is tolerated (RFC 9112 §2.2)
                          + "PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc"
                          + "GET /c HTTP/1.0\r\n\r\n")
        let outcome = parseRequestsAllWays(input)
        #expect(outcome.error == nil)
        let shape = outcome.events.map { event -> String in
            switch event {
            case .head(let head): "head \(head.method) \(head.target)"
            case .body(let body): "body \(String(decoding: body, as: UTF8.self))"
            case .end: "end"
            }
        }
        #expect(shape == ["head POST /a", "body hello world", "end", "head PUT /b", "body abc", "end", "head GET /c", "end"])
    }

    @Test("chunked bodies are decoded; extensions and trailers are checked and dropped")
    func chunked() {
        let input = bytes("POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                          + "5;name=value\r\nhello\r\n1A ; ext\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
                          + "Checksum: abc\r\n\r\n")
        let outcome = parseRequestsAllWays(input)
        #expect(outcome.error == nil)
        #expect(outcome.events.dropFirst() == [.body(bytes("helloabcdefghijklmnopqrstuvwxyz")), .end])
    }

    @Test("malformed, smuggling and oversize requests get the right status", arguments: [
        // Request smuggling (RFC 9112 §6.1, §6.3)
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        // Line and field syntax
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1B}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nBad Name: h\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("G\u{7F}T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        ("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        // Chunked framing
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;\u{1}\r\nabc\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n", 400),
    ])
    func refusals(input: String, status: Int) {
        let outcome = parseRequestsAllWays(bytes(input))
        #expect(outcome.error?.status == status, "got \(String(describing: outcome.error))")
    }

    @Test("limits: request line 414, header section and count 431, body 413, chunk line and trailers")
    func limits() {
        let small = HTTPParserLimits(startLineLength: 64, headerSectionSize: 128, headerCount: 3, bodySize: 10,
                                     chunkLineLength: 16, trailerSectionSize: 32)
        let cases: [(String, Int?)] = [
            ("GET /" + String(repeating: "a", count: 60) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414),
            ("GET /" + String(repeating: "a", count: 48) + " HTTP/1.1\r\nHost: h\r\n\r\n", nil),  // exactly 64
            ("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 120) + "\r\n\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", nil),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world", 413),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhelloworld", nil),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", 413),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;" + String(repeating: "e", count: 20)
             + "\r\nhello\r\n0\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + String(repeating: "t", count: 40)
             + "\r\n\r\n", 431),
        ]
        for (input, status) in cases {
            let outcome = parseRequestsAllWays(bytes(input), limits: small)
            #expect(outcome.error?.status == status, "\(input.prefix(50).debugDescription): got \(String(describing: outcome.error))")
        }
    }

    @Test("an oversize line is refused before its end arrives")
    func earlyRefusal() {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(startLineLength: 64))
        parser.append(bytes("GET /" + String(repeating: "a", count: 100)))
        #expect(throws: HTTPError(.uriTooLong, "")) { try parser.next() }
        // The error is sticky.
        #expect(throws: HTTPError(.uriTooLong, "")) { try parser.feed(bytes(" HTTP/1.1\r\n\r\n")) }
    }

    @Test("a body limit set after the head applies to that request only")
    func perRequestBodyLimit() throws {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(bodySize: 100))
        parser.append(bytes("POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n" + String(repeating: "b", count: 20)
                            + "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\n"))
        guard case .head = try parser.next() else { throw HTTPError(.internalError, "no head") }
        parser.bodyLimit = 1000
        #expect(try parser.next() == .body(Array(repeating: UInt8(ascii: "b"), count: 20)))
        #expect(try parser.next() == .end)
        guard case .head = try parser.next() else { throw HTTPError(.internalError, "no second head") }
        #expect(parser.bodyLimit == 100)
        parser.bodyLimit = 10
        #expect(throws: HTTPError(.payloadTooLarge, "")) { try parser.next() }
    }

    @Test("a large body streams in bounded pieces", arguments: [4096, 1000])
    func streaming(pieceSize: Int) throws {
        let bodySize = 1 << 20
        var parser = HTTPRequestParser(limits: HTTPParserLimits(bodySize: Int64(bodySize), bodyPieceSize: pieceSize))
        var received = 0
        var largest = 0
        var ended = false
        var encoded = bytes("PUT /blob HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        var generator = SeededGenerator(seed: 7)
        var sent = 0
        while sent < bodySize {
            let size = min(bodySize - sent, Int.random(in: 1...20_000, using: &generator))
            encoded += HTTPChunkEncoder.chunk([UInt8](repeating: 0x61, count: size))
            sent += size
        }
        encoded += try HTTPChunkEncoder.end()
        var offset = 0
        while offset < encoded.count {
            let read = encoded[offset..<min(encoded.count, offset + 8192)]
            offset += read.count
            parser.append(read)
            while let event = try parser.next() {
                switch event {
                case .body(let piece):
                    received += piece.count
                    largest = max(largest, piece.count)
                case .end: ended = true
                case .head: break
                }
            }
        }
        #expect(received == bodySize && ended)
        #expect(largest <= pieceSize)
    }

    @Test("the end of input ends nothing but a clean stream")
    func endOfInput() {
        #expect(parseRequestsAllWays(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), endInput: true).error == nil)
        #expect(parseRequestsAllWays(bytes("GET / HTTP/1.1\r\nHo"), endInput: true).error?.status == 400)
        #expect(parseRequestsAllWays(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab"),
                                     endInput: true).error?.status == 400)
    }

    @Test("keep-alive follows the version and the Connection field", arguments: [
        (HTTPVersion.http11, "", true),
        (.http11, "close", false),
        (.http11, "Keep-Alive, Close", false),
        (.http10, "", false),
        (.http10, "keep-alive", true),
        (.http10, "Keep-Alive, Upgrade", true),
    ])
    func keepAlive(version: HTTPVersion, connection: String, want: Bool) {
        var headers = HTTPHeaders()
        if !connection.isEmpty { headers.add("Connection", connection) }
        #expect(HTTPKeepAlive.isPersistent(version: version, headers: headers) == want)
    }
}
