import Foundation
import SEMCrypto
import SEMLogging
import SEMTransport
import Synchronization
import Testing

extension NetworkTests {
    @Suite("HTTP connection handling")
    struct HTTPServerConnectionTests {
        @Test("an unread request body is drained so the next request on the connection parses")
        func drainUnreadRequestBody() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (first, second, opened) = try await onThread { () -> (String, String, Int) in
                let client = httpClient(for: server)
                defer { client.close() }
                let body = [UInt8](repeating: 0x41, count: 200_000)
                let first = try client.send(HTTPClientRequest(method: "POST", target: "/ignore", body: .bytes(body)))
                let firstText = String(decoding: try first.body.readAll(limit: 100), as: UTF8.self)
                let second = try client.send(HTTPClientRequest(target: "/hello"))
                return (firstText, String(decoding: try second.body.readAll(limit: 100), as: UTF8.self),
                        client.connectionsOpened)
            }
            #expect(first == "ignored")
            #expect(second == "hello")
            #expect(opened == 1)
        }

        @Test("an unread request body over the drain limit closes the connection after the response")
        func drainLimitCloses() async throws {
            var configuration = HTTPServerConfiguration()
            configuration.drainLimit = 10_000
            let (server, _) = try startHTTPServer(configuration)
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (status, connection, next, opened) = try await onThread { () -> (Int, String?, Int, Int) in
                let client = httpClient(for: server)
                defer { client.close() }
                let body = [UInt8](repeating: 0x41, count: 200_000)
                let first = try client.send(HTTPClientRequest(method: "POST", target: "/ignore", body: .bytes(body)))
                _ = try first.body.readAll(limit: 100)
                let next = try client.send(HTTPClientRequest(target: "/hello"))
                _ = try next.body.readAll(limit: 100)
                return (first.status, first.headers.first("Connection"), next.status, client.connectionsOpened)
            }
            #expect(status == 200)
            #expect(connection == "close")
            #expect(next == 200)
            #expect(opened == 2)
        }

        @Test("the client drains an unread response body before reusing the connection")
        func clientDrainsResponse() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (text, opened) = try await onThread { () -> (String, Int) in
                let client = httpClient(for: server)
                defer { client.close() }
                _ = try client.send(HTTPClientRequest(target: "/download?bytes=300000&chunked=1"))
                let next = try client.send(HTTPClientRequest(target: "/hello"))
                return (String(decoding: try next.body.readAll(limit: 100), as: UTF8.self), client.connectionsOpened)
            }
            #expect(text == "hello")
            #expect(opened == 1)
        }

        @Test("Expect: 100-continue gets an interim 100 once the handler reads the body")
        func expectContinue() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (interim, final) = try await onThread { () -> (String, String) in
                let stream = try TCPClient.connect(host: "127.0.0.1", port: server.port, ioTimeout: .seconds(5))
                defer { stream.close() }
                try stream.write("POST /consume HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
                let interim = String(decoding: try stream.read(maximum: 1000), as: UTF8.self)
                try stream.write("abcde")
                let final = String(decoding: try stream.read(maximum: 1000), as: UTF8.self)
                return (interim, final)
            }
            #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n")
            #expect(final.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(final.hasSuffix("read 5"))
        }

        @Test("after the server closed an idle connection, the client's next request opens a new one")
        func staleConnection() async throws {
            var configuration = HTTPServerConfiguration()
            configuration.listener.idleTimeout = .milliseconds(200)
            let (server, _) = try startHTTPServer(configuration)
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (statuses, opened) = try await onThread { () -> ([Int], Int) in
                let client = httpClient(for: server)
                defer { client.close() }
                var statuses: [Int] = []
                for method in ["GET", "POST"] {
                    let response = try client.send(HTTPClientRequest(method: method, target: "/consume"))
                    _ = try response.body.readAll(limit: 100)
                    statuses.append(response.status)
                    Thread.sleep(forTimeInterval: 0.6)
                }
                return (statuses, client.connectionsOpened)
            }
            #expect(statuses == [405, 200])
            #expect(opened == 2)
        }

        @Test("a GET is sent again when a reused connection closes before any answer; a POST is not")
        func retryOnReusedConnection() async throws {
            // Each connection answers one request, then closes when the next one arrives.
            let (listener, _) = try startListener { stream, _ in
                let reader = BufferedReader(stream)
                var answered = false
                while true {
                    var lines = 0
                    while case .line(let line, _) = try? reader.readLine(maxLength: 1024), !line.isEmpty { lines += 1 }
                    guard lines > 0, !answered else { return }
                    try? stream.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    answered = true
                }
            }
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            let (statuses, postError, opened) = try await onThread { () -> ([Int], NetworkError?, Int) in
                let client = HTTPClient(configuration: HTTPClientConfiguration(
                    host: "127.0.0.1", port: listener.port, readTimeout: .seconds(5)))
                defer { client.close() }
                var statuses: [Int] = []
                for target in ["/a", "/b"] {
                    let response = try client.send(HTTPClientRequest(target: target))
                    _ = try response.body.readAll(limit: 10)
                    statuses.append(response.status)
                }
                var postError: NetworkError?
                do {
                    _ = try client.send(HTTPClientRequest(method: "POST", target: "/c"))
                } catch let error as NetworkError {
                    postError = error
                }
                return (statuses, postError, client.connectionsOpened)
            }
            #expect(statuses == [200, 200])
            #expect(postError?.code == .connectionClosed)
            #expect(opened == 2)
        }

        @Test("HTTP/1.0 requests close unless they ask for keep-alive")
        func http10() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (plain, kept) = try await onThread { () -> (RawOutcome, RawOutcome) in
                let plain = try rawExchange(server.port, Array("GET /hello HTTP/1.0\r\n\r\n".utf8))
                let kept = try rawExchange(server.port, Array(
                    "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /items/3 HTTP/1.0\r\n\r\n".utf8))
                return (plain, kept)
            }
            #expect(plain.statuses == [200])
            #expect(plain.closed)
            #expect(plain.responses.first?.head.headers.first("Connection") == "close")
            #expect(kept.statuses == [200, 200])
            #expect(kept.responses.first?.head.headers.first("Connection") == "keep-alive")
            #expect(kept.closed)
        }

        @Test("with optional client certificates, the handler sees the subject when one was sent, none otherwise")
        func optionalClientCertificate() async throws {
            let pki = try NetworkPKI.shared()
            var tls = TLSConfiguration.server(chain: [pki.server], key: pki.serverKey, clientAuthentication: .optional,
                                              peerVerifier: pki.verifier)
            tls.handshakeTimeout = .seconds(5)
            var configuration = HTTPServerConfiguration()
            configuration.listener.tls = try TLSContext(tls)
            let (server, memory) = try startHTTPServer(configuration)
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let withCertificate = try pki.clientContext(withCertificate: true)
            let withoutCertificate = try pki.clientContext(withCertificate: false)
            let answers = try await onThread { () -> [WhoAmI] in
                try [withCertificate, withoutCertificate].map { context in
                    let client = HTTPClient(configuration: HTTPClientConfiguration(
                        host: "127.0.0.1", port: server.port, tls: context, serverName: "localhost",
                        readTimeout: .seconds(5)))
                    defer { client.close() }
                    return try client.getJSON("/whoami", as: WhoAmI.self)
                }
            }
            #expect(answers.count == 2)
            #expect(answers.first?.subject?.contains("CN=\(NetworkPKI.clientSubjectCN)") == true)
            #expect(answers.first?.tls == "TLSv1.3")
            #expect(answers.last?.subject == nil)
            // The server writes its log line after the response, so the last one may lag.
            #expect(eventually { memory.records.filter { $0.event == "http.request" }.count == 2 })
            let subjects = memory.records.filter { $0.event == "http.request" }.compactMap { $0.field("peer_subject") }
            // Two connections, two workers: their lines may be written in either order.
            #expect(subjects.count == 2)
            #expect(subjects.filter { $0.contains(NetworkPKI.clientSubjectCN) }.count == 1)
            #expect(subjects.filter { $0 == "none" }.count == 1)
        }

        @Test("shutdown closes idle keep-alive connections at once instead of waiting for the deadline")
        func shutdownClosesIdleConnections() async throws {
            let before = openSocketCount()
            let (server, _) = try startHTTPServer()
            let (report, elapsed, ending) = try await onThread { () -> (ShutdownReport, Double, Result<Int, NetworkError>) in
                let stream = try TCPClient.connect(host: "127.0.0.1", port: server.port, ioTimeout: .seconds(5))
                defer { stream.close() }
                try stream.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                _ = try stream.read(maximum: 1000)
                let start = ContinuousClock.now
                let report = server.shutdown(gracePeriod: .seconds(10))
                return (report, secondsSince(start), readUntilClosed(stream))
            }
            #expect(report.forcedConnections == 0)
            #expect(report.remainingWorkers == 0)
            #expect(elapsed < 2)
            #expect(ending == .success(0))
            #expect(eventually { openSocketCount() <= before })
        }
    }
}
