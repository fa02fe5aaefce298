// Mutation tests: valid conversations with random damage (octets replaced, inserted,
// removed, with a bias towards CR, LF, NUL, "." and ":") go through every parser whole
// and in random pieces. Nothing may trap, and the split must not change the outcome.
@testable import SEMTransport
import Testing

@Suite("Protocol robustness")
struct ProtocolRobustnessTests {
    static let special: [UInt8] = [0x0D, 0x0A, 0x00, 0x2E, 0x3A, 0x20, 0x3C, 0x3E, 0x22, 0x5C, 0xFF, 0x7F]

    func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var out = input
        for _ in 0..<Int.random(in: 1...6, using: &generator) where !out.isEmpty {
            let index = Int.random(in: 0..<out.count, using: &generator)
            let byte = Bool.random(using: &generator) ? Self.special.randomElement(using: &generator)!
                : UInt8.random(in: 0...255, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: out[index] = byte
            case 1: out.insert(byte, at: index)
            default: out.remove(at: index)
            }
        }
        return out
    }

    @Test("the SMTP server session gives the same actions for damaged input however it is split")
    func smtpServer() {
        let corpus = bytes("EHLO c.example\r\nMAIL FROM:<a@c.example> SIZE=100 BODY=8BITMIME\r\n"
                           + "RCPT TO:<\"b x\"@mx.example.org>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n"
                           + "Subject: x\r\n\r\n..line\r\n.\r\nRSET\r\nVRFY a\r\nQUIT\r\n")
        let config = SMTPServerConfiguration(hostname: "mx.example.org", maxMessageSize: 200, maxErrors: 50,
                                             messageChunkSize: 8)
        var generator = SeededGenerator(seed: 5321)
        for _ in 0..<300 {
            let input = mutate(corpus, using: &generator)
            var reference = SMTPServerSession(configuration: config, peer: "p")
            var referenceHooks = RecordingHooks()
            let want = reference.receive(input, hooks: &referenceHooks)
            var session = SMTPServerSession(configuration: config, peer: "p")
            var hooks = RecordingHooks()
            var got: [SMTPServerAction] = []
            for piece in Feeding.random(seed: UInt64(input.count)).pieces(input) {
                got += session.receive(piece, hooks: &hooks)
            }
            #expect(got == want, "\(String(decoding: input, as: UTF8.self).debugDescription)")
            #expect(hooks.chunks == referenceHooks.chunks && hooks.events == referenceHooks.events)
        }
    }

    @Test("the SMTP client reads damaged replies the same way however they are split")
    func smtpClient() {
        let corpus = bytes("220 mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"
                           + "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no\r\n354 go\r\n250 2.0.0 queued\r\n221 bye\r\n")
        var generator = SeededGenerator(seed: 2920)
        let recipients = [SMTPMailbox("b@mx.example")!, SMTPMailbox("c@mx.example")!]
        let configuration = SMTPClientConfiguration(heloName: "c.example", requireTLS: false)
        for _ in 0..<300 {
            let input = mutate(corpus, using: &generator)
            var reference = SMTPClientSession(configuration: configuration, sender: .null, recipients: recipients,
                                              message: bytes("x\r\n"))
            let want = reference.receive(input)
            var client = SMTPClientSession(configuration: configuration, sender: .null, recipients: recipients,
                                           message: bytes("x\r\n"))
            var got: [SMTPClientAction] = []
            for piece in Feeding.random(seed: UInt64(input.count)).pieces(input) { got += client.receive(piece) }
            #expect(got == want, "\(String(decoding: input, as: UTF8.self).debugDescription)")
        }
    }

    @Test("the HTTP parsers give the same events or error for damaged input however it is split")
    func http() {
        let requests = bytes("POST /v1/m?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                             + "PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n"
                             + "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let responses = bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              + "4\r\nwiki\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"
                              + "HTTP/1.0 200 OK\r\n\r\nrest")
        let limits = HTTPParserLimits(startLineLength: 40, headerSectionSize: 80, headerCount: 4, bodySize: 20,
                                      chunkLineLength: 8, trailerSectionSize: 8, bodyPieceSize: 3)
        var generator = SeededGenerator(seed: 9112)
        for _ in 0..<300 {
            let request = mutate(requests, using: &generator)
            let whole = parseRequests(request, feeding: .whole, limits: limits, endInput: true)
            let split = parseRequests(request, feeding: .random(seed: UInt64(request.count)), limits: limits,
                                      endInput: true)
            #expect(whole.events == split.events && whole.error?.code == split.error?.code,
                    "\(String(decoding: request, as: UTF8.self).debugDescription)")
            #expect(whole.largestPiece <= 3)

            let response = mutate(responses, using: &generator)
            let wholeResponse = parseResponses(response, feeding: .whole, limits: limits, endInput: true)
            let splitResponse = parseResponses(response, feeding: .byteByByte, limits: limits, endInput: true)
            #expect(wholeResponse.events == splitResponse.events && wholeResponse.error?.code == splitResponse.error?.code,
                    "\(String(decoding: response, as: UTF8.self).debugDescription)")
        }
    }

    @Test("target parsing and routing never trap on damaged targets")
    func targets() {
        var router = HTTPRouter<Int>()
        router.add("GET", "/v1/{a}/x/{b}", handler: 1)
        router.add("GET", "/v1/y/x/{b}", handler: 2)
        var generator = SeededGenerator(seed: 3986)
        var parsed = 0
        for _ in 0..<1000 {
            let text = String(decoding: mutate(bytes("/v1/y/x/%41b?q=a+b&r=%C3%A9#"), using: &generator), as: UTF8.self)
            if let target = try? HTTPTarget(text) {
                parsed += 1
                _ = router.match(method: "GET", target: target)
            }
        }
        #expect(parsed > 0 && parsed < 1000)
    }
}
