// Mutation tests: valid conversations with random damage (octets replaced, inserted,
// removed, runs copied, with a bias towards CR, LF, NUL, "." and ":"; Mutation in
// SEMTestSupport) go through every parser whole and in random pieces. Nothing may trap,
// and the split must not change the outcome. The last test does the same from the seeds
// of sem-fuzz (Fuzz/corpus), a bounded share of what scripts/fuzz runs for minutes.
@testable import SEMTransport
import SEMTestSupport
import Testing

@Suite("Protocol robustness")
struct ProtocolRobustnessTests {
    func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        Mutation.mutate(input, using: &generator)
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

    @Test("the sem-fuzz seeds for SMTP and HTTP, damaged, read the same whole and in pieces")
    func fuzzSeeds() throws {
        let config = SMTPServerConfiguration(hostname: "mx.example.org", maxMessageSize: 2048, maxRecipients: 4,
                                             maxErrors: 30, messageChunkSize: 16)
        let smtpSeeds = try Mutation.seeds("smtp")
        let httpSeeds = try Mutation.seeds("http")
        #expect(smtpSeeds.count >= 3 && httpSeeds.count >= 3)
        var generator = SeededGenerator(seed: 0x5E3F)
        var accepted = 0
        for round in 0..<1500 {
            let input = Mutation.mutate(smtpSeeds[round % smtpSeeds.count], using: &generator)
            var whole = SMTPServerSession(configuration: config, peer: "p")
            var wholeHooks = RecordingHooks()
            let want = whole.receive(input, hooks: &wholeHooks)
            var split = SMTPServerSession(configuration: config, peer: "p")
            var splitHooks = RecordingHooks()
            var got: [SMTPServerAction] = []
            for piece in Feeding.random(seed: UInt64(round)).pieces(input) { got += split.receive(piece, hooks: &splitHooks) }
            #expect(got == want, "\(String(decoding: input, as: UTF8.self).debugDescription)")
            #expect(splitHooks.events == wholeHooks.events && splitHooks.chunks == wholeHooks.chunks)
            if wholeHooks.events.contains(where: { if case .end = $0 { true } else { false } }) { accepted += 1 }

            let request = Mutation.mutate(httpSeeds[round % httpSeeds.count], using: &generator)
            let wholeRequest = parseRequests(request, feeding: .whole, endInput: true)
            let splitRequest = parseRequests(request, feeding: .random(seed: UInt64(round)), endInput: true)
            #expect(wholeRequest.events == splitRequest.events && wholeRequest.error?.code == splitRequest.error?.code,
                    "\(String(decoding: request, as: UTF8.self).debugDescription)")
        }
        // Some damage leaves a message deliverable and some does not: both paths ran.
        #expect(accepted > 0 && accepted < 1500)
    }
}
