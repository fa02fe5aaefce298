// RFC 2047 encoded-words for non-ASCII text in headers (Subject, display names, file
// names). Encoding always writes UTF-8 "B" words (§4.1); decoding reads "B" and "Q"
// words (§4.2) in UTF-8, US-ASCII or ISO-8859-1. Anything else is left as written.
import Foundation

/// Encodes and decodes RFC 2047 encoded-words.
public enum EncodedWord {
    /// §2: an encoded-word may not be more than 75 characters long. 45 bytes of UTF-8
    /// become 60 base64 characters, plus 12 for `=?UTF-8?B?` and `?=`.
    private static let bytesPerWord = 45

    /// `text` unchanged when it is printable ASCII, otherwise one or more UTF-8 "B"
    /// encoded-words separated by a space (which decoding removes again, §6.2).
    public static func encodeIfNeeded(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        if plain && !text.contains("=?") { return text }
        var words: [String] = []
        var chunk = Data()
        // Split between characters, never inside one, so every word is valid UTF-8.
        for character in text {
            let bytes = Data(String(character).utf8)
            if chunk.count + bytes.count > bytesPerWord, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk.removeAll()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: " ")
    }

    /// Decodes the encoded-words in `text`. Whitespace between two adjacent encoded-words
    /// is dropped (§6.2); a word that cannot be decoded stays as it is.
    public static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var output = ""
        var pendingSpace = ""
        var lastWasEncoded = false
        var rest = Substring(text)
        while !rest.isEmpty {
            if let (decoded, remainder) = decodeWord(at: rest) {
                output += lastWasEncoded ? "" : pendingSpace
                output += decoded
                pendingSpace = ""
                lastWasEncoded = true
                rest = remainder
                continue
            }
            let character = rest.removeFirst()
            if character == " " || character == "\t" {
                pendingSpace.append(character)
                continue
            }
            output += pendingSpace
            pendingSpace = ""
            output.append(character)
            lastWasEncoded = false
        }
        return output + pendingSpace
    }

    /// One `=?charset?enc?text?=` at the start of `input`, decoded, and what follows it.
    private static func decodeWord(at input: Substring) -> (String, Substring)? {
        guard input.hasPrefix("=?") else { return nil }
        let fields = input.dropFirst(2).split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, fields[3].hasPrefix("=") else { return nil }
        let charset = fields[0].lowercased().split(separator: "*").first.map(String.init) ?? ""
        let encoding = fields[1].lowercased()
        let payload = String(fields[2])
        guard payload.count <= 75, !payload.contains(" ") else { return nil }
        let bytes: Data?
        switch encoding {
        case "b": bytes = Data(base64Encoded: payload)
        case "q": bytes = decodeQ(payload)
        default: return nil
        }
        guard let bytes else { return nil }
        let decoded: String?
        switch charset {
        case "utf-8", "us-ascii": decoded = String(data: bytes, encoding: .utf8)
        case "iso-8859-1", "latin1": decoded = String(data: bytes, encoding: .isoLatin1)
        default: decoded = nil
        }
        guard let decoded else { return nil }
        return (decoded, fields[3].dropFirst())
    }

    /// §4.2: "_" is a space, "=XX" a byte.
    private static func decodeQ(_ text: String) -> Data? {
        var bytes = Data()
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "_"): bytes.append(0x20)
            case UInt8(ascii: "="):
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return bytes
    }
}
