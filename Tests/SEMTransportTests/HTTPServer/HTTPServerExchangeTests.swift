import Foundation
import SEMCrypto
import SEMLogging
import SEMTransport
import Testing

extension NetworkTests {
    @Suite("HTTP server and client")
    struct HTTPServerExchangeTests {
        @Test("GET and a JSON POST between our client and our server")
        func getAndJSON() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (text, contentType, reply) = try await onThread { () -> (String, String?, GreetingReply) in
                let client = httpClient(for: server)
                defer { client.close() }
                let response = try client.send(HTTPClientRequest(target: "/hello"))
                let text = String(decoding: try response.body.readAll(limit: 1024), as: UTF8.self)
                let reply = try client.sendJSON("POST", "/greet", GreetingRequest(name: "ada", count: 21),
                                                as: GreetingReply.self)
                return (text, response.headers.first("Content-Type"), reply)
            }
            #expect(text == "hello")
            #expect(contentType == "text/plain; charset=utf-8")
            #expect(reply == GreetingReply(greeting: "hi ada", doubled: 42))
        }

        @Test("several requests reuse one connection, and the server logs one line for each")
        func keepAlive() async throws {
            let (server, memory) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (texts, opened) = try await onThread { () -> ([String], Int) in
                let client = httpClient(for: server)
                defer { client.close() }
                var texts: [String] = []
                for index in 1...5 {
                    let response = try client.send(HTTPClientRequest(target: "/items/\(index)?token=secret"))
                    texts.append(String(decoding: try response.body.readAll(limit: 1024), as: UTF8.self))
                }
                return (texts, client.connectionsOpened)
            }
            #expect(texts == (1...5).map { "item \($0)" })
            #expect(opened == 1)
            #expect(server.listener.statistics.accepted == 1)
            // The server writes its log line after the response, so the last one may lag.
            #expect(eventually { memory.records.filter { $0.event == "http.request" }.count == 5 })
            let lines = memory.records.filter { $0.event == "http.request" }
            #expect(lines.count == 5)
            #expect(lines.first?.field("method") == "GET")
            #expect(lines.first?.field("path") == "/items/1")
            #expect(lines.first?.field("status") == "200")
            #expect(lines.first?.field("bytes_out") == "6")
            #expect(lines.first?.field("peer_subject") == "none")
            #expect(lines.first?.field("duration_ms") != nil)
            #expect(!memory.lines.contains { $0.contains("secret") })
        }

        @Test("pipelined requests are answered in order on one connection")
        func pipelining() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let responses = try await onThread { () -> [HTTPBufferedResponse] in
                let greet = try HTTPClientRequest.json("POST", "/greet", GreetingRequest(name: "bo", count: 1))
                let client = httpClient(for: server)
                defer { client.close() }
                return try client.sendPipelined([HTTPClientRequest(target: "/items/1"), greet,
                                                 HTTPClientRequest(method: "HEAD", target: "/hello"),
                                                 HTTPClientRequest(target: "/nowhere"),
                                                 HTTPClientRequest(target: "/items/2")])
            }
            #expect(responses.map(\.status) == [200, 200, 200, 404, 200])
            #expect(String(decoding: responses[0].body, as: UTF8.self) == "item 1")
            #expect(try JSONDecoder().decode(GreetingReply.self, from: responses[1].body).doubled == 2)
            #expect(responses[2].body.isEmpty)
            #expect(responses[2].head.headers.first("Content-Length") == "5")
            #expect(String(decoding: responses[4].body, as: UTF8.self) == "item 2")
            #expect(server.listener.statistics.accepted == 1)
        }

        @Test("a streamed request body arrives intact, chunked and with a declared length",
              arguments: [nil, Int64(3 * 1024 * 1024 + 17)])
        func streamedUpload(length: Int64?) async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let total: Int64 = 3 * 1024 * 1024 + 17
            let receipt = try await onThread { () -> UploadReceipt in
                let client = httpClient(for: server)
                defer { client.close() }
                let request = HTTPClientRequest(method: "POST", target: "/upload",
                                                body: .stream(length: length) { writer in
                                                    try PatternBody.produce(total) { try writer.write($0) }
                                                })
                return try client.send(request).decodeJSON(UploadReceipt.self)
            }
            #expect(receipt == UploadReceipt(bytes: total, sha256: PatternBody.sha256(total)))
        }

        @Test("a streamed response body arrives intact, chunked and with a declared length", arguments: [true, false])
        func streamedDownload(chunked: Bool) async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let total: Int64 = 2 * 1024 * 1024 + 5
            let (encoding, length, count, digest) = try await onThread { () -> (String?, String?, Int64, String) in
                let client = httpClient(for: server)
                defer { client.close() }
                let response = try client.send(HTTPClientRequest(
                    target: "/download?bytes=\(total)&chunked=\(chunked ? 1 : 0)", responseBodyLimit: total))
                let (count, digest) = try digestBody(response.body)
                return (response.headers.first("Transfer-Encoding"), response.headers.first("Content-Length"),
                        count, digest)
            }
            #expect(encoding == (chunked ? "chunked" : nil))
            #expect(length == (chunked ? nil : String(total)))
            #expect(count == total)
            #expect(digest == PatternBody.sha256(total))
        }

        @Test("errors come back with their status and JSON body",
              arguments: [
                  ("GET", "/nowhere", nil, "", 404, "not-found"),
                  ("PUT", "/items/1", nil, "x", 405, "method-not-allowed"),
                  ("POST", "/small", "text/plain", String(repeating: "a", count: 100), 413, "payload-too-large"),
                  ("POST", "/greet", "text/plain", "{}", 415, "unsupported-media-type"),
                  ("POST", "/greet", "application/json", "{\"name\": ", 400, "bad-request"),
                  ("POST", "/greet", "application/json", "{\"name\": \"x\"}", 400, "bad-request"),
                  ("GET", "/conflict", nil, "", 409, "conflict"),
                  ("GET", "/crash", nil, "", 500, "internal-error"),
                  ("GET", "/" + String(repeating: "a", count: 9000), nil, "", 414, "uri-too-long"),
                  ("GET", "/items/%2F", nil, "", 400, "bad-request"),
              ] as [(String, String, String?, String, Int, String)])
        func errorResponses(method: String, target: String, contentType: String?, body: String, status: Int,
                            code: String) async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (error, allow, cache) = try await onThread { () -> (HTTPRemoteError, String?, String?) in
                let client = httpClient(for: server)
                defer { client.close() }
                var headers = HTTPHeaders()
                if let contentType { headers.set("Content-Type", contentType) }
                let response = try client.send(HTTPClientRequest(method: method, target: target, headers: headers,
                                                                 body: .bytes(Array(body.utf8))))
                return (response.remoteError(), response.headers.first("Allow"),
                        response.headers.first("Cache-Control"))
            }
            #expect(error.status == status)
            #expect(error.code == code)
            #expect(!error.message.isEmpty)
            #expect(error.httpError?.status == status)
            #expect(cache == "no-store")
            if status == 405 { #expect(allow == "DELETE, GET, HEAD") }
            // The sentence of a failure we did not anticipate says nothing about its cause.
            if status == 500 { #expect(error.message == "The server could not complete the request") }
        }

        @Test("a header section over the limit gets 431 and the client reconnects for the next request")
        func headerTooLarge() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (error, connection, next, opened) = try await onThread { () -> (HTTPRemoteError, String?, Int, Int) in
                let client = httpClient(for: server)
                defer { client.close() }
                let headers = HTTPHeaders((0..<40).map { ("X-Filler-\($0)", String(repeating: "v", count: 1000)) })
                let response = try client.send(HTTPClientRequest(target: "/hello", headers: headers))
                let error = response.remoteError()
                let next = try client.send(HTTPClientRequest(target: "/hello"))
                _ = try next.body.readAll(limit: 100)
                return (error, response.headers.first("Connection"), next.status, client.connectionsOpened)
            }
            #expect(error.status == 431)
            #expect(error.code == "header-too-large")
            #expect(connection == "close")
            #expect(next == 200)
            #expect(opened == 2)
        }

        @Test("a JSON error body becomes an HTTPRemoteError carrying the server's code and message")
        func remoteErrorMapping() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let error = try await onThread { () -> (any Error)? in
                let client = httpClient(for: server)
                defer { client.close() }
                do {
                    _ = try client.getJSON("/conflict", as: GreetingReply.self)
                    return nil
                } catch {
                    return error
                }
            }
            let remote = try #require(error as? HTTPRemoteError)
            #expect(remote == HTTPRemoteError(status: 409, code: "conflict", message: "That already exists"))
            #expect(remote.httpError == HTTPError(.conflict, "any"))
        }

        @Test("the Date field uses IMF-fixdate, and every response carries one")
        func dateField() async throws {
            // The example of RFC 9110 §5.6.7.
            #expect(HTTPDate.format(Date(timeIntervalSince1970: 784_111_777)) == "Sun, 06 Nov 1994 08:49:37 GMT")
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let date = try await onThread { () -> String? in
                let client = httpClient(for: server)
                defer { client.close() }
                return try client.send(HTTPClientRequest(target: "/hello")).headers.first("Date")
            }
            #expect(date?.hasSuffix(" GMT") == true)
            #expect(date?.count == 29)
        }

        @Test("HEAD gets the head of the GET response without its body")
        func headRequest() async throws {
            let (server, _) = try startHTTPServer()
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let (status, length, body, after) = try await onThread { () -> (Int, String?, Data, Int) in
                let client = httpClient(for: server)
                defer { client.close() }
                let response = try client.send(HTTPClientRequest(method: "HEAD", target: "/download?bytes=1000"))
                let body = try response.body.readAll(limit: 10_000)
                let after = try client.send(HTTPClientRequest(target: "/hello")).status
                return (response.status, response.headers.first("Content-Length"), body, after)
            }
            #expect(status == 200)
            #expect(length == "1000")
            #expect(body.isEmpty)
            #expect(after == 200)
        }
    }
}
