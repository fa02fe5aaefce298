// Finding free TCP ports on the loopback interface, for programs (the loopback demo,
// tests) that must write a port into configuration before the server starts.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum EphemeralPorts {
    /// `count` distinct ports that were free a moment ago: each is bound to port 0 on
    /// 127.0.0.1, read back and released. Another process could take one in between;
    /// the caller's bind then fails with a clear error rather than misbehaving.
    public static func reserve(_ count: Int) throws -> [UInt16] {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        var ports: [UInt16] = []
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else {
                throw NetworkError(.bindFailed, "Could not create a socket to find a free port.")
            }
            descriptors.append(descriptor)
            var address = loopback(port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
            }
            guard bound == 0 else { throw NetworkError(.bindFailed, "Could not bind a socket to find a free port.") }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return ports
    }

    /// Whether a server could listen on `port` of 127.0.0.1 right now. The probe sets
    /// SO_REUSEADDR as `Listener` does, so a port with connections left in TIME_WAIT
    /// counts as free (the server would bind it), while one that something listens on
    /// does not (Linux refuses that bind even with SO_REUSEADDR).
    public static func isFree(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return bound == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}
