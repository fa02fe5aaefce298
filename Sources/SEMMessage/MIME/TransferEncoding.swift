// Content-Transfer-Encodings (RFC 2045 §6): base64 with 76-character lines (§6.8) and
// quoted-printable (§6.7) with soft line breaks at 76 characters. Line ends are CRLF.
import Foundation

enum TransferEncoding {
    static let crlf = Data([0x0D, 0x0A])

    /// Base64 in lines of at most 76 characters, each ended by CRLF.
    static func base64Encode(_ data: Data) -> Data {
        let text = data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn,
                                                      .endLineWithLineFeed])
        var out = Data(text.utf8)
        if !out.isEmpty { out.append(crlf) }
        return out
    }

    /// Strict base64 decoding: only the alphabet, "=" padding and CRLF line breaks.
    static func base64Decode(_ data: Data) throws -> Data {
        // Collected in an array: appending byte by byte to Data costs a range replacement
        // per byte, which made reading a 1 MiB letter take a second.
        var compact: [UInt8] = []
        compact.reserveCapacity(data.count)
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            for byte in bytes where byte != 0x0D && byte != 0x0A {
                let valid = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2F || byte == 0x3D
                guard valid else { throw MessageError(.malformed, "A base64 body contains a character outside base64.") }
                compact.append(byte)
            }
        }
        guard let decoded = Data(base64Encoded: Data(compact)) else {
            throw MessageError(.malformed, "A base64 body is not valid base64 (length or padding).")
        }
        return decoded
    }

    /// Quoted-printable. Line breaks in the content are taken as CRLF (text is
    /// canonicalized to CRLF first, RFC 2049 §4); "=", non-ASCII bytes and trailing
    /// whitespace are escaped; lines are soft-broken to stay within 76 characters.
    static func quotedPrintableEncode(_ data: Data) -> Data {
        var out = Data()
        let lines = canonicalLines(data)
        for (index, line) in lines.enumerated() {
            var column = 0
            for (position, byte) in line.enumerated() {
                let isLast = position == line.count - 1
                let literal = (byte >= 0x21 && byte <= 0x7E && byte != 0x3D) || ((byte == 0x20 || byte == 0x09) && !isLast)
                let encoded: [UInt8] = literal ? [byte] : Array(String(format: "=%02X", byte).utf8)
                // Keep room for a soft break "=" within 76 columns.
                if column + encoded.count > 75 {
                    out.append(contentsOf: [0x3D, 0x0D, 0x0A])
                    column = 0
                }
                out.append(contentsOf: encoded)
                column += encoded.count
            }
            if index < lines.count - 1 { out.append(crlf) }
        }
        if !out.isEmpty { out.append(crlf) }
        return out
    }

    static func quotedPrintableDecode(_ data: Data) throws -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        let lines = splitCRLF(data)
        for (index, rawLine) in lines.enumerated() {
            // RFC 2045 §6.7 rule 3: trailing whitespace on an encoded line is removed.
            var line = rawLine
            while let last = line.last, last == 0x20 || last == 0x09 { line.removeLast() }
            var soft = false
            var position = 0
            while position < line.count {
                let byte = line[position]
                if byte == 0x3D {
                    if position == line.count - 1 { soft = true; break }
                    guard position + 2 < line.count,
                          let value = UInt8(String(decoding: line[(position + 1)...(position + 2)], as: UTF8.self),
                                            radix: 16) else {
                        throw MessageError(.malformed, "A quoted-printable body has a malformed \"=\" escape.")
                    }
                    out.append(value)
                    position += 3
                } else {
                    out.append(byte)
                    position += 1
                }
            }
            if !soft && index < lines.count - 1 { out.append(contentsOf: crlf) }
        }
        return Data(out)
    }

    /// The lines of `data`, split at CRLF, lone LF or lone CR.
    private static func canonicalLines(_ data: Data) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        var previousCR = false
        for byte in data {
            if byte == 0x0A {
                if !previousCR { lines.append([]) }
                previousCR = false
            } else if byte == 0x0D {
                lines.append([])
                previousCR = true
            } else {
                lines[lines.count - 1].append(byte)
                previousCR = false
            }
        }
        return lines
    }

    /// The lines of an encoded body split at CRLF; a final CRLF ends the last line.
    private static func splitCRLF(_ data: Data) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        let bytes = Array(data)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                lines.append(current)
                current = []
                index += 2
            } else {
                current.append(bytes[index])
                index += 1
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
