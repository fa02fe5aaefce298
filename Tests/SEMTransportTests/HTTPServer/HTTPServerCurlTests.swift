// curl as an independent client of our HTTPS server with mutual TLS.
import Foundation
import SEMCrypto
import SEMLogging
import SEMTestSupport
import SEMTransport
import Testing

/// A mutual-TLS server for the test application and a directory with the PEM files
/// curl needs (ca.pem, client.pem, client.key).
private func startMutualTLSServer() throws -> (HTTPServer, InMemoryLogHandler, NetworkTemporaryDirectory) {
    let pki = try NetworkPKI.shared()
    var configuration = HTTPServerConfiguration()
    configuration.listener.tls = try pki.serverContext(requireClientCertificate: true)
    let (server, memory) = try startHTTPServer(configuration)
    let directory = try NetworkTemporaryDirectory()
    try pki.writeFiles(to: directory)
    return (server, memory, directory)
}

/// Runs curl in `directory` with a time limit, trusting the test root.
private func curl(_ arguments: [String], in directory: NetworkTemporaryDirectory) throws -> ToolResult {
    try ExternalTool.run("curl", ["-sS", "--max-time", "20", "--cacert", "ca.pem"] + arguments, in: directory.url)
}

extension NetworkTests {
    @Suite("HTTP server with curl")
    struct HTTPServerCurlTests {
        @Test("curl with a client certificate gets 200 over TLS 1.3, and the body names its subject")
        func whoami() async throws {
            let (server, memory, directory) = try startMutualTLSServer()
            defer {
                server.shutdown(gracePeriod: .seconds(1))
                directory.remove()
            }
            let url = "https://localhost:\(server.port)/whoami"
            let run = try await onThread {
                try curl(["-v", "--tlsv1.3", "--tls-max", "1.3", "--cert", "client.pem", "--key", "client.key",
                          "-w", "\n%{http_code} %{http_version}", url], in: directory)
            }
            #expect(run.status == 0, "curl: \(run.errors)")
            let lines = run.output.split(separator: "\n")
            #expect(lines.last == "200 1.1")
            let body = try #require(lines.first.map { Data($0.utf8) })
            let answer = try JSONDecoder().decode(WhoAmI.self, from: body)
            #expect(answer.subject?.contains("CN=\(NetworkPKI.clientSubjectCN)") == true)
            #expect(answer.tls == "TLSv1.3")
            #expect(run.errors.contains("TLSv1.3"))
            // The server logs a request after its response has gone out, so curl may be
            // done before the line is written.
            #expect(eventually {
                memory.records.first { $0.event == "http.request" }?.field("peer_subject")?
                    .contains(NetworkPKI.clientSubjectCN) == true
            })
        }

        @Test("curl without a client certificate is refused")
        func noCertificate() async throws {
            let (server, memory, directory) = try startMutualTLSServer()
            defer {
                server.shutdown(gracePeriod: .seconds(1))
                directory.remove()
            }
            let run = try await onThread { try curl(["https://localhost:\(server.port)/whoami"], in: directory) }
            #expect(run.status != 0)
            #expect(!run.output.contains("subject"))
            #expect(eventually { server.listener.statistics.tlsFailures == 1 })
            #expect(!memory.records.contains { $0.event == "http.request" })
        }

        @Test("curl uploads a chunked body and the server's digest of it matches the file")
        func chunkedUpload() async throws {
            let (server, _, directory) = try startMutualTLSServer()
            defer {
                server.shutdown(gracePeriod: .seconds(1))
                directory.remove()
            }
            let total: Int64 = 5 * 1024 * 1024 + 3
            var file = Data()
            PatternBody.produce(total) { file.append(contentsOf: $0) }
            try file.write(to: directory.url.appendingPathComponent("upload.bin"))
            let run = try await onThread {
                try curl(["--cert", "client.pem", "--key", "client.key", "-H", "Transfer-Encoding: chunked",
                          "--data-binary", "@upload.bin", "https://localhost:\(server.port)/upload"], in: directory)
            }
            #expect(run.status == 0, "curl: \(run.errors)")
            let receipt = try JSONDecoder().decode(UploadReceipt.self, from: run.outputData)
            #expect(receipt == UploadReceipt(bytes: total, sha256: Digest.sha256(file).hexString))
        }
    }
}
