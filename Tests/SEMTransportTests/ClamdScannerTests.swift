// The clamd INSTREAM client: its reading of replies without sockets, and scans against a
// real clamd started with a locally built signature database.
import Foundation
import SEMTestSupport
@testable import SEMTransport
import Testing

@Suite("clamd scanner")
struct ClamdScannerTests {
    @Test("replies: OK is clean, FOUND names the signature, ERROR and anything else are errors")
    func replies() throws {
        #expect(try ClamdScanner.verdict(fromReply: Data("stream: OK\0".utf8)) == .clean)
        #expect(try ClamdScanner.verdict(fromReply: Data("stream: Win.Test.EICAR_HDB-1 FOUND\0".utf8))
                == .infected(signature: "Win.Test.EICAR_HDB-1"))
        #expect(throws: ScanError(.scannerError, "")) {
            try ClamdScanner.verdict(fromReply: Data("INSTREAM size limit exceeded. ERROR\0".utf8))
        }
        for bad in ["stream: OK", "stream: FOUND\0", "hello\0", "stream: maybe\0", ""] {
            #expect(throws: ScanError(.malformedReply, ""), "\(bad.debugDescription)") {
                try ClamdScanner.verdict(fromReply: Data(bad.utf8))
            }
        }
        #expect(ClamdScanner.chunkHeader(0x0102_0304) == Data([1, 2, 3, 4]))
        #expect(throws: ScanError(.unavailable, "")) { try ClamdScanner(endpoint: "no-port") }
    }

    @Test("a real clamd finds the EICAR test file, also inside a larger stream sent in small chunks, and passes clean data")
    func realScanner() throws {
        let scratch = try ScratchDirectory()
        let clamd = try RunningClamd(in: scratch)
        defer { clamd.stop() }
        let scanner = try ClamdScanner(endpoint: clamd.endpoint)
        #expect(try scanner.scan(RunningClamd.eicar) == .infected(signature: RunningClamd.signatureName + ".UNOFFICIAL"))
        #expect(try scanner.scan(Data(repeating: 0x41, count: 3 << 20)) == .clean)
        let small = ClamdScanner(host: "127.0.0.1", port: clamd.port, chunkSize: 7)
        #expect(try small.scan(RunningClamd.eicar) == .infected(signature: RunningClamd.signatureName + ".UNOFFICIAL"))
        #expect(try small.scan(Data("plain words".utf8)) == .clean)
    }

    @Test("a scanner that is not there gives scan-unavailable, never a verdict")
    func unavailable() throws {
        let port = try FreePorts.allocate(1)[0]
        #expect(throws: ScanError(.unavailable, "")) {
            try ClamdScanner(host: "127.0.0.1", port: port).scan(Data("x".utf8))
        }
    }
}
