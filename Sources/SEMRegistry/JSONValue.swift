// A JSON value as the payload of a log entry carries it. Payloads differ by entry kind,
// so the entry keeps them untyped and callers read them through `RegistryEntry.payload(as:)`.
// Numbers are integers only, matching CanonicalJSON, which refuses fractions and exponents.
import Foundation
import SEMFederation

/// A JSON value limited to what canonical JSON allows (integers, no floating point).
public indirect enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else if let members = try? container.decode([String: JSONValue].self) {
            self = .object(members)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an integer-only JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let members): try container.encode(members)
        }
    }

    /// The value of any Encodable model, through its canonical JSON.
    public static func from<T: Encodable>(_ value: T) throws -> JSONValue {
        try CanonicalJSON.decode(JSONValue.self, from: try CanonicalJSON.encode(value))
    }

    /// Decodes a model from this value strictly, as CanonicalJSON does for documents.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try CanonicalJSON.decode(type, from: try CanonicalJSON.encode(self))
    }
}
