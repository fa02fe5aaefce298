// Structured header values with parameters: Content-Type (RFC 2045 §5.1) and
// Content-Disposition (RFC 2183 §2). Values are tokens or quoted-strings; RFC 2231
// continuations are not supported (a known shortcoming: such parameters read as absent).
import Foundation

/// A parsed `type/subtype; name=value; ...` header value.
public struct MIMEContentType: Sendable, CustomStringConvertible {
    /// Lower-cased top-level type ("text", "multipart", ...).
    public var type: String
    /// Lower-cased subtype.
    public var subtype: String
    /// Parameters in order; names lower-cased, values unquoted.
    public var parameters: [(name: String, value: String)]

    public init(type: String, subtype: String, parameters: [(name: String, value: String)] = []) {
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        self.parameters = parameters
    }

    /// Parses a Content-Type value; nil when it has no `type/subtype`.
    public init?(parsing value: String) {
        guard let (main, parameters) = Self.parseParameterized(value) else { return nil }
        let pieces = main.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return nil }
        self.init(type: String(pieces[0]), subtype: String(pieces[1]), parameters: parameters)
    }

    /// "type/subtype", lower-cased.
    public var mediaType: String { "\(type)/\(subtype)" }

    /// The value of parameter `name` (case-insensitive).
    public func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name.lowercased() }?.value
    }

    public var description: String {
        ([mediaType] + parameters.map { "\($0.name)=\(Self.quote($0.value))" }).joined(separator: "; ")
    }

    // MARK: Shared parameter syntax

    /// RFC 2045 §5.1 tspecials: a value containing any of these must be quoted.
    private static let specials = Set("()<>@,;:\\\"/[]?= \t")

    /// The value as a token, or as a quoted-string when it is not a token.
    static func quote(_ value: String) -> String {
        if !value.isEmpty, !value.contains(where: { specials.contains($0) || !$0.isASCII || $0.isNewline }) {
            return value
        }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }

    /// Splits `main; a=b; c="d"` into the main value and its parameters. Nil on an
    /// unterminated quoted-string or a parameter without "=".
    static func parseParameterized(_ value: String) -> (String, [(name: String, value: String)])? {
        var segments: [String] = []
        var current = ""
        var inQuotes = false, escaped = false
        for character in value {
            if escaped { current.append(character); escaped = false; continue }
            if inQuotes && character == "\\" { current.append(character); escaped = true; continue }
            if character == "\"" { inQuotes.toggle() }
            if character == ";" && !inQuotes {
                segments.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        guard !inQuotes else { return nil }
        segments.append(current)
        let main = segments[0].trimmingCharacters(in: .whitespaces).lowercased()
        var parameters: [(name: String, value: String)] = []
        for segment in segments.dropFirst() {
            let trimmed = segment.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }  // a trailing ";" is common and harmless
            guard let equals = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("\""), raw.hasSuffix("\""), raw.count >= 2 {
                raw = String(raw.dropFirst().dropLast())
                var unescaped = "", pending = false
                for character in raw {
                    if pending { unescaped.append(character); pending = false } else if character == "\\" {
                        pending = true
                    } else { unescaped.append(character) }
                }
                raw = unescaped
            }
            guard !name.isEmpty else { return nil }
            parameters.append((name, raw))
        }
        return (main, parameters)
    }
}

/// A parsed Content-Disposition (RFC 2183).
public struct MIMEContentDisposition: Sendable {
    /// "inline" or "attachment" (lower-cased).
    public var kind: String
    public var parameters: [(name: String, value: String)]

    public init?(parsing value: String) {
        guard let (main, parameters) = MIMEContentType.parseParameterized(value), !main.isEmpty else { return nil }
        kind = main
        self.parameters = parameters
    }

    /// The file name, with RFC 2047 encoded-words decoded.
    public var fileName: String? {
        parameters.first { $0.name == "filename" }.map { EncodedWord.decode($0.value) }
    }
}
