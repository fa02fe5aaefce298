// Reading and writing the structured header values letters use: address lists
// (RFC 5322 §3.4), dates (§3.3) and message identifiers (§3.6.4).
//
// The address-list reader handles the forms mail software writes in practice
// (`addr`, `Name <addr>`, `"Quoted, Name" <addr>`, encoded-word names). Groups, comments
// and obsolete syntax are not supported; such a list is refused as malformed.
import Foundation

enum HeaderValues {
    static func addressList(_ addresses: [MailAddress]) -> String {
        addresses.map(\.headerValue).joined(separator: ", ")
    }

    static func parseAddressList(_ value: String) throws -> [MailAddress] {
        var items: [String] = []
        var current = ""
        var inQuotes = false, inAngle = false, escaped = false
        for character in value {
            if escaped { current.append(character); escaped = false; continue }
            if inQuotes && character == "\\" { escaped = true; current.append(character); continue }
            if character == "\"" { inQuotes.toggle() }
            if !inQuotes && character == "<" { inAngle = true }
            if !inQuotes && character == ">" { inAngle = false }
            if character == "," && !inQuotes && !inAngle {
                items.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        items.append(current)
        return try items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map(parseMailbox)
    }

    static func parseMailbox(_ text: String) throws -> MailAddress {
        var mailbox: MailAddress
        if let open = text.lastIndex(of: "<"), text.hasSuffix(">") {
            let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            var name = text[..<open].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
                    .replacingOccurrences(of: "\\\\", with: "\\")
            }
            let decoded = EncodedWord.decode(name)
            mailbox = MailAddress(address, displayName: decoded.isEmpty ? nil : decoded)
        } else {
            mailbox = MailAddress(text)
        }
        guard mailbox.isPlausible else {
            throw MessageError(.malformed, "\"\(text.prefix(80))\" is not an e-mail address this reader understands.")
        }
        return mailbox
    }

    private static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter
    }

    /// RFC 5322 §3.3 date-time in UTC, e.g. "Thu, 03 Dec 2026 19:59:08 +0000".
    static func date(_ date: Date) -> String {
        formatter("EEE, dd MMM yyyy HH:mm:ss Z").string(from: date)
    }

    static func parseDate(_ text: String) throws -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for format in ["EEE, d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm:ss Z", "EEE, d MMM yyyy HH:mm Z"] {
            if let date = formatter(format).date(from: trimmed) { return date }
        }
        throw MessageError(.malformed, "The date \"\(trimmed.prefix(60))\" is not an RFC 5322 date.")
    }

    static func messageID(_ id: String) -> String { "<\(id)>" }

    static func parseMessageID(_ text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("<"), trimmed.hasSuffix(">"), trimmed.count > 2, trimmed.contains("@") else {
            throw MessageError(.malformed, "The Message-ID is not of the form <id@domain>.")
        }
        return String(trimmed.dropFirst().dropLast())
    }
}
