import Foundation
import SEMCrypto
import SEMLogging
import SEMTransport
import Testing

/// One hostile request and what the server must answer.
struct HostileCase: Sendable, CustomTestStringConvertible {
    let label: String
    let input: [UInt8]
    let status: Int
    let code: String

    var testDescription: String { label }

    init(_ label: String, _ input: String, _ status: Int, _ code: String) {
        self.label = label
        self.input = Array(input.utf8)
        self.status = status
        self.code = code
    }
}

/// Sends `input` one octet at a time with `pause` between octets, reading whatever the
/// server sends meanwhile. Stops when the server closes or everything was sent and
/// nothing more arrives; returns the octets received and whether the server closed.
func dribble(_ port: UInt16, _ input: [UInt8], pause: Duration) throws -> (received: [UInt8], closed: Bool) {
    let stream = try TCPClient.connect(host: "127.0.0.1", port: port, timeout: .seconds(5), ioTimeout: pause)
    defer { stream.close() }
    var received: [UInt8] = []
    var sent = 0
    while true {
        if sent < input.count {
            // A write can fail once the server gave up on us; reading tells the rest.
            if (try? stream.write(input[sent..<(sent + 1)])) != nil { sent += 1 }
        }
        do {
            let piece = try stream.read(maximum: 4096)
            if piece.isEmpty { return (received, true) }
            received += piece
        } catch let error as NetworkError where error.code == .timedOut {
            if sent == input.count { return (received, false) }
        } catch {
            return (received, true)
        }
    }
}

extension NetworkTests {
    @Suite("HTTP server under hostile input")
    struct HTTPServerHostileInputTests {
        static let cases: [HostileCase] = [
            HostileCase("request line over the limit", "GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\n"
                        + "Host: x\r\n\r\n", 414, "uri-too-long"),
            HostileCase("header section over the limit", "GET /hello HTTP/1.1\r\nHost: x\r\n"
                        + String(repeating: "X-Fill: \(String(repeating: "v", count: 900))\r\n", count: 40) + "\r\n",
                        431, "header-too-large"),
            HostileCase("declared body over the route limit", "POST /small HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Length: 100\r\n\r\n" + String(repeating: "b", count: 100), 413, "payload-too-large"),
            HostileCase("chunked body over the route limit", "POST /small HTTP/1.1\r\nHost: x\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "c", count: 64) + "\r\n0\r\n\r\n",
                        413, "payload-too-large"),
            HostileCase("NUL in a header value", "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", 400,
                        "bad-request"),
            HostileCase("bare LF line ends", "GET /hello HTTP/1.1\nHost: x\n\n", 400, "bad-request"),
            HostileCase("garbage request line", "HELLO\r\n\r\n", 400, "bad-request"),
            HostileCase("missing Host", "GET /hello HTTP/1.1\r\n\r\n", 400, "bad-request"),
            HostileCase("Content-Length with Transfer-Encoding", "POST /consume HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad-request"),
            HostileCase("unknown transfer coding", "POST /consume HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                        501, "not-implemented"),
            HostileCase("obsolete line folding", "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400,
                        "bad-request"),
            HostileCase("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "version-not-supported"),
        ]

        @Test("malformed or oversized requests get the right status, a JSON body and a closed connection",
              arguments: cases)
        func hostile(_ hostile: HostileCase) async throws {
            let before = openSocketCount()
            var configuration = HTTPServerConfiguration()
            let name = "h" + UUID().uuidString.prefix(6)
            configuration.listener.name = name
            let (server, memory) = try startHTTPServer(configuration)
            let (outcome, after) = try await onThread { () -> (RawOutcome, RawOutcome) in
                let outcome = try rawExchange(server.port, hostile.input)
                let after = try rawExchange(server.port, Array("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8),
                                            wait: .milliseconds(300))
                return (outcome, after)
            }
            #expect(outcome.statuses == [hostile.status])
            #expect(outcome.errorCode() == hostile.code)
            #expect(outcome.responses.first?.head.headers.first("Content-Type") == "application/json")
            #expect(outcome.closed)
            #expect(after.statuses == [200])
            #expect(eventually { server.listener.activeConnections <= 1 })
            let line = memory.records.first { $0.event == "http.request" }
            #expect(line?.field("status") == String(hostile.status))
            #expect(threadCount(namedPrefix: "accept \(name)") == 1)
            _ = try await onThread { server.shutdown(gracePeriod: .seconds(1)) }
            #expect(eventually { openSocketCount() == before })
            #expect(eventually { threadCount(namedPrefix: "accept \(name)") + threadCount(namedPrefix: "worker \(name)") == 0 },
                    "no thread leak")
        }

        @Test("a client that dribbles its head one octet at a time is cut off with 408")
        func slowHead() async throws {
            var configuration = HTTPServerConfiguration()
            configuration.headTimeout = .seconds(1)
            let (server, _) = try startHTTPServer(configuration)
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let head = Array("GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Slow: \(String(repeating: "z", count: 40))\r\n\r\n"
                .utf8)
            let (received, closed, elapsed, after) = try await onThread { () -> ([UInt8], Bool, Double, RawOutcome) in
                let start = ContinuousClock.now
                let (received, closed) = try dribble(server.port, head, pause: .milliseconds(200))
                let elapsed = secondsSince(start)
                let after = try rawExchange(server.port, Array("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8),
                                            wait: .milliseconds(300))
                return (received, closed, elapsed, after)
            }
            var parser = HTTPResponseParser()
            let events = try parser.feed(received)
            guard case .head(let response)? = events.first else {
                Issue.record("no response head in \(received.count) octets")
                return
            }
            #expect(response.status == 408)
            #expect(closed)
            // The whole head would take about 14 s at this pace.
            #expect(elapsed < 4)
            #expect(after.statuses == [200])
        }

        @Test("a client that closes in the middle of its body makes the handler's reader throw, nothing more",
              arguments: ["Content-Length: 100000\r\n\r\n" + String(repeating: "d", count: 1000),
                          "Transfer-Encoding: chunked\r\n\r\n3e8\r\n" + String(repeating: "e", count: 1000)])
        func closeMidBody(_ rest: String) async throws {
            let recorder = HTTPServerRecorder()
            let before = openSocketCount()
            let (server, _) = try startHTTPServer(recorder: recorder)
            let after = try await onThread { () -> RawOutcome in
                let stream = try TCPClient.connect(host: "127.0.0.1", port: server.port, ioTimeout: .seconds(5))
                try stream.write("POST /consume HTTP/1.1\r\nHost: x\r\n" + rest)
                stream.close()
                return try rawExchange(server.port, Array("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8),
                                       wait: .milliseconds(300))
            }
            #expect(after.statuses == [200])
            #expect(eventually { recorder.all.count == 1 })
            #expect(recorder.all.first?.hasPrefix("failed") == true)
            _ = try await onThread { server.shutdown(gracePeriod: .seconds(1)) }
            #expect(eventually { openSocketCount() == before })
        }
    }
}
