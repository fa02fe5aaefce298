import Foundation
import SEMCrypto
@testable import SEMTransport
import Testing

/// A stream that hands out prepared chunks, one per read (split further when the read
/// asks for less), and records how much each read asked for.
private final class ScriptedStream: ByteStream {
    private var chunks: [[UInt8]]
    private(set) var requestSizes: [Int] = []
    var isClosed = false
    var peerAddress: NetworkAddress? { nil }
    var readTimeout: Duration = .seconds(1)
    var writeTimeout: Duration = .seconds(1)
    var lifetimeDeadline: ContinuousClock.Instant?
    var tlsPeerChain: [Certificate] { [] }
    var tlsVersion: String? { nil }
    var tlsCipher: String? { nil }

    init(_ chunks: [String]) { self.chunks = chunks.map { Array($0.utf8) } }
    init(bytes chunks: [[UInt8]]) { self.chunks = chunks }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        requestSizes.append(buffer.count)
        guard !chunks.isEmpty else { return 0 }
        let count = min(buffer.count, chunks[0].count)
        chunks[0].withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
        }
        chunks[0].removeFirst(count)
        if chunks[0].isEmpty { chunks.removeFirst() }
        return count
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {}
    func close() { isClosed = true }
}

private func line(_ text: String, crlf: Bool = true) -> LineReadResult { .line(Data(text.utf8), crlf: crlf) }

@Suite("Buffered reader")
struct BufferedReaderTests {
    @Test("lines end at CR LF or bare LF, and the result says which")
    func lineTerminators() throws {
        let reader = BufferedReader(ScriptedStream(["EHLO a\r\nNOOP\nQUIT\r\n"]))
        #expect(try reader.readLine(maxLength: 512) == line("EHLO a"))
        #expect(try reader.readLine(maxLength: 512) == line("NOOP", crlf: false))
        #expect(try reader.readLine(maxLength: 512) == line("QUIT"))
        #expect(try reader.readLine(maxLength: 512) == .endOfStream(unterminated: Data()))
    }

    @Test("input fed one byte per read gives the same lines as input fed whole")
    func byteByByte() throws {
        let text = "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n\r\nlast"
        let reader = BufferedReader(ScriptedStream(text.map { String($0) }))
        #expect(try reader.readLine(maxLength: 64) == line("MAIL FROM:<a@b>"))
        #expect(try reader.readLine(maxLength: 64) == line("RCPT TO:<c@d>"))
        #expect(try reader.readLine(maxLength: 64) == line(""))
        #expect(try reader.readLine(maxLength: 64) == .endOfStream(unterminated: Data("last".utf8)))
    }

    @Test("a line of exactly the limit including CR LF is accepted, one byte more is overlong")
    func limitBoundary() throws {
        let fits = String(repeating: "a", count: 8) + "\r\n"
        let tooLong = String(repeating: "b", count: 9) + "\r\n"
        let reader = BufferedReader(ScriptedStream([fits + tooLong + "next\r\n"]))
        #expect(try reader.readLine(maxLength: 10) == line(String(repeating: "a", count: 8)))
        #expect(try reader.readLine(maxLength: 10) == .overlong(dropped: 9))
        #expect(try reader.readLine(maxLength: 10) == line("next"))
    }

    @Test("an overlong line is dropped through its line feed without growing the buffer")
    func overlongDroppedInPieces() throws {
        let long = String(repeating: "x", count: 5000)
        let stream = ScriptedStream([long + "\r", "\nafter\r\n"])
        let reader = BufferedReader(stream, capacity: 64)
        #expect(try reader.readLine(maxLength: 32) == .overlong(dropped: 5000))
        #expect(try reader.readLine(maxLength: 32) == line("after"))
        #expect(stream.requestSizes.allSatisfy { $0 <= 64 })
        #expect(reader.bufferedCount == 0)
    }

    @Test("while a line is unfinished the reader never holds more than the line limit")
    func neverBuffersPastLimit() throws {
        let stream = ScriptedStream([String(repeating: "y", count: 300)])
        let reader = BufferedReader(stream, capacity: 4096)
        #expect(try reader.readLine(maxLength: 100) == .overlong(dropped: 300))
        // The first reads stay within the line limit; only the dropping phase reads more.
        let firstRead = try #require(stream.requestSizes.first)
        #expect(firstRead <= 100)
    }

    @Test("an overlong line cut off by the end of the stream counts every dropped byte")
    func overlongAtEnd() throws {
        let reader = BufferedReader(ScriptedStream([String(repeating: "z", count: 40) + "\r"]), capacity: 16)
        #expect(try reader.readLine(maxLength: 16) == .overlong(dropped: 41))
        #expect(try reader.readLine(maxLength: 16) == .endOfStream(unterminated: Data()))
    }

    @Test("readBytes returns buffered bytes first, then reads the stream")
    func readBytesAfterLine() throws {
        let reader = BufferedReader(ScriptedStream(["BDAT 5\r\nhel", "lo!"]))
        #expect(try reader.readLine(maxLength: 512) == line("BDAT 5"))
        #expect(reader.bufferedCount == 3)
        #expect(try reader.readBytes(upTo: 2) == Data("he".utf8))
        #expect(try reader.readBytes(upTo: 10) == Data("l".utf8))
        #expect(try reader.readBytes(upTo: 10) == Data("lo!".utf8))
        #expect(try reader.readBytes(upTo: 10).isEmpty)
        #expect(throws: NetworkError(.invalidArgument, "")) { try reader.readBytes(upTo: 0) }
    }

    @Test("discardBuffered forgets what was read ahead and reports how much")
    func discard() throws {
        let reader = BufferedReader(ScriptedStream(["STARTTLS\r\nEHLO injected\r\n"]))
        #expect(try reader.readLine(maxLength: 512) == line("STARTTLS"))
        #expect(reader.discardBuffered() == 15)
        #expect(reader.bufferedCount == 0)
        #expect(try reader.readLine(maxLength: 512) == .endOfStream(unterminated: Data()))
    }

    @Test("STARTTLS on a stream that is not plain TCP is refused")
    func startTLSNeedsSocket() throws {
        let pki = try NetworkPKI.shared()
        let reader = BufferedReader(ScriptedStream(["x"]))
        #expect(throws: NetworkError(.invalidArgument, "")) {
            try reader.startTLS(context: try pki.serverContext())
        }
    }

    @Test("binary bytes, NUL and bare CR pass through inside a line")
    func binaryContent() throws {
        let bytes: [UInt8] = [0x00, 0x0D, 0x41, 0xFF, 0x0D, 0x0A]
        let reader = BufferedReader(ScriptedStream(bytes: [bytes]))
        #expect(try reader.readLine(maxLength: 16) == .line(Data([0x00, 0x0D, 0x41, 0xFF]), crlf: true))
    }
}
