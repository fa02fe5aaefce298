// Canonical JSON for signed documents, after RFC 8785 (JSON Canonicalization Scheme):
// members sorted by the UTF-16 code units of their names (§3.2.3), no insignificant
// whitespace, strings with the minimal escaping of §3.2.2.2, and UTF-8 output.
//
// Departures from RFC 8785, on purpose: numbers must be integers (a fraction or exponent
// is refused instead of being canonicalised as an IEEE double), and dates are RFC 3339
// strings in UTC with whole seconds ("2026-12-03T19:58:11Z").
//
// Signed bytes must be canonical: a reader parses strictly, decodes, re-encodes and
// compares (`decodeCanonical`), so two different byte strings never carry one meaning.
public import Foundation

/// Deterministic JSON encoding and strict decoding for signed documents.
public enum CanonicalJSON {
    /// The canonical bytes of `value`. Throws `FederationError(.invalidJSON)` for values
    /// that have no canonical form here (non-integer numbers, for example).
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        let loose: Data
        do {
            loose = try encoder.encode(value)
        } catch {
            throw FederationError(.invalidJSON, "The value cannot be written as JSON: \(error).")
        }
        return try canonicalize(loose)
    }

    /// Re-writes any JSON text (integers only) in canonical form.
    public static func canonicalize(_ json: Data) throws -> Data {
        var output: [UInt8] = []
        output.reserveCapacity(json.count)
        write(try JSONParser.parse(Array(json)), to: &output)
        return Data(output)
    }

    /// Decodes `json` strictly: duplicate member names, non-integer numbers, bad UTF-8 and
    /// malformed dates are refused; models refuse unknown members in their own decoders.
    public static func decode<T: Decodable>(_ type: T.Type, from json: Data) throws -> T {
        _ = try JSONParser.parse(Array(json))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "\"\(text)\" is not an RFC 3339 UTC time with seconds"))
            }
            return date
        }
        do {
            return try decoder.decode(type, from: json)
        } catch let error as FederationError {
            throw error
        } catch let error as DecodingError {
            throw FederationError(.invalidJSON, "The document does not fit the model: \(describe(error)).")
        } catch {
            throw FederationError(.invalidJSON, "The document does not fit the model: \(error).")
        }
    }

    /// Decodes `json` strictly and also requires it to be exactly the canonical encoding
    /// of the decoded value, so that the bytes a signature covers have one meaning only.
    public static func decodeCanonical<T: Codable>(_ type: T.Type, from json: Data) throws -> T {
        let value = try decode(type, from: json)
        guard try encode(value) == json else {
            throw FederationError(.invalidJSON,
                                  "The document is not in canonical form (member order, spacing, escaping or defaults).")
        }
        return value
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            "$" + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    // MARK: Writing

    private static func write(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .integer(let digits): output += Array(digits.utf8)
        case .string(let text): writeString(text, to: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(item, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            // RFC 8785 §3.2.3: sort by UTF-16 code units, not by scalars or UTF-8 bytes.
            let sorted = members.sorted { $0.0.utf16.lexicographicallyPrecedes($1.0.utf16) }
            output.append(UInt8(ascii: "{"))
            for (position, member) in sorted.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.0, to: &output)
                output.append(UInt8(ascii: ":"))
                write(member.1, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8785 §3.2.2.2: escape only '"', '\' and controls; short forms where JSON has them.
    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += [0x5C, 0x22]
            case "\\": output += [0x5C, 0x5C]
            case "\u{08}": output += [0x5C, UInt8(ascii: "b")]
            case "\u{0C}": output += [0x5C, UInt8(ascii: "f")]
            case "\n": output += [0x5C, UInt8(ascii: "n")]
            case "\r": output += [0x5C, UInt8(ascii: "r")]
            case "\t": output += [0x5C, UInt8(ascii: "t")]
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: output += Array(String(scalar).utf8)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

/// RFC 3339 §5.6 timestamps in UTC with whole seconds, the one date form of signed documents.
public enum RFC3339 {
    /// `2026-12-03T19:58:11Z`; fractions of a second are dropped.
    public static func string(from date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: whole)
        func two(_ value: Int?) -> String { let text = String(value ?? 0); return text.count < 2 ? "0" + text : text }
        let year = String(parts.year ?? 0)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(parts.month) + "-"
            + two(parts.day) + "T" + two(parts.hour) + ":" + two(parts.minute) + ":" + two(parts.second) + "Z"
    }

    /// Parses exactly the form `string(from:)` writes; anything else gives nil.
    public static func date(from text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              bytes[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard bytes[range].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
            return Int(String(decoding: bytes[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components), string(from: date) == text else { return nil }
        return date
    }
}

/// A coding key for any member name, to list what a document holds.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    init(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// Refuses members the model does not know, so a signed document cannot carry text
    /// that some readers ignore and others act on.
    func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let known = Set(Keys.allCases.map(\.stringValue))
        let container = try self.container(keyedBy: AnyCodingKey.self)
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            let path = "$" + codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw FederationError(.invalidJSON, "Unknown member \"\(unknown)\" in \(path).")
        }
    }
}
