// Reading HTTP/1.1 messages from a `ByteStream` through one of the pull parsers, for
// the server (requests) and the client (responses) alike.
//
// Memory: one fixed read buffer per connection, and the parser holds only input that
// does not yet form a complete line or body piece. The input is read only when the
// parser asks for more, so a body of any size passes through in bounded pieces.
//
// Time: each read waits at most the stream's read timeout (the idle timeout on a
// server); a caller may pass an earlier deadline for one read, which is how the whole
// request head and the whole response head are bounded.
//
// After the parser or the stream failed, the input refuses everything: the connection
// cannot carry another message.
import Foundation

/// A piece of a message, the same for requests and responses.
enum HTTPMessagePart<Head> {
    case head(Head)
    case body([UInt8])
    case end
}

/// What `HTTPMessageInput` needs from a parser.
protocol HTTPPullParser {
    associatedtype Head
    mutating func append(_ bytes: some Sequence<UInt8>)
    mutating func endInput()
    mutating func nextPart() throws(HTTPError) -> HTTPMessagePart<Head>?
    var bodyLimit: Int64 { get set }
    var bufferedCount: Int { get }
}

extension HTTPRequestParser: HTTPPullParser {
    mutating func nextPart() throws(HTTPError) -> HTTPMessagePart<HTTPRequestHead>? {
        switch try next() {
        case .head(let head): .head(head)
        case .body(let bytes): .body(bytes)
        case .end: .end
        case nil: nil
        }
    }
}

extension HTTPResponseParser: HTTPPullParser {
    mutating func nextPart() throws(HTTPError) -> HTTPMessagePart<HTTPResponseHead>? {
        switch try next() {
        case .head(let head): .head(head)
        case .body(let bytes): .body(bytes)
        case .end: .end
        case nil: nil
        }
    }
}

/// A stream and a parser: message parts in, one bounded read at a time.
final class HTTPMessageInput<Parser: HTTPPullParser> {
    let stream: any ByteStream
    var parser: Parser
    /// The stream's own read timeout, restored after every read with a deadline.
    let readTimeout: Duration
    /// Set when the stream reported its end; the parser was told.
    private(set) var streamEnded = false
    /// The first failure of the parser or the stream; sticky.
    private(set) var failure: (any Error)?
    /// Octets received from the stream so far.
    private(set) var bytesReceived: Int64 = 0
    private var scratch: [UInt8]

    init(stream: any ByteStream, parser: Parser, bufferSize: Int) {
        precondition(bufferSize > 0, "An HTTP input needs a positive buffer size.")
        self.stream = stream
        self.parser = parser
        readTimeout = stream.readTimeout
        scratch = [UInt8](repeating: 0, count: bufferSize)
    }

    /// Whether the connection can still carry messages.
    var isUsable: Bool { failure == nil }

    /// The next part the parser can give from what was already received, without I/O.
    func pull() throws -> HTTPMessagePart<Parser.Head>? {
        if let failure { throw failure }
        do {
            return try parser.nextPart()
        } catch {
            failure = error
            throw error
        }
    }

    /// Reads once from the stream and hands the bytes to the parser. Returns the count,
    /// 0 at the end of the stream. `deadline`, when given, shortens this one read.
    @discardableResult
    func fill(deadline: ContinuousClock.Instant? = nil) throws -> Int {
        if let failure { throw failure }
        guard !streamEnded else { return 0 }
        if let deadline {
            let remaining = deadline - .now
            guard remaining > .zero else { throw NetworkError(.timedOut, "The time for this message ran out.") }
            stream.readTimeout = min(readTimeout, remaining)
        }
        defer { stream.readTimeout = readTimeout }
        do {
            let count = try scratch.withUnsafeMutableBytes { try stream.read(into: $0) }
            if count == 0 {
                streamEnded = true
                parser.endInput()
            } else {
                bytesReceived += Int64(count)
                parser.append(scratch[0..<count])
            }
            return count
        } catch let error as NetworkError where error.code == .timedOut && deadline != nil {
            // A missed deadline is the caller's to judge; the stream itself is still fine.
            throw error
        } catch {
            failure = error
            throw error
        }
    }

    /// The next part, reading as needed; nil when the stream ended cleanly between
    /// messages. Throws `HTTPError` for malformed input and the stream's errors.
    func next(deadline: ContinuousClock.Instant? = nil) throws -> HTTPMessagePart<Parser.Head>? {
        while true {
            if let part = try pull() { return part }
            if streamEnded { return nil }
            try fill(deadline: deadline)
        }
    }

    /// Marks the input unusable, e.g. after a message could not be finished.
    func invalidate(_ error: any Error) {
        if failure == nil { failure = error }
    }
}
