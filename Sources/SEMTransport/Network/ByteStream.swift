// The byte-stream abstraction the protocol drivers (SMTP, HTTP) talk to, whatever is
// underneath: plain TCP (`SocketStream`) or TLS (`TLSStream`).
//
// Every operation is blocking with a deadline, so streams belong on ordinary threads,
// never on the cooperative pool of Swift concurrency. A stream is used by one thread
// at a time and is therefore not Sendable.
public import Foundation
public import SEMCrypto

/// A connected, bidirectional byte stream with per-operation timeouts and an optional
/// total lifetime.
public protocol ByteStream: AnyObject {
    /// Reads up to `buffer.count` bytes, waiting at most `readTimeout` (and never past
    /// `lifetimeDeadline`). Returns 0 at end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// Writes all of `bytes`. The write fails when no progress is made for
    /// `writeTimeout`, or when `lifetimeDeadline` passes.
    func write(_ bytes: UnsafeRawBufferPointer) throws

    /// Closes the stream (for TLS, after a best-effort close_notify). Calling it again
    /// does nothing; every later read or write throws `streamClosed`.
    func close()

    /// Whether `close()` was called (or the stream was handed over to TLS).
    var isClosed: Bool { get }

    /// The other end of the connection, when the system could tell.
    var peerAddress: NetworkAddress? { get }

    /// Longest wait for one read. On a server this is the idle timeout.
    var readTimeout: Duration { get set }

    /// Longest time one write may go without progress.
    var writeTimeout: Duration { get set }

    /// After this instant the stream refuses all further I/O with `lifetimeExceeded`,
    /// and an operation in progress gives up when it arrives. Nil means no limit.
    var lifetimeDeadline: ContinuousClock.Instant? { get set }

    /// The peer's certificate followed by the intermediates it sent; empty for plain TCP
    /// and for TLS peers that sent none.
    var tlsPeerChain: [Certificate] { get }

    /// The negotiated protocol ("TLSv1.3"), or nil for plain TCP.
    var tlsVersion: String? { get }

    /// The negotiated cipher suite, or nil for plain TCP.
    var tlsCipher: String? { get }
}

extension ByteStream {
    /// Reads up to `maximum` bytes into new `Data`; empty at end of stream.
    public func read(maximum: Int = 16_384) throws -> Data {
        guard maximum > 0 else {
            throw NetworkError(.invalidArgument, "A read must ask for at least one byte.")
        }
        var storage = Data(count: maximum)
        let count = try storage.withUnsafeMutableBytes { try read(into: $0) }
        storage.removeSubrange(count...)
        return storage
    }

    /// Writes all of `data`.
    public func write(_ data: some DataProtocol) throws {
        let written: Void? = try data.withContiguousStorageIfAvailable { try write(UnsafeRawBufferPointer($0)) }
        if written != nil { return }
        let bytes = Array(data)
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes the UTF-8 bytes of `text`.
    public func write(_ text: String) throws {
        try write(Data(text.utf8))
    }

    /// Sets the read and write timeouts together.
    public func setTimeouts(_ timeout: Duration) {
        readTimeout = timeout
        writeTimeout = timeout
    }

    /// Sets the lifetime deadline to `limit` from now (nil removes it).
    public func limitLifetime(to limit: Duration?) {
        lifetimeDeadline = limit.map { ContinuousClock.now + $0 }
    }
}
