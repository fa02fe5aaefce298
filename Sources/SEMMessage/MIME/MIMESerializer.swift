// Writing MIME entities: CRLF line ends, header fields folded at whitespace to stay
// within 78 characters (RFC 5322 §2.1.1, §2.2.3), bodies in their transfer encoding,
// multipart boundaries checked against the content (RFC 2046 §5.1.1).
public import Foundation

extension MIMEEntity {
    /// The entity as bytes, CRLF line ends throughout. These are the canonical bytes a
    /// signature covers.
    ///
    /// - Throws: `MessageError.invalidArgument` when a header name or value cannot be
    ///   written, a multipart entity has no boundary, or a boundary occurs in its content.
    public func serialized() throws -> Data {
        var out = Data()
        try write(to: &out, depth: 0)
        return out
    }

    private func write(to out: inout Data, depth: Int) throws {
        guard depth <= MIMELimits.default.maximumDepth else {
            throw MessageError(.invalidArgument, "The entity nests deeper than \(MIMELimits.default.maximumDepth) levels.")
        }
        for field in headers { out.append(try Self.fold(field)) }
        out.append(TransferEncoding.crlf)
        switch body {
        case .bytes(let data):
            out.append(try encodedBody(data))
        case .multipart(let children):
            let type = contentType
            guard type.type == "multipart", let boundary = type.parameter("boundary"),
                  MIMEParser.isValidBoundary(boundary) else {
                throw MessageError(.invalidArgument, "A multipart entity needs a multipart Content-Type with a valid boundary.")
            }
            var inner = Data()
            for child in children {
                var part = Data()
                try child.write(to: &part, depth: depth + 1)
                inner.append(contentsOf: Array("--\(boundary)\r\n".utf8))
                inner.append(part)
                // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
                inner.append(TransferEncoding.crlf)
            }
            guard !children.isEmpty else {
                throw MessageError(.invalidArgument, "A multipart entity needs at least one part (RFC 2046 §5.1.1).")
            }
            guard Self.countDelimiters(inner, boundary) == children.count else {
                throw MessageError(.invalidArgument, "The multipart boundary occurs inside the content.")
            }
            out.append(inner)
            out.append(contentsOf: Array("--\(boundary)--\r\n".utf8))
        }
    }

    private func encodedBody(_ data: Data) throws -> Data {
        switch transferEncoding {
        case "base64": return TransferEncoding.base64Encode(data)
        case "quoted-printable": return TransferEncoding.quotedPrintableEncode(data)
        case "7bit", "8bit":
            if transferEncoding == "7bit", data.contains(where: { $0 >= 0x80 }) {
                throw MessageError(.invalidArgument, "A 7bit body contains bytes above 127.")
            }
            guard !data.contains(0) else { throw MessageError(.invalidArgument, "A text body contains a NUL byte.") }
            // Unencoded bodies must already be canonical: CRLF line ends, lines of at most
            // 998 characters (RFC 5322 §2.1.1, RFC 2045 §2.7).
            guard (try? MIMEParser.checkLines(data, limit: MIMELimits.default.maximumLineLength)) != nil else {
                throw MessageError(.invalidArgument,
                                   "A 7bit or 8bit body needs CRLF line ends and lines of at most 998 characters.")
            }
            return data
        default:
            throw MessageError(.invalidArgument, "The transfer encoding \"\(transferEncoding)\" cannot be written.")
        }
    }

    /// Counts lines that start with "--boundary" in the serialized children: exactly one
    /// per child means the boundary does not occur in any content.
    private static func countDelimiters(_ data: Data, _ boundary: String) -> Int {
        let marker = Array("--\(boundary)".utf8)
        let bytes = Array(data)
        var count = 0, lineStart = true, index = 0
        while index < bytes.count {
            if lineStart, bytes.count - index >= marker.count, Array(bytes[index..<(index + marker.count)]) == marker {
                count += 1
            }
            lineStart = bytes[index] == 0x0A
            index += 1
        }
        return count
    }

    /// One header field, folded: a line break is put before a space or tab where the
    /// line would pass 78 characters. Unfolding (removing the CRLF) restores the value.
    static func fold(_ field: MIMEHeaderField) throws -> Data {
        let nameIsValid = !field.name.isEmpty && field.name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }
        guard nameIsValid else { throw MessageError(.invalidArgument, "\"\(field.name)\" is not a valid header name.") }
        guard !field.value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw MessageError(.invalidArgument, "The value of \(field.name) contains a line break.")
        }
        let full = "\(field.name): \(field.value)"
        var lines: [String] = []
        var current = ""
        var word = ""
        // Words keep their leading whitespace so that unfolding restores every space.
        for character in full {
            if character == " " || character == "\t", !word.isEmpty {
                if !current.isEmpty, current.count + word.count > 78 {
                    lines.append(current)
                    current = ""
                }
                current += word
                word = ""
            }
            word.append(character)
        }
        if !current.isEmpty, current.count + word.count > 78 {
            lines.append(current)
            current = ""
        }
        current += word
        lines.append(current)
        return Data((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }
}
