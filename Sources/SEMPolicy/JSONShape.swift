// A strict syntax check of JSON text (RFC 8259) that runs before Foundation's decoder.
//
// JSONDecoder accepts an object that holds the same member twice and keeps one of them
// silently; a policy reviewer and the engine could then read different rules from one
// file. It also reports syntax errors without a position. This pass walks the text once,
// refuses duplicate members, enforces the size limits (depth, string length, list
// length) and names the JSON path and byte offset of any fault. It builds no tree: the
// typed decoding that follows does that.

/// Bounds on JSON input.
public struct JSONLimits: Sendable, Equatable {
    /// Largest input in bytes.
    public var maxBytes: Int
    /// Deepest nesting of objects and arrays (the top-level value is depth 1).
    public var maxDepth: Int
    /// Longest string, in UTF-8 bytes before unescaping.
    public var maxStringBytes: Int
    /// Most elements in one array or members in one object.
    public var maxItems: Int

    public init(maxBytes: Int, maxDepth: Int, maxStringBytes: Int, maxItems: Int) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxItems = maxItems
    }
}

/// The members objects may have, for inputs whose shape is fixed (decision requests).
/// Checking them during the syntax pass spares the typed decoding a second look at
/// every object, which costs about a third of the decoding time.
indirect enum JSONSchema: Sendable {
    /// Anything goes below here (or the typed decoding checks it).
    case any
    /// An object with exactly these possible members, in the order errors list them.
    case object([(name: String, schema: JSONSchema)])
    /// An array whose elements follow the schema.
    case array(JSONSchema)

    func member(_ name: String) -> JSONSchema? {
        guard case .object(let members) = self else { return .any }
        return members.first { $0.name == name }?.schema
    }

    var element: JSONSchema {
        if case .array(let element) = self { return element }
        return .any
    }

    /// The schema of an object whose members are the cases of `K`, with the given
    /// schemas for some of them (the rest are `.any`).
    static func object<K: CodingKey & CaseIterable>(_ keys: K.Type,
                                                    _ nested: [String: JSONSchema] = [:]) -> JSONSchema {
        .object(K.allCases.map { ($0.stringValue, nested[$0.stringValue] ?? .any) })
    }
}

struct JSONShape {
    private let bytes: [UInt8]
    private let limits: JSONLimits
    private var offset = 0
    private var path: [AnyKey] = []

    /// Throws `PolicyError` unless `bytes` is one well-formed JSON value within `limits`
    /// whose objects have only the members `schema` allows.
    static func check(_ bytes: [UInt8], limits: JSONLimits, schema: JSONSchema = .any) throws {
        guard bytes.count <= limits.maxBytes else {
            throw PolicyError(.tooLarge, at: "$",
                              "the input has \(bytes.count) bytes; at most \(limits.maxBytes) are accepted")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw PolicyError(.malformedJSON, at: "$", "the input is not valid UTF-8")
        }
        var scanner = JSONShape(bytes: bytes, limits: limits)
        scanner.skipWhitespace()
        try scanner.value(depth: 1, schema: schema)
        scanner.skipWhitespace()
        if scanner.offset != bytes.count {
            throw scanner.malformed("unexpected text after the end of the JSON value")
        }
    }

    private init(bytes: [UInt8], limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    // MARK: Values

    private mutating func value(depth: Int, schema: JSONSchema) throws {
        guard offset < bytes.count else { throw malformed("the input ends where a value is expected") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            try checkDepth(depth)
            try object(depth: depth, schema: schema)
        case UInt8(ascii: "["):
            try checkDepth(depth)
            try array(depth: depth, schema: schema.element)
        case UInt8(ascii: "\""):
            _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw malformed("a value cannot start with \(shown(bytes[offset]))")
        }
    }

    private func checkDepth(_ depth: Int) throws {
        if depth > limits.maxDepth {
            throw PolicyError(.tooLarge, at: JSONPath.render(path),
                              "objects and arrays nest deeper than \(limits.maxDepth) levels")
        }
    }

    private mutating func object(depth: Int, schema: JSONSchema) throws {
        offset += 1
        var seen = Set<String>()
        skipWhitespace()
        if peek(UInt8(ascii: "}")) { offset += 1; return }
        while true {
            guard peek(UInt8(ascii: "\"")) else { throw malformed("an object member must start with a quoted name") }
            let name = try string()
            path.append(AnyKey(name))
            if !seen.insert(name).inserted {
                throw PolicyError(.duplicateKey, at: JSONPath.render(path),
                                  "the member \"\(name)\" appears more than once in the same object")
            }
            if seen.count > limits.maxItems {
                throw PolicyError(.tooLarge, at: JSONPath.render(path),
                                  "an object has more than \(limits.maxItems) members")
            }
            guard let memberSchema = schema.member(name) else {
                guard case .object(let members) = schema else {
                    preconditionFailure("member(_:) is nil only for objects")
                }
                throw PolicyError(.unknownField, at: JSONPath.render(path),
                                  "\"\(name)\" is not a member here; expected one of: "
                                    + members.map(\.name).joined(separator: ", "))
            }
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw malformed("expected ':' after the member name") }
            offset += 1
            skipWhitespace()
            try value(depth: depth + 1, schema: memberSchema)
            path.removeLast()
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                offset += 1
                skipWhitespace()
                continue
            }
            if peek(UInt8(ascii: "}")) { offset += 1; return }
            throw malformed("expected ',' or '}' in an object")
        }
    }

    private mutating func array(depth: Int, schema: JSONSchema) throws {
        offset += 1
        skipWhitespace()
        if peek(UInt8(ascii: "]")) { offset += 1; return }
        var index = 0
        while true {
            if index >= limits.maxItems {
                throw PolicyError(.tooLarge, at: JSONPath.render(path),
                                  "an array has more than \(limits.maxItems) elements")
            }
            path.append(AnyKey(index))
            try value(depth: depth + 1, schema: schema)
            path.removeLast()
            index += 1
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                offset += 1
                skipWhitespace()
                continue
            }
            if peek(UInt8(ascii: "]")) { offset += 1; return }
            throw malformed("expected ',' or ']' in an array")
        }
    }

    // MARK: Scalars

    /// Reads a string and returns it unescaped (needed to compare member names). The
    /// whole input was checked to be UTF-8 and every cut falls on an ASCII byte, so each
    /// run between escapes is valid UTF-8 on its own.
    private mutating func string() throws -> String {
        let start = offset
        offset += 1
        var text = ""
        var runStart = offset
        while true {
            guard offset < bytes.count else { throw malformed("a string is not terminated") }
            if offset - start - 1 > limits.maxStringBytes {
                throw PolicyError(.tooLarge, at: JSONPath.render(path),
                                  "a string is longer than \(limits.maxStringBytes) bytes")
            }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                text += String(decoding: bytes[runStart..<offset], as: UTF8.self)
                offset += 1
                return text
            }
            if byte < 0x20 { throw malformed("a control character must be escaped inside a string") }
            if byte != UInt8(ascii: "\\") { offset += 1; continue }
            text += String(decoding: bytes[runStart..<offset], as: UTF8.self)
            offset += 1
            guard offset < bytes.count else { throw malformed("a string is not terminated") }
            let escape = bytes[offset]
            offset += 1
            switch escape {
            case UInt8(ascii: "\""): text += "\""
            case UInt8(ascii: "\\"): text += "\\"
            case UInt8(ascii: "/"): text += "/"
            case UInt8(ascii: "b"): text += "\u{08}"
            case UInt8(ascii: "f"): text += "\u{0C}"
            case UInt8(ascii: "n"): text += "\n"
            case UInt8(ascii: "r"): text += "\r"
            case UInt8(ascii: "t"): text += "\t"
            case UInt8(ascii: "u"): text.unicodeScalars.append(try unicodeEscape())
            default: throw malformed("\\\(shown(escape)) is not a JSON escape")
            }
            runStart = offset
        }
    }

    /// `\uXXXX`, joining a UTF-16 surrogate pair; a lone surrogate is refused.
    private mutating func unicodeEscape() throws -> Unicode.Scalar {
        let high = try hex4()
        if (0xD800...0xDBFF).contains(high) {
            guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                  bytes[offset + 1] == UInt8(ascii: "u")
            else {
                throw malformed("a \\u escape holds half of a surrogate pair")
            }
            offset += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else {
                throw malformed("a \\u escape holds half of a surrogate pair")
            }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(high) else { throw malformed("a \\u escape holds half of a surrogate pair") }
        return scalar
    }

    private mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw malformed("a \\u escape needs four hexadecimal digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw malformed("a \\u escape needs four hexadecimal digits")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` (RFC 8259 section 6).
    private mutating func number() throws {
        if peek(UInt8(ascii: "-")) { offset += 1 }
        if peek(UInt8(ascii: "0")) {
            offset += 1
        } else if try digits() == 0 {
            throw malformed("a number needs a digit")
        }
        if peek(UInt8(ascii: ".")) {
            offset += 1
            guard try digits() > 0 else { throw malformed("a number needs a digit after the decimal point") }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            offset += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { offset += 1 }
            guard try digits() > 0 else { throw malformed("a number needs a digit in its exponent") }
        }
    }

    private mutating func digits() throws -> Int {
        var count = 0
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
            offset += 1
            count += 1
            if count > 64 {
                throw PolicyError(.tooLarge, at: JSONPath.render(path), "a number has more than 64 digits")
            }
        }
        return count
    }

    private mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        guard offset + expected.count <= bytes.count, Array(bytes[offset..<offset + expected.count]) == expected else {
            throw malformed("expected '\(word)'")
        }
        offset += expected.count
    }

    // MARK: Helpers

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool { offset < bytes.count && bytes[offset] == byte }

    private func shown(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
    }

    private func malformed(_ what: String) -> PolicyError {
        PolicyError(.malformedJSON, at: JSONPath.render(path), "malformed JSON at byte \(offset): \(what)")
    }
}
