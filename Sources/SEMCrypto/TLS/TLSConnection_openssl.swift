// One TLS session over a connected socket, driven with non-blocking I/O and poll(2)
// so that every step (handshake, read, write) has a deadline.
//
// A connection is used by one thread at a time; it is not Sendable. The caller owns
// the file descriptor and closes it after `close()`.
import COpenSSL
import CShims
public import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class TLSConnection {
    private let ssl: OpaquePointer
    private let state: TLSConnectionState
    public let context: TLSContext
    public let fileDescriptor: Int32
    /// Per-operation timeout for reads and writes after the handshake.
    public var ioTimeout: Duration

    /// Prepares TLS on `fileDescriptor`, which is switched to non-blocking mode.
    /// `serverName` (clients) is sent as SNI and must match the server certificate.
    public init(context: TLSContext, fileDescriptor: Int32, serverName: String? = nil) throws {
        if context.configuration.role == .client, serverName == nil {
            throw TLSError(.configurationInvalid, "A TLS client must name the server it expects.")
        }
        OpenSSL.clearErrors()
        guard let ssl = SSL_new(context.pointer) else {
            throw TLSError(.configurationInvalid, "OpenSSL could not create a TLS session.", detail: OpenSSL.drainErrors())
        }
        // Writes go through send(MSG_NOSIGNAL): a peer that has gone away must give an
        // error, not a SIGPIPE that ends the process (see SocketBIO_openssl.swift).
        guard SocketBIO.attach(ssl, fileDescriptor: fileDescriptor) else {
            SSL_free(ssl)
            throw TLSError(.configurationInvalid, "OpenSSL could not attach the socket to the TLS session.",
                           detail: OpenSSL.drainErrors())
        }
        self.ssl = ssl
        self.context = context
        self.fileDescriptor = fileDescriptor
        self.ioTimeout = context.configuration.ioTimeout
        self.state = TLSConnectionState(verifier: context.configuration.peerVerifier,
                                        expectedHostName: context.configuration.role == .client ? serverName : nil)
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(state).toOpaque())
        let flags = fcntl(fileDescriptor, F_GETFL)
        _ = fcntl(fileDescriptor, F_SETFL, flags | O_NONBLOCK)
        if context.configuration.role == .client {
            SSL_set_connect_state(ssl)
            if let serverName { _ = sem_SSL_set_tlsext_host_name(ssl, serverName) }
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    /// Runs the handshake within the configured handshake timeout.
    public func handshake() throws {
        let deadline = ContinuousClock.now + context.configuration.handshakeTimeout
        try drive(deadline: deadline, what: "handshake") { SSL_do_handshake(ssl) }
    }

    /// Reads up to `buffer.count` bytes. Returns 0 when the peer closed the session.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        let deadline = ContinuousClock.now + ioTimeout
        var count = 0
        do {
            try drive(deadline: deadline, what: "read") { SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count) }
        } catch let error as TLSError where error.code == .connectionClosed {
            return 0
        }
        return count
    }

    /// Reads up to `maximum` bytes into a new `Data`; empty at end of stream.
    public func read(maximum: Int = 16_384) throws -> Data {
        var storage = Data(count: maximum)
        let count = try storage.withUnsafeMutableBytes { try read(into: $0) }
        storage.removeSubrange(count...)
        return storage
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let deadline = ContinuousClock.now + ioTimeout
            var written = 0
            try drive(deadline: deadline, what: "write") {
                SSL_write_ex(ssl, bytes.baseAddress! + offset, bytes.count - offset, &written)
            }
            offset += written
        }
    }

    public func write(_ data: some DataProtocol) throws {
        let bytes = Array(data)
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Sends close_notify (best effort, bounded by a short deadline).
    public func close() {
        let deadline = ContinuousClock.now + .seconds(1)
        try? drive(deadline: deadline, what: "shutdown") { max(SSL_shutdown(ssl), 1) }
    }

    /// The peer's certificate followed by the intermediates it sent, as verified.
    public var peerChain: [Certificate] { state.peerChain }

    public var peerCertificate: Certificate? { state.peerChain.first }

    /// "TLSv1.3" or "TLSv1.2".
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    public var cipherSuite: String {
        guard let cipher = SSL_get_current_cipher(ssl) else { return "" }
        return String(cString: SSL_CIPHER_get_name(cipher))
    }

    /// Repeats `operation` until it succeeds, waiting with poll(2) on WANT_READ and
    /// WANT_WRITE, and maps failures to `TLSError`.
    private func drive(deadline: ContinuousClock.Instant, what: String, _ operation: () -> Int32) throws {
        while true {
            OpenSSL.clearErrors()
            let result = operation()
            if result > 0 { return }
            let failure = SSL_get_error(ssl, result)
            switch failure {
            case SSL_ERROR_WANT_READ: try wait(for: Int16(POLLIN), until: deadline, what: what)
            case SSL_ERROR_WANT_WRITE: try wait(for: Int16(POLLOUT), until: deadline, what: what)
            case SSL_ERROR_ZERO_RETURN:
                throw TLSError(.connectionClosed, "The peer closed the TLS session.")
            case SSL_ERROR_SYSCALL:
                // errno first: building the detail string may overwrite it.
                let code = errno
                let detail = OpenSSL.drainErrors()
                if code == 0 || code == ECONNRESET || code == EPIPE {
                    throw TLSError(.connectionClosed, "The peer closed the connection during the \(what).", detail: detail)
                }
                throw TLSError(.ioFailed, "The \(what) failed: \(String(cString: strerror(code))).", detail: detail)
            default:
                let detail = OpenSSL.drainErrors()
                if let rejection = state.rejection {
                    throw TLSError(.peerRejected, "The peer's certificate was refused: \(rejection)", detail: detail)
                }
                throw TLSError(what == "handshake" ? .handshakeFailed : .ioFailed,
                               "The TLS \(what) failed.", detail: detail)
            }
        }
    }

    private func wait(for events: Int16, until deadline: ContinuousClock.Instant, what: String) throws {
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                throw TLSError(.timedOut, "The TLS \(what) did not complete in time.")
            }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000
                                     + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: fileDescriptor, events: events, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR {
                throw TLSError(.ioFailed, "Waiting for the socket failed: \(String(cString: strerror(errno))).")
            }
        }
    }
}
