// The one error type of SEMPolicy: a stable code, the JSON path of the offending value
// and a sentence for a person. Policy documents and decision requests are refused with
// it; decisions themselves are never errors (a deny is an answer, not a failure).

/// A policy document, decision request or set of external facts that was refused.
///
/// `path` names the offending value in JSONPath notation, e.g.
/// `$.rules[3].resources.attachments.maxSize`; `$` alone means the whole input.
/// Two errors are equal when code and path are equal; the reason text may change.
public struct PolicyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Stable, machine-readable codes; the raw values appear in API error bodies.
    public enum Code: String, Sendable, CaseIterable {
        /// The bytes are not well-formed JSON (RFC 8259) or not UTF-8.
        case malformedJSON = "malformed-json"
        /// The input is larger, deeper or longer than the limits allow.
        case tooLarge = "too-large"
        /// An object has a member this version of the language does not define.
        case unknownField = "unknown-field"
        /// A required member is absent.
        case missingField = "missing-field"
        /// A value has the wrong JSON type (a string where a number belongs, ...).
        case wrongType = "wrong-type"
        /// A value has the right type but is not acceptable (bad pattern, unknown action, negative size, ...).
        case invalidValue = "invalid-value"
        /// An object has the same member twice; readers could disagree on which one counts.
        case duplicateKey = "duplicate-key"
        /// Two rules share an id.
        case duplicateRuleID = "duplicate-rule-id"
        /// A rule or group names a group the document does not define.
        case undefinedGroup = "undefined-group"
        /// Groups contain each other in a loop.
        case groupCycle = "group-cycle"
        /// The document declares a language version this engine does not speak.
        case unsupportedVersion = "unsupported-version"
    }

    public let code: Code
    /// JSONPath of the offending value.
    public let path: String
    /// A sentence a person understands.
    public let reason: String

    public init(_ code: Code, at path: String, _ reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason) [\(code.rawValue)]" }

    public static func == (lhs: PolicyError, rhs: PolicyError) -> Bool {
        lhs.code == rhs.code && lhs.path == rhs.path
    }
}

/// JSONPath rendering of coding paths: `$.rules[3].id`, `$.groups["odd name"]`.
enum JSONPath {
    static func render(_ keys: [any CodingKey]) -> String {
        var out = "$"
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += member(key.stringValue)
            }
        }
        return out
    }

    static func render(_ keys: [any CodingKey], appending key: any CodingKey) -> String {
        render(keys + [key])
    }

    /// `.name` for plain identifiers, `["name"]` otherwise, so the path stays unambiguous.
    static func member(_ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
                || (scalar >= "0" && scalar <= "9") || scalar == "_" || scalar == "-"
        } && !(name.first!.isNumber)
        if plain { return "." + name }
        var escaped = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default:
                if scalar.value < 0x20 {
                    escaped += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return "[\"" + escaped + "\"]"
    }
}

/// A coding key made from any string or index; used to name paths and to list members.
struct AnyKey: CodingKey, Hashable {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    init(_ name: String) { self.init(stringValue: name) }
    init(_ index: Int) { self.init(intValue: index) }
}
