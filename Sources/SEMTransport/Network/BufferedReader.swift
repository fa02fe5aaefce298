// A bounded read buffer over a `ByteStream` for line-oriented protocols (SMTP, HTTP
// heads): lines up to a limit, raw bytes for bodies, and STARTTLS that forgets every
// byte received before the handshake.
//
// Bounds: the buffer has a fixed capacity and never grows. `readLine` never holds more
// than `maxLength` bytes of an unfinished line: a longer line is reported as overlong
// and its bytes are dropped up to the next line feed.
//
// Limitation: dropping the rest of an overlong line waits for its line feed; a peer
// that never sends one is stopped by the stream's idle timeout and lifetime limit.
public import Foundation
public import SEMCrypto

/// What `BufferedReader.readLine` found.
public enum LineReadResult: Sendable, Equatable {
    /// A complete line without its terminator. `crlf` tells whether it ended in CR LF
    /// (true) or a bare LF (false), so protocols can refuse bare line feeds.
    case line(Data, crlf: Bool)
    /// The line was longer than the limit. Its bytes, `dropped` of them not counting
    /// the terminator, were discarded, and reading resumes after its line feed (or at
    /// the end of the stream).
    case overlong(dropped: Int)
    /// The stream ended. `unterminated` holds bytes of a last line without line feed.
    case endOfStream(unterminated: Data)
}

/// Reads lines and byte runs from a stream through a fixed-size buffer. Used by one
/// thread at a time, like the stream under it.
public final class BufferedReader {
    /// The stream read from; replaced by `startTLS`.
    public private(set) var stream: any ByteStream
    /// The most bytes ever held; also the largest `maxLength` accepted.
    public let capacity: Int
    private var storage: [UInt8]
    private var start = 0
    private var end = 0

    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    /// `capacity` must be positive; reads from the stream never exceed it.
    public init(_ stream: any ByteStream, capacity: Int = 16_384) {
        precondition(capacity > 0, "A buffered reader needs a positive capacity.")
        self.stream = stream
        self.capacity = capacity
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// Bytes received from the stream and not yet returned.
    public var bufferedCount: Int { end - start }

    /// Reads one line of at most `maxLength` bytes counting its CR LF (the way RFC 5321
    /// §4.5.3.1 counts: 512 for a command line, 1000 for a text line).
    /// `maxLength` must be between 2 and `capacity`.
    public func readLine(maxLength: Int) throws -> LineReadResult {
        precondition(maxLength >= 2 && maxLength <= capacity, "A line limit must lie between 2 and the capacity.")
        var scanned = 0
        while true {
            // Look for a line feed within the limit among the bytes not yet scanned.
            let limit = min(end, start + maxLength)
            if let index = storage[(start + scanned)..<limit].firstIndex(of: Self.lineFeed) {
                return takeLine(through: index)
            }
            scanned = limit - start
            if scanned >= maxLength {
                return .overlong(dropped: try dropRestOfLine())
            }
            // Read no further than the limit, so an unfinished line never holds more.
            if try fill(upTo: maxLength) == 0 {
                let rest = Data(storage[start..<end])
                start = end
                return .endOfStream(unterminated: rest)
            }
        }
    }

    /// Returns up to `maximum` bytes: buffered ones first, otherwise what one read of
    /// the stream brings. Empty at end of stream.
    public func readBytes(upTo maximum: Int) throws -> Data {
        guard maximum > 0 else { throw NetworkError(.invalidArgument, "A read must ask for at least one byte.") }
        if bufferedCount > 0 {
            let count = min(maximum, bufferedCount)
            let bytes = Data(storage[start..<(start + count)])
            start += count
            return bytes
        }
        return try stream.read(maximum: min(maximum, capacity))
    }

    /// Forgets every buffered byte and returns how many there were.
    @discardableResult
    public func discardBuffered() -> Int {
        let count = bufferedCount
        start = 0
        end = 0
        return count
    }

    /// STARTTLS on the buffered stream, which must be a `SocketStream`: drops every
    /// byte received before the handshake, upgrades the socket to TLS (see
    /// `SocketStream.startTLS`) and reads from the TLS stream from then on.
    ///
    /// Dropping the bytes is required: plaintext a client pipelined after STARTTLS
    /// must not be taken as if it had come through TLS (RFC 3207 §4.2, CVE-2011-0411).
    /// Returns the number of bytes dropped; a server may treat a non-zero count as a
    /// protocol violation by the client.
    @discardableResult
    public func startTLS(context: TLSContext, serverName: String? = nil) throws -> Int {
        guard let plain = stream as? SocketStream else {
            throw NetworkError(.invalidArgument, "STARTTLS needs a plain TCP stream underneath.")
        }
        let dropped = discardBuffered()
        stream = try plain.startTLS(context: context, serverName: serverName)
        return dropped
    }

    // MARK: - Buffer management

    private func takeLine(through lineFeed: Int) -> LineReadResult {
        var lineEnd = lineFeed
        let crlf = lineFeed > start && storage[lineFeed - 1] == Self.carriageReturn
        if crlf { lineEnd -= 1 }
        let line = Data(storage[start..<lineEnd])
        start = lineFeed + 1
        if start == end { start = 0; end = 0 }
        return .line(line, crlf: crlf)
    }

    /// Drops bytes through the next line feed; returns how many were dropped before it.
    private func dropRestOfLine() throws -> Int {
        var dropped = 0
        while true {
            if let index = storage[start..<end].firstIndex(of: Self.lineFeed) {
                dropped += index - start
                if index > start, storage[index - 1] == Self.carriageReturn { dropped -= 1 }
                start = index + 1
                if start == end { start = 0; end = 0 }
                return dropped
            }
            // A CR at the very end may belong to the CR LF still to come: keep it.
            let keepCR = end > start && storage[end - 1] == Self.carriageReturn
            dropped += bufferedCount - (keepCR ? 1 : 0)
            start = keepCR ? end - 1 : end
            if try fill(upTo: capacity) == 0 {
                let rest = bufferedCount
                start = 0
                end = 0
                return dropped + rest
            }
        }
    }

    /// Reads once from the stream so that at most `limit` bytes are buffered; moves
    /// the unread bytes to the front first when that makes room. Returns the count read.
    private func fill(upTo limit: Int) throws -> Int {
        if start > 0 {
            let count = bufferedCount
            if count > 0 {
                storage.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, count)
                }
            }
            start = 0
            end = count
        }
        let room = min(limit, capacity) - end
        precondition(room > 0, "The buffer was asked to read with no room left.")
        let count = try storage.withUnsafeMutableBytes { raw in
            try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end..<(end + room)]))
        }
        end += count
        return count
    }
}
