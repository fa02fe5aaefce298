// Client networks for the `clientNetworks` condition: IPv4 and IPv6 prefixes in CIDR
// notation (RFC 4632, RFC 4291 section 2.3), parsed with inet_pton.
//
// Limitation: an IPv4 prefix does not match an IPv4-mapped IPv6 address
// (::ffff:192.0.2.1); callers pass IPv4 clients in dotted form.
import Foundation

/// An IP address as its network-order bytes (4 or 16 of them).
struct IPAddress: Hashable, Sendable {
    let bytes: [UInt8]

    init?(_ text: String) {
        guard text.utf8.count <= 45 else { return nil }
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        }
    }
}

/// A network such as `192.0.2.0/24` or `2001:db8::/32`; a bare address means that
/// address alone. Host bits below the prefix must be zero, which catches typing errors.
public struct NetworkPattern: Sendable, Hashable, Codable, CustomStringConvertible {
    public let text: String
    let network: IPAddress
    let prefixLength: Int

    public init(_ text: String) throws {
        self = try PatternFault.checking(text, at: "$", Self.init(checking:))
    }

    init(checking text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else {
            throw PatternFault(reason: "\"\(text)\" is not a network like 192.0.2.0/24 or 2001:db8::/32")
        }
        let bits = address.bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...bits).contains(value), parts[1].first != "+" else {
                throw PatternFault(reason: "\"\(text)\" has a prefix length outside 0...\(bits)")
            }
            length = value
        }
        for bit in length..<bits where address.bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
            throw PatternFault(reason: "\"\(text)\" has address bits set beyond its /\(length) prefix")
        }
        self.text = text
        self.network = address
        self.prefixLength = length
    }

    func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixLength
        var index = 0
        while remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if address.bytes[index] & mask != network.bytes[index] { return false }
            remaining -= 8
            index += 1
        }
        return true
    }

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        self = try PatternFault.decoding(decoder, Self.init(checking:))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
