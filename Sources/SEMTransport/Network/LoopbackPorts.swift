// Finding free TCP ports on the loopback interface, for programs (the loopback demo,
// tests) that must write a port into configuration before the server starts.
//
// The ports come from below the kernel's ephemeral range on purpose. A port that the
// kernel hands out for bind(0) is released again before the server binds it, and in that
// gap every outgoing connection on the machine (curl, openssl, our own clients) may be
// given the same number as its local port; the server's bind then fails. Ports below
// the range are never chosen for outgoing connections, so only another listener can
// take one, and within one process a shared cursor keeps two callers apart.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum LoopbackPorts {
    /// The lowest port handed out; below it sit many well-known services.
    static let floor = 20_000

    /// Where the next search starts: a random point per process, so that two processes
    /// (a test run and a demo it starts) search different stretches.
    private static let cursor = Mutex<Int?>(nil)

    /// `count` distinct ports that nothing listened on a moment ago, outside the kernel's
    /// ephemeral range where the system allows it (otherwise from that range, as
    /// bind(0) finds them). Another listener could still take one before its caller
    /// binds it; that bind then fails with a clear error rather than misbehaving.
    public static func reserve(_ count: Int) throws -> [UInt16] {
        let ephemeralStart = ephemeralRange().lowerBound
        guard ephemeralStart - floor >= 4 * count else { return try kernelChosen(count) }
        let span = ephemeralStart - floor
        var ports: [UInt16] = []
        var tried = 0
        while ports.count < count {
            guard tried < span else {
                throw NetworkError(.bindFailed, "Found no free port on 127.0.0.1 between \(floor) and \(ephemeralStart - 1).")
            }
            let candidate = cursor.withLock { cursor -> Int in
                let next = cursor ?? Int.random(in: 0..<span)
                cursor = (next + 1) % span
                return floor + next
            }
            tried += 1
            if isFree(UInt16(candidate)) { ports.append(UInt16(candidate)) }
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

    /// The kernel's range for the local ports of outgoing connections
    /// (net.ipv4.ip_local_port_range); Linux's default where it cannot be read.
    static func ephemeralRange() -> ClosedRange<Int> {
        let fallback = 32_768...60_999
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        else { return fallback }
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard numbers.count == 2, numbers[0] <= numbers[1] else { return fallback }
        return numbers[0]...numbers[1]
    }

    /// Ports the kernel picks for bind(0), each bound at once and released together.
    private static func kernelChosen(_ count: Int) throws -> [UInt16] {
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

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}
