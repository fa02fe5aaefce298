// TLS as a `ByteStream`, over SEMCrypto's `TLSConnection`, and the STARTTLS upgrade of
// a plain `SocketStream` on the same socket.
//
// Limitation: the handshake is bounded by the context's handshake timeout only; the
// stream's lifetime deadline applies from the first read or write on.
import Foundation
public import SEMCrypto

/// A TLS session on a connected socket. It owns the socket: `close()` sends
/// close_notify (best effort) and then closes the descriptor.
public final class TLSStream: ByteStream {
    private let connection: TLSConnection
    let descriptor: SocketDescriptor
    public let peerAddress: NetworkAddress?
    /// The local end of the connection.
    public let localAddress: NetworkAddress?
    public var readTimeout: Duration
    public var writeTimeout: Duration
    public var lifetimeDeadline: ContinuousClock.Instant?
    private var closed = false

    /// Largest piece handed to one TLS write, so the lifetime deadline is checked at
    /// least once per record-sized chunk.
    private static let writeChunk = 16_384

    /// Takes the socket over from `socket` (which can no longer be used) and prepares,
    /// but does not run, the handshake. On failure the socket is closed.
    init(upgrading socket: SocketStream, context: TLSContext, serverName: String?) throws {
        let descriptor = try socket.handOver()
        do {
            guard let number = descriptor.rawValue else {
                throw NetworkError(.streamClosed, "The connection was already closed.")
            }
            connection = try TLSConnection(context: context, fileDescriptor: number, serverName: serverName)
        } catch let error as TLSError {
            descriptor.close()
            throw NetworkError(error)
        } catch {
            descriptor.close()
            throw error
        }
        self.descriptor = descriptor
        peerAddress = socket.peerAddress
        localAddress = socket.localAddress
        readTimeout = socket.readTimeout
        writeTimeout = socket.writeTimeout
        lifetimeDeadline = socket.lifetimeDeadline
    }

    /// Runs the handshake within the context's handshake timeout. On failure the
    /// socket is closed and the error says why (`tlsPeerRejected` when a certificate
    /// or the server name was refused).
    func handshake() throws {
        do {
            try connection.handshake()
        } catch let error as TLSError {
            abort()
            throw NetworkError(error)
        }
    }

    public var isClosed: Bool { closed || descriptor.isClosed }

    public var tlsPeerChain: [Certificate] { connection.peerChain }
    public var tlsVersion: String? { connection.protocolVersion }
    public var tlsCipher: String? { connection.cipherSuite }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkOpen()
        let deadline = try OperationDeadline(timeout: readTimeout, lifetime: lifetimeDeadline)
        connection.ioTimeout = deadline.remaining
        do {
            return try connection.read(into: buffer)
        } catch let error as TLSError {
            throw error.code == .timedOut ? deadline.expired("TLS read") : NetworkError(error)
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try checkOpen()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + Self.writeChunk)
            let deadline = try OperationDeadline(timeout: writeTimeout, lifetime: lifetimeDeadline)
            connection.ioTimeout = deadline.remaining
            do {
                try connection.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            } catch let error as TLSError {
                throw error.code == .timedOut ? deadline.expired("TLS write") : NetworkError(error)
            }
            offset = end
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        if !descriptor.isClosed { connection.close() }
        descriptor.close()
    }

    /// Closes without close_notify, after a failed handshake.
    private func abort() {
        closed = true
        descriptor.close()
    }

    private func checkOpen() throws {
        guard !isClosed else { throw NetworkError(.streamClosed, "The TLS connection was already closed.") }
    }
}

extension SocketStream {
    /// Upgrades this plain connection to TLS on the same socket (STARTTLS, RFC 3207
    /// for SMTP) and runs the handshake: a client when `context` has the client role
    /// (then `serverName` is required and checked against the certificate), a server
    /// otherwise. This stream is unusable afterwards; use the returned one.
    ///
    /// Bytes already read from the socket into a buffer above this stream must be
    /// thrown away by the caller; `BufferedReader.startTLS` does that.
    /// On failure the connection is closed.
    public func startTLS(context: TLSContext, serverName: String? = nil) throws -> TLSStream {
        let stream = try TLSStream(upgrading: self, context: context, serverName: serverName)
        try stream.handshake()
        return stream
    }
}
