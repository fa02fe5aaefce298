// Plain TCP as a `ByteStream`: a non-blocking socket, poll(2) for every wait, signals
// retried, and no SIGPIPE (MSG_NOSIGNAL on Linux, SO_NOSIGPIPE elsewhere).
import Foundation
public import SEMCrypto
#if canImport(Glibc)
import Glibc
#endif

/// A connected TCP socket. Made by `TCPClient.connect` and by `Listener` for each
/// accepted connection; `startTLS` turns it into a `TLSStream` on the same socket.
public final class SocketStream: ByteStream {
    let descriptor: SocketDescriptor
    public let peerAddress: NetworkAddress?
    /// The local end of the connection.
    public let localAddress: NetworkAddress?
    public var readTimeout: Duration
    public var writeTimeout: Duration
    public var lifetimeDeadline: ContinuousClock.Instant?
    /// Set when the socket was handed to TLS; from then on this object does no I/O.
    private(set) var isHandedOver = false

    /// Takes ownership of a connected socket and switches it to non-blocking mode.
    init(descriptor: SocketDescriptor, timeout: Duration) {
        self.descriptor = descriptor
        let number = descriptor.rawValue ?? -1
        if number >= 0 {
            SocketOptions.setNonBlocking(number)
            SocketOptions.setNoSigPipe(number)
        }
        peerAddress = NetworkAddress.peer(of: number)
        localAddress = NetworkAddress.local(of: number)
        readTimeout = timeout
        writeTimeout = timeout
    }

    public var isClosed: Bool { isHandedOver || descriptor.isClosed }

    public var tlsPeerChain: [Certificate] { [] }
    public var tlsVersion: String? { nil }
    public var tlsCipher: String? { nil }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let socket = try usableDescriptor()
        guard buffer.count > 0 else { return 0 }
        let deadline = try OperationDeadline(timeout: readTimeout, lifetime: lifetimeDeadline)
        while true {
            let count = recv(socket, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                try deadline.wait(socket, for: Int32(POLLIN), "read")
            case ECONNRESET:
                throw NetworkError(.connectionClosed, "The peer reset the connection.")
            case let code:
                throw NetworkError.system(.ioFailed, "Reading from the connection failed.", errno: code)
            }
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        let socket = try usableDescriptor()
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        // The deadline restarts after each partial write: the timeout bounds a stall,
        // the lifetime bounds the whole.
        var deadline = try OperationDeadline(timeout: writeTimeout, lifetime: lifetimeDeadline)
        while offset < bytes.count {
            let count = send(socket, base + offset, bytes.count - offset, SocketOptions.sendFlags)
            if count > 0 {
                offset += count
                if offset < bytes.count {
                    deadline = try OperationDeadline(timeout: writeTimeout, lifetime: lifetimeDeadline)
                }
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                try deadline.wait(socket, for: Int32(POLLOUT), "write")
            case EPIPE, ECONNRESET:
                throw NetworkError(.connectionClosed, "The peer closed the connection before all data was sent.")
            case let code:
                throw NetworkError.system(.ioFailed, "Writing to the connection failed.", errno: code)
            }
        }
    }

    public func close() {
        guard !isHandedOver else { return }
        descriptor.close()
    }

    /// Hands the socket over (to TLS). Afterwards this stream refuses all I/O and its
    /// `close()` no longer touches the socket.
    func handOver() throws -> SocketDescriptor {
        _ = try usableDescriptor()
        isHandedOver = true
        return descriptor
    }

    private func usableDescriptor() throws -> Int32 {
        guard !isHandedOver else {
            throw NetworkError(.streamClosed, "The plain stream was handed over to TLS and cannot be used.")
        }
        guard let number = descriptor.rawValue else {
            throw NetworkError(.streamClosed, "The connection was already closed.")
        }
        return number
    }
}
