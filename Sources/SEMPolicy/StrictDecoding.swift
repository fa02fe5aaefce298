// Strict JSON decoding for policy documents, requests and facts: the syntax pass of
// JSONShape first, then Foundation's JSONDecoder with every type refusing members it
// does not know. Every refusal becomes a PolicyError naming the exact JSON path.
public import Foundation

enum StrictDecoding {
    /// Marks a decoder whose input's members were already checked against a schema.
    static let membersChecked = CodingUserInfoKey(rawValue: "sem.policy.members-checked")!

    /// Decodes `T` from `bytes`, refusing anything outside `limits` or the language. With
    /// a `schema`, unknown members are found by the syntax pass and the typed decoding
    /// skips its own search for them.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], limits: JSONLimits,
                                     schema: JSONSchema? = nil) throws -> T {
        try JSONShape.check(bytes, limits: limits, schema: schema ?? .any)
        do {
            let decoder = JSONDecoder()
            if schema != nil { decoder.userInfo[membersChecked] = true }
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as PolicyError {
            throw error
        } catch let error as DecodingError {
            throw translate(error)
        }
    }

    /// Maps Foundation's decoding errors onto the policy error codes with their paths.
    static func translate(_ error: DecodingError) -> PolicyError {
        switch error {
        case .keyNotFound(let key, let context):
            return PolicyError(.missingField, at: JSONPath.render(context.codingPath, appending: key),
                               "the required member \"\(key.stringValue)\" is missing")
        case .valueNotFound(let type, let context):
            return PolicyError(.wrongType, at: JSONPath.render(context.codingPath),
                               "expected \(describe(type)), found null")
        case .typeMismatch(let type, let context):
            return PolicyError(.wrongType, at: JSONPath.render(context.codingPath),
                               "expected \(describe(type))" + found(in: context.debugDescription))
        case .dataCorrupted(let context):
            return PolicyError(.invalidValue, at: JSONPath.render(context.codingPath), context.debugDescription)
        @unknown default:
            return PolicyError(.invalidValue, at: "$", "the input could not be decoded")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default:
            // Foundation names keyed containers as dictionaries and unkeyed ones as arrays.
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }

    /// ", found a string" when Foundation's message says what it found, in JSON's words.
    private static func found(in message: String) -> String {
        guard let start = message.range(of: "found "),
              let end = message.range(of: " instead", range: start.upperBound..<message.endIndex)
        else { return "" }
        var what = message[start.upperBound..<end.lowerBound]
        for article in ["a ", "an "] where what.hasPrefix(article) { what = what.dropFirst(article.count) }
        switch what {
        case "dictionary", "object": return ", found an object"
        case "array": return ", found an array"
        case "string": return ", found a string"
        case "number": return ", found a number"
        case "bool", "boolean": return ", found true or false"
        case "null", "null value": return ", found null"
        default: return ", found " + what
        }
    }
}

extension Decoder {
    /// Refuses members other than the cases of `keys`, naming the first unknown one in
    /// alphabetical order (JSONDecoder does not keep document order).
    func rejectUnknownKeys<K: CodingKey & CaseIterable>(_ keys: K.Type) throws {
        if userInfo[StrictDecoding.membersChecked] as? Bool == true { return }
        let container = try container(keyedBy: AnyKey.self)
        // K(stringValue:) is nil exactly for names that are not cases.
        let unknown = container.allKeys.map(\.stringValue).filter { K(stringValue: $0) == nil }.sorted()
        if let first = unknown.first {
            let expected = K.allCases.map(\.stringValue).joined(separator: ", ")
            throw PolicyError(.unknownField, at: JSONPath.render(codingPath, appending: AnyKey(first)),
                              "\"\(first)\" is not a member here; expected one of: \(expected)")
        }
    }

    /// The decoder's own position as a JSONPath.
    var path: String { JSONPath.render(codingPath) }
}

extension KeyedDecodingContainer {
    func path(_ key: Key) -> String { JSONPath.render(codingPath, appending: key) }

    /// A whole number in `range`. Numbers are read as Double first so that `1.5` or
    /// `1e30` is refused with its path (JSONDecoder would report neither).
    func wholeNumber(_ key: Key, in range: ClosedRange<Int>) throws -> Int {
        let value = try decode(Double.self, forKey: key)
        return try Self.checkWhole(value, in: range, at: path(key))
    }

    func wholeNumberIfPresent(_ key: Key, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try decodeIfPresent(Double.self, forKey: key) else { return nil }
        return try Self.checkWhole(value, in: range, at: path(key))
    }

    private static func checkWhole(_ value: Double, in range: ClosedRange<Int>,
                                   at path: @autoclosure () -> String) throws -> Int {
        guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            throw PolicyError(.invalidValue, at: path(),
                              "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(value)")
        }
        return Int(value)
    }

    /// A list that must hold at least one element when present.
    func nonEmptyListIfPresent<T: Decodable>(_ type: T.Type, _ key: Key) throws -> [T]? {
        guard let list = try decodeIfPresent([T].self, forKey: key) else { return nil }
        if list.isEmpty {
            throw PolicyError(.invalidValue, at: path(key), "the list is empty; leave the member out instead")
        }
        return list
    }

    /// A string of 1...`maxLength` characters without control characters.
    func text(_ key: Key, maxLength: Int = 1024) throws -> String {
        let value = try decode(String.self, forKey: key)
        try PolicyText.check(value, maxLength: maxLength, at: path(key))
        return value
    }

    func textIfPresent(_ key: Key, maxLength: Int = 1024) throws -> String? {
        guard let value = try decodeIfPresent(String.self, forKey: key) else { return nil }
        try PolicyText.check(value, maxLength: maxLength, at: path(key))
        return value
    }

    /// An RFC 3339 timestamp with a zone, e.g. `2026-03-02T09:00:00Z`.
    func timestampIfPresent(_ key: Key) throws -> Date? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let date = PolicyTime.parse(text) else {
            throw PolicyError(.invalidValue, at: path(key),
                              "\"\(text)\" is not a timestamp like 2026-03-02T09:00:00Z (RFC 3339, with a zone)")
        }
        return date
    }
}

extension KeyedEncodingContainer {
    mutating func encodeTimestampIfPresent(_ date: Date?, forKey key: Key) throws {
        if let date { try encode(PolicyTime.format(date), forKey: key) }
    }
}

/// Plain-text values in policies and requests (descriptions, ids, distinguished names).
enum PolicyText {
    static func check(_ value: String, maxLength: Int, at path: @autoclosure () -> String) throws {
        if value.isEmpty {
            throw PolicyError(.invalidValue, at: path(), "the text is empty")
        }
        if value.count > maxLength {
            throw PolicyError(.invalidValue, at: path(), "the text is longer than \(maxLength) characters")
        }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw PolicyError(.invalidValue, at: path(), "the text contains a control character")
        }
    }
}

/// Timestamps: RFC 3339 with a zone in, UTC with a `Z` out (second precision).
public enum PolicyTime {
    public static func parse(_ text: String) -> Date? {
        guard text.count <= 40 else { return nil }
        return try? Date(text, strategy: .iso8601)
    }

    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// Enumerations spelled as fixed words in JSON; unknown words are refused with the list
/// of known ones.
public protocol PolicyWord: RawRepresentable, CaseIterable, Codable where RawValue == String {
    /// What the word names, for error sentences ("action", "effect").
    static var noun: String { get }
}

extension PolicyWord {
    public init(from decoder: any Decoder) throws {
        let word = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: word) else {
            let known = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw PolicyError(.invalidValue, at: decoder.path,
                              "unknown \(Self.noun) \"\(word)\"; expected one of: \(known)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
