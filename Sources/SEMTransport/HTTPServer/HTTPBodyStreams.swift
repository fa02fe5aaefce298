// Streaming message bodies: a reader that pulls a received body from the connection
// as it is consumed, and a writer that sends a body with Content-Length or the chunked
// transfer coding (RFC 9112 §6.2, §7.1). Servers use the reader for request bodies and
// the writer for response bodies; clients the other way round.
//
// Neither holds more than one body piece: a body of any size passes through them in
// bounded memory. Both belong to the thread serving the connection.
public import Foundation

/// A body being received, read piece by piece as it arrives.
///
/// `read` throws `HTTPError` when the body is malformed or too large (the parser's
/// limits) and `NetworkError` when the connection fails or closes before the body ends.
public final class HTTPBodyReader {
    private let source: () throws -> [UInt8]?
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    /// Whether the whole body was read (the end was seen).
    public private(set) var isComplete = false
    /// Body octets handed out so far.
    public private(set) var bytesRead: Int64 = 0
    /// Whether anyone asked for body octets.
    private(set) var wasTouched = false
    private var failure: (any Error)?

    /// `source` yields the next body piece, or nil at the end of the body.
    init(source: @escaping () throws -> [UInt8]?) {
        self.source = source
    }

    /// A reader of an empty body.
    static func empty() -> HTTPBodyReader {
        let reader = HTTPBodyReader(source: { nil })
        reader.isComplete = true
        return reader
    }

    /// Up to `maximum` octets of the body; empty at its end. Waits for the peer as needed.
    public func read(maximum: Int = 65_536) throws -> Data {
        guard maximum > 0 else { throw HTTPError(.internalError, "A body read must ask for at least one octet") }
        wasTouched = true
        if let failure { throw failure }
        while pendingOffset == pending.count {
            if isComplete { return Data() }
            do {
                if let piece = try source() {
                    pending = piece
                    pendingOffset = 0
                } else {
                    isComplete = true
                    pending = []
                    pendingOffset = 0
                }
            } catch {
                failure = error
                throw error
            }
        }
        let count = min(maximum, pending.count - pendingOffset)
        let slice = Data(pending[pendingOffset..<(pendingOffset + count)])
        pendingOffset += count
        bytesRead += Int64(count)
        return slice
    }

    /// The whole body, which must not exceed `limit` octets (413 `payload-too-large`
    /// otherwise; the rest of the body is then left unread).
    public func readAll(limit: Int) throws -> Data {
        var body = Data()
        while true {
            let piece = try read(maximum: 65_536)
            if piece.isEmpty { return body }
            guard body.count + piece.count <= limit else {
                throw HTTPError(.payloadTooLarge, "The body is larger than \(limit) octets")
            }
            body.append(piece)
        }
    }

    /// Ends this reader's access to the connection, which moves on to the next message:
    /// later reads of an unfinished body throw.
    func detach() {
        if !isComplete && failure == nil {
            failure = HTTPError(.internalError, "The body is no longer available: its message is over")
        }
    }

    /// Reads and drops the rest of the body, at most `limit` octets of it. Returns true
    /// when the end was reached within the limit; false when the body is longer or could
    /// not be read (the connection must then be closed).
    func drain(limit: Int64) -> Bool {
        var dropped: Int64 = 0
        do {
            while !isComplete {
                let piece = try read(maximum: 65_536)
                dropped += Int64(piece.count)
                if dropped > limit { return false }
            }
            return true
        } catch {
            return false
        }
    }
}

/// Writes a body to the connection as the producer hands it over.
public final class HTTPBodyWriter {
    enum Framing {
        /// Content-Length: exactly this many octets.
        case length(Int64)
        /// The chunked transfer coding.
        case chunked
        /// Delimited by closing the connection (HTTP/1.0 responses of unknown length).
        case untilClose
    }

    private let stream: any ByteStream
    private let framing: Framing
    /// Body octets written so far.
    public private(set) var bytesWritten: Int64 = 0
    private var finished = false

    init(stream: any ByteStream, framing: Framing) {
        self.stream = stream
        self.framing = framing
    }

    /// Sends `bytes` as the next part of the body (one chunk when chunked; an empty
    /// write sends nothing). Writing more than a declared Content-Length is refused.
    public func write(_ bytes: some DataProtocol) throws {
        guard !finished else { throw HTTPError(.internalError, "The body was already finished") }
        guard !bytes.isEmpty else { return }
        if case .length(let total) = framing, bytesWritten + Int64(bytes.count) > total {
            throw HTTPError(.internalError, "The body is longer than its declared length of \(total) octets")
        }
        switch framing {
        case .chunked:
            // One buffer per chunk, so that size line, data and CRLF leave in one write.
            try stream.write(HTTPChunkEncoder.chunk(bytes))
        case .length, .untilClose:
            try stream.write(bytes)
        }
        bytesWritten += Int64(bytes.count)
    }

    /// Sends `text` as UTF-8.
    public func write(_ text: String) throws {
        try write(Data(text.utf8))
    }

    /// Ends the body: the last chunk for chunked, a length check otherwise.
    func finish() throws {
        guard !finished else { return }
        finished = true
        switch framing {
        case .chunked:
            try stream.write(HTTPChunkEncoder.end())
        case .length(let total):
            guard bytesWritten == total else {
                throw HTTPError(.internalError,
                                "The body has \(bytesWritten) octets but \(total) were declared")
            }
        case .untilClose:
            break
        }
    }
}

/// A body to send: bytes at hand, or a producer that writes the body as it goes.
public enum HTTPOutgoingBody {
    /// The whole body, sent with its Content-Length.
    case bytes([UInt8])
    /// The producer writes the body through the writer. With `length` the body is sent
    /// with that Content-Length and must have exactly that many octets; without, it is
    /// sent chunked. A producer that throws leaves the message unfinished and the
    /// connection is closed.
    case stream(length: Int64?, producer: (HTTPBodyWriter) throws -> Void)

    /// An empty body.
    public static var empty: HTTPOutgoingBody { .bytes([]) }
}
