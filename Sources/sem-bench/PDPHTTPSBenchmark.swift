// `sem-bench pdp-https`: decisions per second through the PDP's HTTPS interface (TLS 1.3,
// mutual authentication, keep-alive connections) on loopback, against the same requests
// decided in process (read JSON + decide + write JSON) measured in the same run.
import Dispatch
import Foundation
import SEMCredentials
import SEMCrypto
import SEMLogging
import SEMPolicy
import SEMTransport
import Synchronization

struct PDPHTTPSBenchmark {
    let secondsPerMeasurement: Double

    func run() throws {
        let policy = try PolicyDocument.parse(BenchPolicy.json())
        let engine = try PolicyEngine(document: policy, facts: BenchPolicy.facts())
        let bodies = BenchPolicy.requests(count: 2000).map { Array($0.utf8) }

        // A throw-away domain: the PDP's server certificate and the mail server's client
        // certificate, with current CRLs so that path validation runs in full.
        let pki = try DomainPKI.create(domain: "bench.test")
        let identity = pki.identity
        let issuingCRL = try CertificateRevocationList.issue(
            issuer: identity.issuer.certificate, key: identity.issuer.key, thisUpdate: Date() - 60,
            nextUpdate: Date() + 3600, crlNumber: 1, revoked: [])
        let validator = PathValidator(trustAnchors: [identity.root], knownIntermediates: [identity.issuer.certificate],
                                      revocationChecker: RevocationEvidence(crls: [identity.rootCRL, issuingCRL]))
        let pdpKey = pki.servers["pdp"]!, mailKey = pki.servers["mail"]!
        let serverTLS = try TLSContext(.server(
            chain: [pdpKey.certificate, identity.issuer.certificate], key: pdpKey.key, clientAuthentication: .required,
            peerVerifier: PathValidatingPeerVerifier(validator: validator, purpose: .tlsClient)))
        let clientTLS = try TLSContext(.client(
            peerVerifier: PathValidatingPeerVerifier(validator: validator, purpose: .tlsServer),
            chain: [mailKey.certificate, identity.issuer.certificate], key: mailKey.key))
        func serve(_ engine: PolicyEngine) throws -> HTTPServer {
            let server = try HTTPServer(
                configuration: HTTPServerConfiguration(listener: ListenerConfiguration(port: 0, tls: serverTLS, name: "pdp")),
                router: PDPHTTPService(engine: engine).routes(), logger: .disabled)
            server.start()
            return server
        }
        func inProcess(_ engine: PolicyEngine) -> Double {
            PDPBenchmark(secondsPerMeasurement: secondsPerMeasurement).measure { index in
                if let request = try? DecisionRequest.parse(Data(bodies[index % bodies.count])) {
                    _ = try? engine.decide(request).jsonData()
                }
            }
        }

        let server = try serve(engine)
        let baseline = inProcess(engine)
        var rows: [(String, Double)] = []
        for clients in [1, 2, 4] {
            rows.append(("HTTPS, \(clients) keep-alive connection(s)",
                         try overHTTPS(clients: clients, port: server.port, tls: clientTLS, bodies: bodies)))
        }
        let handshakes = try handshakesPerSecond(port: server.port, tls: clientTLS, body: bodies[0])
        _ = server.shutdown(gracePeriod: .seconds(2))
        var figures = rows.map {
            BenchFigure(item: "pdp-https", measurement: "\(policy.rules.count) rules, \($0.0)", ours: $0.1,
                        baseline: baseline, unit: "decisions/s", higherIsBetter: true)
        }
        figures.append(BenchFigure(item: "pdp-https", measurement: "new connection per decision", ours: handshakes,
                                   baseline: baseline, unit: "decisions/s", higherIsBetter: true))

        // By number of rules: in process against 2 keep-alive connections, one policy at a time.
        var ruleRows: [String] = []
        for count in PDPBenchmark.ruleCounts {
            let limits = PDPBenchmark.limits(forRules: count)
            let document = try PolicyDocument.parse(BenchPolicy.json(ruleCount: count), limits: limits)
            let sized = try PolicyEngine(document: document, facts: BenchPolicy.facts(), options: PolicyEngineOptions(limits: limits))
            let sizedServer = try serve(sized)
            let local = inProcess(sized)
            let remote = try overHTTPS(clients: 2, port: sizedServer.port, tls: clientTLS, bodies: bodies)
            _ = sizedServer.shutdown(gracePeriod: .seconds(2))
            ruleRows.append("| \(PDPBenchmark.format(Double(count))) | \(PDPBenchmark.format(local)) | "
                            + "\(PDPBenchmark.format(remote)) | \(String(format: "%.2f", remote / local)) |")
            figures.append(BenchFigure(item: "pdp-https", measurement: "\(count) rules, HTTPS, 2 keep-alive connections",
                                       ours: remote, baseline: local, unit: "decisions/s", higherIsBetter: true))
            BenchOutput.note("pdp-https: \(count) rules done")
        }
        let markdown = """
            ## Policy decisions over HTTPS

            `sem-bench pdp-https` (`scripts/bench-pdp --https`): the policy of "Policy decisions" served by
            `PDPHTTPService` on 127.0.0.1 with TLS 1.3 and mutual authentication (EC P-256 certificates, full
            path validation with CRLs at each handshake); clients and server share the machine's 2 cores.
            Baseline: the same requests read, decided and written in process, measured in the same run.

            | measurement | decisions per second | × in process |
            |-------------|---------------------:|-------------:|
            | in process: read JSON + decide + write JSON (baseline) | \(PDPBenchmark.format(baseline)) | 1.00 |
            \(rows.map { "| \($0.0) | \(PDPBenchmark.format($0.1)) | \(String(format: "%.2f", $0.1 / baseline)) |" }
                .joined(separator: "\n"))
            | new connection per decision (handshake each time) | \(PDPBenchmark.format(handshakes)) | \(String(format: "%.2f", handshakes / baseline)) |

            ### By number of rules

            The policies of "By number of rules" above, each served in turn; baseline: the same policy in process.

            | rules | in process (baseline) | HTTPS, 2 keep-alive connections | × in process |
            |------:|----------------------:|--------------------------------:|-------------:|
            \(ruleRows.joined(separator: "\n"))
            """
        try BenchOutput.emit(item: "pdp-https", markdown: markdown, figures: figures,
                             parameters: ["secondsPerMeasurement": "\(secondsPerMeasurement)"])
    }

    /// Decisions per second with `clients` threads, each on one keep-alive connection.
    private func overHTTPS(clients: Int, port: UInt16, tls: TLSContext, bodies: [[UInt8]]) throws -> Double {
        let counts = Mutex([Int](repeating: 0, count: clients))
        let failures = Mutex(0)
        let group = DispatchGroup()
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(secondsPerMeasurement * 1e9)
        let start = DispatchTime.now().uptimeNanoseconds
        for client in 0..<clients {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let http = HTTPClient(configuration: HTTPClientConfiguration(
                    host: "127.0.0.1", port: port, tls: tls, serverName: "pdp.bench.test"))
                defer { http.close() }
                var index = client * 997
                var done = 0
                while DispatchTime.now().uptimeNanoseconds < deadline {
                    let request = HTTPClientRequest(method: "POST", target: "/v1/decisions",
                                                    headers: ["Content-Type": "application/json"],
                                                    body: .bytes(bodies[index % bodies.count]))
                    do {
                        let response = try http.send(request)
                        _ = try response.body.readAll(limit: 64 * 1024)
                        if response.status == 200 { done += 1 } else { failures.withLock { $0 += 1 } }
                    } catch {
                        failures.withLock { $0 += 1 }
                    }
                    index += 1
                }
                counts.withLock { $0[client] = done }
            }
        }
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let failed = failures.withLock { $0 }
        if failed > 0 { FileHandle.standardError.write(Data("sem-bench: \(failed) requests failed\n".utf8)) }
        return Double(counts.withLock { $0.reduce(0, +) }) / elapsed
    }

    /// Decisions per second when every decision opens a new TLS connection.
    private func handshakesPerSecond(port: UInt16, tls: TLSContext, body: [UInt8]) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(secondsPerMeasurement * 1e9)
        var done = 0
        while DispatchTime.now().uptimeNanoseconds < deadline {
            let http = HTTPClient(configuration: HTTPClientConfiguration(
                host: "127.0.0.1", port: port, tls: tls, serverName: "pdp.bench.test"))
            let response = try http.send(HTTPClientRequest(method: "POST", target: "/v1/decisions",
                                                           headers: ["Content-Type": "application/json"],
                                                           body: .bytes(body)))
            _ = try response.body.readAll(limit: 64 * 1024)
            http.close()
            done += 1
        }
        return Double(done) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
