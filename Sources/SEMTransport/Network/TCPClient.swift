// Outgoing TCP connections: resolve, then try each address with a non-blocking
// connect(2) bounded by poll(2), and optionally run a TLS handshake on the result.
public import SEMCrypto
#if canImport(Glibc)
import Glibc
#endif

/// Opens client connections. Blocking: call from a thread, not from an async task.
public enum TCPClient {
    /// Connects to `host` (a name or a numeric address) on `port`. Addresses are tried
    /// in the order the resolver returns them, all within the one `timeout`. The
    /// stream's read and write timeouts start out equal to `ioTimeout`.
    ///
    /// Throws `invalidArgument` for port 0, `resolveFailed` when the name has no
    /// address, `timedOut` when the time ran out, `connectFailed` otherwise.
    public static func connect(host: String, port: UInt16, timeout: Duration = .seconds(10),
                               ioTimeout: Duration = .seconds(60)) throws -> SocketStream {
        guard port != 0 else { throw NetworkError(.invalidArgument, "Port 0 cannot be connected to.") }
        let addresses = try Resolver.resolve(host: host, port: port, passive: false)
        let deadline = try OperationDeadline(timeout: timeout, lifetime: nil)
        var lastError = NetworkError(.connectFailed, "No address of \(host) could be tried.")
        for address in addresses {
            do {
                let descriptor = try connect(to: address, deadline: deadline)
                return SocketStream(descriptor: descriptor, timeout: ioTimeout)
            } catch let error as NetworkError {
                lastError = error
                if error.code == .timedOut { break }
            }
        }
        if lastError.code == .timedOut {
            throw NetworkError(.timedOut, "Connecting to \(host) port \(port) did not complete in time.")
        }
        throw NetworkError(.connectFailed, "Could not connect to \(host) port \(port).",
                           detail: lastError.detail ?? lastError.reason)
    }

    /// Connects and runs a TLS client handshake with `context` (client role). The server
    /// certificate must be valid for `serverName`, which defaults to `host`.
    public static func connectTLS(host: String, port: UInt16, context: TLSContext, serverName: String? = nil,
                                  timeout: Duration = .seconds(10),
                                  ioTimeout: Duration = .seconds(60)) throws -> TLSStream {
        let plain = try connect(host: host, port: port, timeout: timeout, ioTimeout: ioTimeout)
        return try plain.startTLS(context: context, serverName: serverName ?? host)
    }

    /// One non-blocking connect attempt; the socket is closed on failure.
    private static func connect(to address: ResolvedAddress, deadline: OperationDeadline) throws -> SocketDescriptor {
        let number = socket(address.family, address.socketType | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
                            address.socketProtocol)
        guard number >= 0 else {
            throw NetworkError.system(.connectFailed, "A socket could not be created.", errno: errno)
        }
        let descriptor = SocketDescriptor(number)
        SocketOptions.setNoDelay(number)
        let result = address.withSocketAddress { Glibc.connect(number, $0, $1) }
        // EINTR leaves the connection going on in the background, like EINPROGRESS.
        if result != 0, errno != EINPROGRESS, errno != EINTR {
            let code = errno
            descriptor.close()
            throw NetworkError.system(.connectFailed, "The connection was refused or the address is unreachable.",
                                      errno: code)
        }
        if result != 0 {
            do {
                try deadline.wait(number, for: Int32(POLLOUT), "connect")
            } catch {
                descriptor.close()
                throw error
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            let status = getsockopt(number, SOL_SOCKET, SO_ERROR, &failure, &length)
            if status != 0 || failure != 0 {
                descriptor.close()
                throw NetworkError.system(.connectFailed, "The connection was refused or the address is unreachable.",
                                          errno: status != 0 ? errno : failure)
            }
        }
        return descriptor
    }
}
