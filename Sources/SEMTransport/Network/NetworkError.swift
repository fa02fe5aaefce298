// The one error type of the socket layer: plain TCP, TLS streams, client and listener.
// TLS failures from SEMCrypto are mapped onto it so that code driving a `ByteStream`
// handles one type whatever the stream is.
import SEMCrypto

/// A network failure. Codes are stable; the reason is a sentence for a person; the
/// detail carries what the system or OpenSSL said, when that helps an operator.
public struct NetworkError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// A host, port or limit that cannot be used (caller's mistake).
        case invalidArgument = "net-invalid-argument"
        /// The host name did not resolve to any address.
        case resolveFailed = "net-resolve-failed"
        /// No address accepted the connection (refused, unreachable).
        case connectFailed = "net-connect-failed"
        /// The listening socket could not be created or bound.
        case bindFailed = "net-bind-failed"
        /// One operation (connect, read, write) did not complete within its timeout.
        case timedOut = "net-timeout"
        /// The connection reached its total lifetime limit; no further I/O is done.
        case lifetimeExceeded = "net-lifetime-exceeded"
        /// The peer closed or reset the connection while we were writing.
        case connectionClosed = "net-connection-closed"
        /// This stream was closed locally, or handed over to TLS, and cannot be used.
        case streamClosed = "net-stream-closed"
        /// A system call failed for another reason.
        case ioFailed = "net-io-failed"
        /// The TLS handshake failed (protocol, version or alert).
        case tlsHandshakeFailed = "net-tls-handshake-failed"
        /// The peer's certificate chain or name was refused.
        case tlsPeerRejected = "net-tls-peer-rejected"
        /// TLS failed after the handshake (bad record, alert, truncation).
        case tlsFailed = "net-tls-failed"
    }

    public let code: Code
    public let reason: String
    public let detail: String?

    public init(_ code: Code, _ reason: String, detail: String? = nil) {
        self.code = code
        self.reason = reason
        self.detail = (detail?.isEmpty ?? true) ? nil : detail
    }

    /// An error for a failed system call, with the text of `errno` as detail.
    static func system(_ code: Code, _ reason: String, errno number: Int32) -> NetworkError {
        NetworkError(code, reason, detail: SystemError.text(number))
    }

    /// Maps a TLS failure from SEMCrypto onto the matching network code.
    init(_ tls: TLSError) {
        let mapped: Code
        switch tls.code {
        case .configurationInvalid: mapped = .invalidArgument
        case .handshakeFailed: mapped = .tlsHandshakeFailed
        case .peerRejected: mapped = .tlsPeerRejected
        case .timedOut: mapped = .timedOut
        case .connectionClosed: mapped = .connectionClosed
        case .ioFailed: mapped = .tlsFailed
        }
        self.init(mapped, tls.reason, detail: tls.detail)
    }

    public var description: String {
        if let detail { return "\(code.rawValue): \(reason) (\(detail))" }
        return "\(code.rawValue): \(reason)"
    }

    /// Errors compare by code only, so tests and callers can match on the class of failure.
    public static func == (lhs: NetworkError, rhs: NetworkError) -> Bool { lhs.code == rhs.code }
}
