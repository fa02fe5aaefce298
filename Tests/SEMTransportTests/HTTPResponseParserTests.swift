@testable import SEMTransport
import SEMTestSupport
import Testing

@Suite("HTTP response parser and serializer")
struct HTTPResponseParserTests {
    func shape(_ outcome: ParseOutcome<HTTPResponseHead>) -> [String] {
        outcome.events.map { event in
            switch event {
            case .head(let head): "head \(head.status) \(head.reason)"
            case .body(let body): "body \(String(decoding: body, as: UTF8.self))"
            case .end: "end"
            }
        }
    }

    @Test("Content-Length, chunked and read-until-close bodies", arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, ["head 200 OK", "body hello", "end"]),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n", false,
         ["head 200 OK", "body hello", "end"]),
        ("HTTP/1.0 200 OK\r\n\r\nuntil the end", true, ["head 200 OK", "body until the end", "end"]),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", true, ["head 200 OK", "body zz", "end"]),
        ("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", false, ["head 204 No Content", "end"]),
        ("HTTP/1.1 304 Not Modified\r\n\r\n", false, ["head 304 Not Modified", "end"]),
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", false,
         ["head 100 Continue", "end", "head 201 Created", "body ok", "end"]),
        ("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false, ["head 200 ", "end"]),
    ])
    func bodies(input: String, endInput: Bool, want: [String]) {
        let outcome = parseResponsesAllWays(bytes(input), endInput: endInput)
        #expect(outcome.error == nil)
        #expect(shape(outcome) == want)
    }

    @Test("a response to HEAD has no body whatever its Content-Length")
    func headResponse() {
        let outcome = parseResponsesAllWays(bytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), requestMethod: "HEAD")
        #expect(shape(outcome) == ["head 200 OK", "end"])
    }

    @Test("malformed responses are refused", arguments: [
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/3.0 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\u{0}\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 099 Odd\r\n\r\n",
    ])
    func malformed(input: String) {
        #expect(parseResponsesAllWays(bytes(input)).error != nil)
    }

    @Test("a response cut short is an error, a body read until close is not")
    func endOfInput() {
        #expect(parseResponsesAllWays(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), endInput: true).error != nil)
        #expect(parseResponsesAllWays(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
                                      endInput: true).error != nil)
        #expect(parseResponsesAllWays(bytes("HTTP/1.1 200 OK\r\n\r\n"), endInput: true).error == nil)
    }

    @Test("a serialised response reads back through the parser")
    func responseRoundTrip() throws {
        let head = HTTPResponseHead(status: 201, headers: ["Content-Type": "application/json", "Location": "/v1/m/7"])
        let wire = try HTTPSerializer.response(head, body: bytes("{\"id\":7}"))
        #expect(String(decoding: wire, as: UTF8.self) == "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                + "Location: /v1/m/7\r\nContent-Length: 8\r\n\r\n{\"id\":7}")
        let outcome = parseResponsesAllWays(wire)
        #expect(outcome.events == [.head(HTTPResponseHead(status: 201, headers: ["Content-Type": "application/json",
                                                                                  "Location": "/v1/m/7",
                                                                                  "Content-Length": "8"])),
                                   .body(bytes("{\"id\":7}")), .end])
    }

    @Test("the chunk encoder round-trips through both parsers", arguments: [UInt64(1), 99, 12345])
    func chunkRoundTrip(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let body = (0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var chunked: [UInt8] = []
        var offset = 0
        while offset < body.count {
            let size = min(body.count - offset, Int.random(in: 0...3000, using: &generator))
            chunked += HTTPChunkEncoder.chunk(body[offset..<(offset + size)])
            offset += size
        }
        chunked += try HTTPChunkEncoder.end(trailers: ["Digest": "sha-256=x"])

        let response = try HTTPSerializer.chunkedHead(HTTPResponseHead(status: 200, headers: ["Content-Length": "1"]))
        let fromResponse = parseResponsesAllWays(response + chunked)
        #expect(fromResponse.error == nil)
        #expect(fromResponse.events.dropFirst() == [.body(body), .end])

        let request = try HTTPSerializer.head(HTTPRequestHead(method: "PUT", target: "/blob",
                                                              headers: ["Host": "h", "Transfer-Encoding": "chunked"]))
        let fromRequest = parseRequestsAllWays(request + chunked)
        #expect(fromRequest.error == nil)
        #expect(fromRequest.events.dropFirst() == [.body(body), .end])
    }

    @Test("JSON error responses carry the stable code, the sentence and the table's status")
    func errorResponses() {
        let wire = HTTPSerializer.errorResponse(HTTPError(.methodNotAllowed, "Only GET \"here\""), keepAlive: false,
                                                extraHeaders: ["Allow": "GET, HEAD", "Bad\r\nField": "x"])
        #expect(String(decoding: wire, as: UTF8.self) == "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
                + "Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n"
                + "Content-Length: 60\r\n\r\n{\"error\":\"method-not-allowed\",\"message\":\"Only GET \\\"here\\\"\"}")
        let table: [(HTTPError.Code, Int)] = [
            (.badRequest, 400), (.unauthorized, 401), (.forbidden, 403), (.notFound, 404), (.methodNotAllowed, 405),
            (.timeout, 408), (.payloadTooLarge, 413), (.uriTooLong, 414), (.headerTooLarge, 431),
            (.internalError, 500), (.notImplemented, 501), (.unavailable, 503),
        ]
        for (code, status) in table {
            #expect(code.status == status, "\(code.rawValue)")
            #expect(HTTPStatus.reason(status) != "")
        }
        #expect(Set(HTTPError.Code.allCases.map(\.rawValue)).count == HTTPError.Code.allCases.count)
    }

    @Test("values that would split a message are refused when serialising")
    func injectionRefused() {
        #expect(throws: HTTPError(.internalError, "")) {
            try HTTPSerializer.head(HTTPResponseHead(status: 302, headers: ["Location": "/x\r\nSet-Cookie: a=b"]))
        }
        #expect(throws: HTTPError(.internalError, "")) {
            try HTTPSerializer.head(HTTPResponseHead(status: 200, headers: ["Bad Name": "x"]))
        }
        #expect(throws: HTTPError(.internalError, "")) {
            try HTTPSerializer.head(HTTPRequestHead(method: "GET", target: "/a b", headers: ["Host": "h"]))
        }
        #expect(throws: HTTPError(.internalError, "")) { try HTTPSerializer.head(HTTPResponseHead(status: 42)) }
        #expect(HTTPChunkEncoder.chunk([UInt8]()).isEmpty)
    }
}
