// Moves a large body up to the server and back down through our client, plain and over
// TLS, while sampling the process's resident memory. The size comes from the
// environment variable SEM_STREAM_TEST_BYTES (default 64 MiB); scripts/bench-http-stream
// runs it with 1 GiB in a release build. Only integrity and bounded memory are
// asserted; the printed throughput is information, never a verdict.
import Foundation
import SEMCrypto
import SEMTransport
import Synchronization
import Testing

/// Samples VmRSS every few milliseconds on its own thread and keeps the highest value.
private final class ResidentMemorySampler: Sendable {
    private let state = Mutex<(running: Bool, peak: Int)>((true, 0))
    private let finished = DispatchSemaphore(value: 0)

    init() {
        Thread { [self] in
            while state.withLock({ $0.running }) {
                let current = Self.status("VmRSS") ?? 0
                state.withLock { $0.peak = max($0.peak, current) }
                usleep(5_000)
            }
            finished.signal()
        }.start()
    }

    /// Stops sampling and returns the highest VmRSS seen, in octets.
    func stop() -> Int {
        state.withLock { $0.running = false }
        finished.wait()
        return state.withLock { $0.peak }
    }

    /// A "kB" line of /proc/self/status, in octets.
    static func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        return nil
    }

    /// Resets VmHWM to the current VmRSS (Linux: "5" into clear_refs); false if refused.
    static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }
}

private func mebibytes(_ octets: Int) -> String { String(format: "%.1f MiB", Double(octets) / 1_048_576) }

private func rate(_ octets: Int64, _ elapsed: Double) -> String {
    String(format: "%.1f MiB/s", Double(octets) / 1_048_576 / max(elapsed, 1e-9))
}

extension NetworkTests {
    @Suite("HTTP streaming")
    struct HTTPServerStreamingTests {
        static var bodySize: Int64 {
            ProcessInfo.processInfo.environment["SEM_STREAM_TEST_BYTES"].flatMap { Int64($0) } ?? 64 * 1024 * 1024
        }

        @Test("a large body goes up and comes back down intact with memory far below its size",
              arguments: ["plain", "tls"])
        func largeBody(transport: String) async throws {
            let total = Self.bodySize
            let pki = try NetworkPKI.shared()
            var configuration = HTTPServerConfiguration()
            if transport == "tls" { configuration.listener.tls = try pki.serverContext(requireClientCertificate: false) }
            let (server, _) = try startHTTPServer(configuration)
            defer { server.shutdown(gracePeriod: .seconds(1)) }
            let clientTLS = transport == "tls" ? try pki.clientContext(withCertificate: false) : nil
            let expected = PatternBody.sha256(total)

            let report = try await onThread { () -> (UploadReceipt, Int64, String, Double, Double, Int, Int, Int?) in
                let client = HTTPClient(configuration: HTTPClientConfiguration(
                    host: "127.0.0.1", port: server.port, tls: clientTLS, serverName: "localhost",
                    readTimeout: .seconds(60)))
                defer { client.close() }
                // Warm up the connection and everything lazily made on first use.
                _ = try client.send(HTTPClientRequest(target: "/hello")).body.readAll(limit: 100)
                let baseline = ResidentMemorySampler.status("VmRSS") ?? 0
                let peakReset = ResidentMemorySampler.resetPeak()
                let sampler = ResidentMemorySampler()

                let uploadStart = ContinuousClock.now
                let receipt = try client.send(HTTPClientRequest(method: "POST", target: "/upload",
                                                                body: .stream(length: nil) { writer in
                    try PatternBody.produce(total) { try writer.write($0) }
                })).decodeJSON(UploadReceipt.self)
                let uploadSeconds = secondsSince(uploadStart)

                let downloadStart = ContinuousClock.now
                let response = try client.send(HTTPClientRequest(target: "/download?bytes=\(total)&chunked=1",
                                                                 responseBodyLimit: total))
                let (count, digest) = try digestBody(response.body)
                let downloadSeconds = secondsSince(downloadStart)

                let sampled = sampler.stop()
                let highWater = peakReset ? ResidentMemorySampler.status("VmHWM") : nil
                return (receipt, count, digest, uploadSeconds, downloadSeconds, baseline, sampled, highWater)
            }
            let (receipt, count, digest, uploadSeconds, downloadSeconds, baseline, sampled, highWater) = report
            let peak = max(sampled, highWater ?? 0)
            let increase = max(0, peak - baseline)
            print("HTTP streaming \(transport): body \(total) octets (\(mebibytes(Int(total)))); "
                  + "upload \(rate(total, uploadSeconds)) in \(String(format: "%.2f", uploadSeconds)) s; "
                  + "download \(rate(total, downloadSeconds)) in \(String(format: "%.2f", downloadSeconds)) s; "
                  + "peak RSS increase \(mebibytes(increase)) (baseline \(mebibytes(baseline)), "
                  + "VmHWM \(highWater.map(mebibytes) ?? "not reset"))")

            #expect(receipt == UploadReceipt(bytes: total, sha256: expected))
            #expect(count == total)
            #expect(digest == expected)
            #expect(increase < Int(total / 4), "peak RSS grew by \(mebibytes(increase)) for \(mebibytes(Int(total)))")
        }
    }
}
