// Socket addresses as plain values, and name resolution with getaddrinfo(3).
//
// Known limitation: getaddrinfo blocks and has no timeout of its own, so a slow DNS
// server delays `TCPClient.connect` beyond its connect timeout. Servers in this system
// address each other through the trust list and mostly use literal addresses.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A numeric host and a port, e.g. `127.0.0.1:25` or `[::1]:443`.
public struct NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    /// The numeric address (IPv4 dotted quad or IPv6 text form).
    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Reads a socket address filled in by accept(2), getpeername(2) or getsockname(2).
    init?(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let result = getnameinfo(address, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                                 NI_NUMERICHOST | NI_NUMERICSERV)
        guard result == 0, let port = UInt16(Self.text(service)) else { return nil }
        self.init(host: Self.text(host), port: port)
    }

    /// A NUL-terminated C buffer as text.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address of the other end of a connected socket.
    static func peer(of fileDescriptor: Int32) -> NetworkAddress? {
        query(fileDescriptor) { getpeername($0, $1, $2) }
    }

    /// The local address a socket is bound to.
    static func local(of fileDescriptor: Int32) -> NetworkAddress? {
        query(fileDescriptor) { getsockname($0, $1, $2) }
    }

    private static func query(
        _ fileDescriptor: Int32,
        _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> NetworkAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                guard call(fileDescriptor, address, &length) == 0 else { return nil }
                return NetworkAddress(address, length: length)
            }
        }
    }
}

/// One result of name resolution, ready for socket(2) and connect(2)/bind(2).
struct ResolvedAddress {
    let family: Int32
    let socketType: Int32
    let socketProtocol: Int32
    var storage: sockaddr_storage
    let length: socklen_t

    /// Calls `body` with the address as the `sockaddr` pointer the system calls take.
    func withSocketAddress<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

enum Resolver {
    /// Longest host accepted: a DNS name is at most 253 characters (RFC 1035 §2.3.4).
    static let maximumHostLength = 253

    /// Resolves `host` for a TCP socket, in the order getaddrinfo prefers.
    /// `passive` asks for addresses to bind to rather than connect to.
    static func resolve(host: String, port: UInt16, passive: Bool) throws -> [ResolvedAddress] {
        guard !host.isEmpty, host.utf8.count <= maximumHostLength, !host.utf8.contains(0) else {
            throw NetworkError(.invalidArgument, "The host name is empty, too long or contains a NUL character.")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let text = status == EAI_SYSTEM ? SystemError.text(errno) : String(cString: gai_strerror(status))
            throw NetworkError(.resolveFailed, "The host name \(host) could not be resolved.", detail: text)
        }
        defer { freeaddrinfo(first) }

        var results: [ResolvedAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor?.pointee {
            cursor = entry.ai_next
            guard let address = entry.ai_addr,
                  Int(entry.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size else { continue }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(entry.ai_addrlen)))
            }
            results.append(ResolvedAddress(family: entry.ai_family, socketType: entry.ai_socktype,
                                           socketProtocol: entry.ai_protocol, storage: storage,
                                           length: entry.ai_addrlen))
        }
        guard !results.isEmpty else {
            throw NetworkError(.resolveFailed, "The host name \(host) has no usable address.")
        }
        return results
    }
}
