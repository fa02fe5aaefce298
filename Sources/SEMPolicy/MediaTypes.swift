// Media types (RFC 6838) in attachment rules and the allowed-media-types obligation,
// and certificate policy object identifiers.

/// A media type (`application/pdf`), every subtype of a type (`image/*`) or any type
/// (`*/*`). Names follow RFC 6838 section 4.2 and compare without regard to case.
public struct MediaTypePattern: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Lower-cased type, or nil for `*`.
    let type: String?
    /// Lower-cased subtype, or nil for `*`.
    let subtype: String?

    public init(_ text: String) throws {
        self = try PatternFault.checking(text, at: "$", Self.init(checking:))
    }

    init(checking raw: String) throws {
        let parts = raw.lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw PatternFault(reason: "\"\(raw)\" is not a media type pattern like image/png, image/* or */*")
        }
        let type = String(parts[0])
        let subtype = String(parts[1])
        if type == "*" {
            guard subtype == "*" else {
                throw PatternFault(reason: "\"\(raw)\": a wildcard type needs a wildcard subtype (*/*)")
            }
            self.type = nil
            self.subtype = nil
            return
        }
        guard MediaType.isName(type) else { throw PatternFault(reason: "\"\(raw)\" has an invalid type name") }
        guard subtype == "*" || MediaType.isName(subtype) else {
            throw PatternFault(reason: "\"\(raw)\" has an invalid subtype name")
        }
        self.type = type
        self.subtype = subtype == "*" ? nil : subtype
    }

    init(type: String?, subtype: String?) {
        self.type = type
        self.subtype = subtype
    }

    /// `mediaType` is a normalised request media type.
    func matches(_ mediaType: MediaType) -> Bool {
        if let type, type != mediaType.type { return false }
        if let subtype, subtype != mediaType.subtype { return false }
        return true
    }

    /// The media types both patterns accept, if any: `image/*` and `image/png` give
    /// `image/png`; `image/png` and `text/plain` give nothing.
    func intersection(_ other: MediaTypePattern) -> MediaTypePattern? {
        func meet(_ a: String?, _ b: String?) -> (ok: Bool, value: String?) {
            switch (a, b) {
            case (nil, _): return (true, b)
            case (_, nil): return (true, a)
            case let (x?, y?): return (x == y, x)
            }
        }
        let t = meet(type, other.type)
        let s = meet(subtype, other.subtype)
        guard t.ok, s.ok else { return nil }
        // `*/png` is not a pattern: a concrete subtype needs a concrete type.
        if t.value == nil, s.value != nil { return nil }
        return MediaTypePattern(type: t.value, subtype: s.value)
    }

    /// True when every type this pattern accepts is also accepted by `other`.
    func isCovered(by other: MediaTypePattern) -> Bool {
        intersection(other) == self
    }

    public var description: String { "\(type ?? "*")/\(subtype ?? "*")" }

    public init(from decoder: any Decoder) throws {
        self = try PatternFault.decoding(decoder, Self.init(checking:))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension MediaTypePattern {
    /// Whether the media type `text` (parameters ignored) matches; false when `text` is
    /// not a media type at all.
    public func matches(mediaType text: String) -> Bool {
        guard let type = try? MediaType(parsing: text) else { return false }
        return matches(type)
    }
}

/// A concrete media type from a request, lower-cased, parameters removed.
struct MediaType: Hashable, Sendable, CustomStringConvertible {
    let type: String
    let subtype: String

    /// Parses `type/subtype` with optional `; parameters` (RFC 2045 section 5.1).
    init(parsing raw: String) throws {
        let essence = raw.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = essence.trimmingSpaces().lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, MediaType.isName(String(parts[0])), MediaType.isName(String(parts[1])) else {
            throw PatternFault(reason: "\"\(raw)\" is not a media type like application/pdf")
        }
        type = String(parts[0])
        subtype = String(parts[1])
    }

    var description: String { "\(type)/\(subtype)" }

    /// restricted-name of RFC 6838 section 4.2: 1-127 characters, starting alphanumeric.
    private static let punctuation = Set("!#$&-^_.+".utf8)

    static func isName(_ name: String) -> Bool {
        guard let first = name.utf8.first, HostName.isAlphanumeric(first), name.utf8.count <= 127 else { return false }
        return name.utf8.allSatisfy { HostName.isAlphanumeric($0) || punctuation.contains($0) }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var slice = self
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}

/// A certificate policy object identifier in dotted decimal (RFC 5280 section 4.2.1.4),
/// e.g. `1.3.6.1.4.1.55555.1.2`.
public struct PolicyOID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) throws {
        self = try PatternFault.checking(text, at: "$", Self.init(checking:))
    }

    init(checking text: String) throws {
        let arcs = text.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed = arcs.count >= 2 && arcs.count <= 64 && arcs.allSatisfy { arc in
            !arc.isEmpty && arc.count <= 20
                && arc.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
                && (arc == "0" || arc.first != "0")
        }
        guard wellFormed, ["0", "1", "2"].contains(arcs[0]) else {
            throw PatternFault(
                reason: "\"\(text)\" is not an object identifier in dotted decimal like 1.3.6.1.4.1.55555.1")
        }
        self.text = text
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
