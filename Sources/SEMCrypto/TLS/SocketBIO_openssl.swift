// A socket BIO whose writes cannot raise SIGPIPE.
//
// OpenSSL's own socket BIO writes with write(2). When the peer has gone away (or the
// socket was shut down locally to unblock a reader), that write raises SIGPIPE, whose
// default action ends the whole process. This method copies the stock socket BIO and
// replaces only its write with send(2) and MSG_NOSIGNAL, which reports EPIPE instead.
// Reading, control (fd get/set, flush) and cleanup stay OpenSSL's.
import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

enum SocketBIO {
    /// The shared method; built once, never freed (OpenSSL keeps a pointer to it in every BIO).
    private static let method = SocketBIOMethod()

    /// Attaches a BIO of this kind for `fileDescriptor` to `ssl` for both directions.
    /// The BIO does not close the descriptor. Returns false when OpenSSL could not
    /// allocate the method or the BIO.
    static func attach(_ ssl: OpaquePointer, fileDescriptor: Int32) -> Bool {
        guard let pointer = method.pointer, let bio = BIO_new(pointer) else { return false }
        // BIO_set_fd is a macro over BIO_int_ctrl.
        _ = BIO_int_ctrl(bio, BIO_C_SET_FD, Int(BIO_NOCLOSE), fileDescriptor)
        SSL_set_bio(ssl, bio, bio)
        return true
    }
}

/// `@unchecked Sendable`: the BIO_METHOD is filled in completely in `init` and only read
/// afterwards, which OpenSSL allows from any thread.
private final class SocketBIOMethod: @unchecked Sendable {
    let pointer: OpaquePointer?

    init() {
        let base = BIO_s_socket()
        // BIO_TYPE_SOCKET is a composite macro: number 5, a source/sink, a descriptor.
        let socketType = 5 | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR
        guard let method = BIO_meth_new(socketType, "socket without SIGPIPE") else {
            pointer = nil
            return
        }
        _ = BIO_meth_set_write(method, { bio, data, length in socketBIOWrite(bio, data, length) })
        _ = BIO_meth_set_puts(method, { bio, text in
            guard let text else { return -1 }
            return socketBIOWrite(bio, text, Int32(clamping: strlen(text)))
        })
        _ = BIO_meth_set_read(method, BIO_meth_get_read(base))
        _ = BIO_meth_set_ctrl(method, BIO_meth_get_ctrl(base))
        _ = BIO_meth_set_create(method, BIO_meth_get_create(base))
        _ = BIO_meth_set_destroy(method, BIO_meth_get_destroy(base))
        pointer = method
    }
}

/// The stock socket write with send(MSG_NOSIGNAL): same retry-flag handling, so that
/// SSL_get_error still reports WANT_WRITE when the socket buffer is full.
private func socketBIOWrite(_ bio: OpaquePointer?, _ data: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    guard let bio, let data, length > 0 else { return 0 }
    var fileDescriptor: Int32 = -1
    // BIO_get_fd is a macro over BIO_ctrl.
    _ = BIO_ctrl(bio, BIO_C_GET_FD, 0, &fileDescriptor)
    errno = 0
    let written = Int32(truncatingIfNeeded: send(fileDescriptor, data, Int(length), Int32(MSG_NOSIGNAL)))
    // BIO_clear_retry_flags and BIO_set_retry_write are macros over BIO_clear_flags/BIO_set_flags.
    BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
    if written <= 0, BIO_sock_should_retry(written) != 0 {
        BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY)
    }
    return written
}
