// Patterns of the policy language: domains, mail addresses and media types. Each is
// checked when the policy is read, stored lower-cased, and matched without allocating.
//
// Limitations, on purpose: address patterns have no quoted local parts (RFC 5321
// section 4.1.2) and compare local parts without regard to case, which is what almost
// every mail system does in practice; domain names are ASCII (IDNs in A-label form).

/// A reason why a pattern was refused; turned into a `PolicyError` with its path.
struct PatternFault: Error {
    let reason: String

    /// Builds a checked value with `make`, reporting a refusal as a `PolicyError` at `path`.
    static func checking<T>(_ text: String, at path: String, _ make: (String) throws -> T) throws -> T {
        do { return try make(text) } catch let fault as PatternFault {
            throw PolicyError(.invalidValue, at: path, fault.reason)
        }
    }

    /// Decodes a checked value written as one JSON string.
    static func decoding<T>(_ decoder: any Decoder, _ make: (String) throws -> T) throws -> T {
        try checking(try decoder.singleValueContainer().decode(String.self), at: decoder.path, make)
    }
}

/// Host name rules of RFC 1123 section 2.1: labels of 1-63 letters, digits and hyphens,
/// not starting or ending with a hyphen; at most 253 characters in all.
enum HostName {
    static func check(_ name: String) throws {
        guard !name.isEmpty else { throw PatternFault(reason: "the domain name is empty") }
        guard name.utf8.count <= 253 else {
            throw PatternFault(reason: "the domain name is longer than 253 characters")
        }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw PatternFault(reason: "\"\(name)\" has an empty label or one longer than 63 characters")
            }
            guard label.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }),
                  label.utf8.first != UInt8(ascii: "-"), label.utf8.last != UInt8(ascii: "-")
            else {
                throw PatternFault(reason: "\"\(name)\" is not a domain name (letters, digits and inner hyphens only)")
            }
        }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

/// A domain (`alpha.test`) or every domain below one (`*.alpha.test`, which does not
/// match `alpha.test` itself).
public struct DomainPattern: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The pattern as written, lower-cased.
    public let text: String
    /// For `*.alpha.test`: ".alpha.test"; nil for an exact name.
    let suffix: String?

    public init(_ text: String) throws {
        self = try PatternFault.checking(text, at: "$", Self.init(checking:))
    }

    init(checking raw: String) throws {
        let text = raw.lowercased()
        if text.hasPrefix("*.") {
            let base = String(text.dropFirst(2))
            try HostName.check(base)
            suffix = "." + base
        } else {
            if text.contains("*") {
                throw PatternFault(
                    reason: "\"\(raw)\" is not a domain pattern; a wildcard may only be a leading \"*.\"")
            }
            try HostName.check(text)
            suffix = nil
        }
        self.text = text
    }

    /// `domain` must already be lower-cased.
    public func matches(_ domain: String) -> Bool {
        if let suffix { return domain.hasSuffix(suffix) }
        return domain == text
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

/// A mail address (`alice@alpha.test`) or every address in a domain pattern
/// (`*@alpha.test`, `*@*.alpha.test`). Compared without regard to case.
public struct AddressPattern: Sendable, Hashable, Codable, CustomStringConvertible {
    public let text: String
    /// The exact address, or nil for a wildcard local part.
    let exact: String?
    /// The domain part.
    let domain: DomainPattern

    public init(_ text: String) throws {
        self = try PatternFault.checking(text, at: "$", Self.init(checking:))
    }

    init(checking raw: String) throws {
        let text = raw.lowercased()
        guard let at = text.lastIndex(of: "@") else {
            throw PatternFault(reason: "\"\(raw)\" is not an address pattern like alice@alpha.test or *@alpha.test")
        }
        let local = String(text[..<at])
        let domainText = String(text[text.index(after: at)...])
        if local == "*" {
            domain = try DomainPattern(checking: domainText)
            exact = nil
        } else {
            try MailAddress.checkLocalPart(local, in: raw)
            if domainText.contains("*") {
                throw PatternFault(reason: "\"\(raw)\": an exact address cannot have a wildcard domain")
            }
            domain = try DomainPattern(checking: domainText)
            exact = text
        }
        self.text = text
    }

    /// `address` and `addressDomain` must already be lower-cased.
    public func matches(address: String, addressDomain: String) -> Bool {
        if let exact { return address == exact }
        return domain.matches(addressDomain)
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

/// Mail addresses in requests: `local@domain`, unquoted local part.
enum MailAddress {
    /// Returns the lower-cased address and its domain.
    static func normalise(_ raw: String) throws -> (address: String, domain: String) {
        let text = raw.lowercased()
        guard let at = text.lastIndex(of: "@") else {
            throw PatternFault(reason: "\"\(raw)\" is not a mail address like alice@alpha.test")
        }
        let local = String(text[..<at])
        let domain = String(text[text.index(after: at)...])
        try checkLocalPart(local, in: raw)
        try HostName.check(domain)
        return (text, domain)
    }

    /// Dot-atom text of RFC 5322 section 3.2.3, at most 64 octets (RFC 5321 section 4.5.3.1.1).
    private static let punctuation = Set("!#$%&'+-/=?^_`{|}~.".utf8)

    static func checkLocalPart(_ local: String, in raw: String) throws {
        let allowedPunctuation = punctuation
        guard !local.isEmpty, local.utf8.count <= 64,
              local.utf8.allSatisfy({ HostName.isAlphanumeric($0) || allowedPunctuation.contains($0) }),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..")
        else {
            throw PatternFault(
                reason: "\"\(raw)\" has a local part that is not a plain dot-atom of at most 64 characters")
        }
    }
}
