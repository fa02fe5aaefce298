// sslscan, an independent scanner, against our own listener as the servers configure it:
// only the protocol versions asked for, only AEAD suites with forward secrecy, and a
// certificate request when client certificates are required. scripts/tls-scan does the
// same for every endpoint of a running demo federation.
import Foundation
import SEMCrypto
@testable import SEMTransport
import SEMTestSupport
import Testing

extension NetworkTests {
    @Suite("TLS scan")
    struct TLSScanTests {
        @Test("sslscan finds only the configured versions and strong AEAD suites", arguments: [
            TLSVersionPolicy.tls13Only, .tls12OrLater,
        ])
        func scan(versions: TLSVersionPolicy) throws {
            let pki = try NetworkPKI.shared()
            var configuration = HTTPServerConfiguration()
            configuration.listener.tls = try pki.serverContext(requireClientCertificate: true, versions: versions)
            let (server, _) = try startHTTPServer(configuration)
            defer { server.shutdown(gracePeriod: .seconds(1)) }

            let result = try ExternalTool.run("sslscan", ["--no-colour", "--no-groups", "--no-heartbleed",
                                                          "--sni-name=localhost", "127.0.0.1:\(server.port)"])
            #expect(result.status == 0, "\(result.all)")
            let lines = result.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            let enabled = lines.filter { $0.count == 2 && $0[1] == "enabled" }.map { String($0[0]) }
            let disabled = lines.filter { $0.count == 2 && $0[1] == "disabled" }.map { String($0[0]) }
            #expect(enabled == (versions == .tls13Only ? ["TLSv1.3"] : ["TLSv1.2", "TLSv1.3"]), "\(result.output)")
            #expect(Set(disabled).isSuperset(of: ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"]), "\(result.output)")

            // "Accepted  TLSv1.3  256 bits  TLS_AES_256_GCM_SHA384 ...": version, strength, suite.
            let suites = lines.filter { $0.first == "Accepted" || $0.first == "Preferred" }
            #expect(!suites.isEmpty, "\(result.output)")
            for suite in suites where suite.count >= 5 {
                let name = String(suite[4])
                #expect(Int(suite[2]) ?? 0 >= 128, "\(suite)")
                #expect(name.contains("GCM") || name.contains("CHACHA20"), "not an AEAD suite: \(name)")
                // TLS 1.2 suites must use ephemeral ECDH (TLS 1.3 suites always do).
                #expect(suite[1] == "TLSv1.3" || name.hasPrefix("ECDHE-"), "no forward secrecy: \(name)")
            }
            #expect(!result.output.contains("Insecure session renegotiation supported"))
            #expect(!result.output.contains("Compression enabled"))

            // With client certificates required the server sends a certificate request;
            // openssl lists the signature algorithms it asked for.
            let probe = try ExternalTool.run("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)",
                                                         "-servername", "localhost"], input: Data())
            #expect(probe.all.contains("Requested Signature Algorithms"), "\(probe.all)")
        }
    }
}
