// A strict, bounded MIME parser (RFC 5322 §2, RFC 2045, RFC 2046 §5.1). It works on a
// whole buffer (not incrementally): the caller hands it a complete message, which the
// limits below keep bounded. Line ends must be CRLF; bare CR or LF is refused.
public import Foundation

/// The bounds the parser enforces. Every one of them refuses with `.limitExceeded`.
public struct MIMELimits: Sendable {
    /// Largest input, in bytes (the CMS layer accepts no more either).
    public var maximumTotalBytes: Int
    /// Largest header section of one entity, in bytes.
    public var maximumHeaderBytes: Int
    /// Most header fields in one entity.
    public var maximumHeaderFields: Int
    /// Longest line without its CRLF (RFC 5322 §2.1.1: 998).
    public var maximumLineLength: Int
    /// Deepest nesting of multiparts; the top-level entity is depth 0.
    public var maximumDepth: Int
    /// Most entities in the whole message, the top-level one included.
    public var maximumParts: Int

    public init(maximumTotalBytes: Int = 128 << 20, maximumHeaderBytes: Int = 64 << 10,
                maximumHeaderFields: Int = 256, maximumLineLength: Int = 998, maximumDepth: Int = 8,
                maximumParts: Int = 1_000) {
        self.maximumTotalBytes = maximumTotalBytes
        self.maximumHeaderBytes = maximumHeaderBytes
        self.maximumHeaderFields = maximumHeaderFields
        self.maximumLineLength = maximumLineLength
        self.maximumDepth = maximumDepth
        self.maximumParts = maximumParts
    }

    public static let `default` = MIMELimits()
}

/// Parses MIME entities from complete buffers.
public struct MIMEParser: Sendable {
    public let limits: MIMELimits

    public init(limits: MIMELimits = .default) { self.limits = limits }

    /// Parses `data` as one entity (a message or a part).
    ///
    /// - Throws: `MessageError.malformed` for syntax errors (bare LF, a field without a
    ///   colon, a multipart without boundary or closing delimiter, a bad base64 body);
    ///   `.limitExceeded` when a limit is passed; `.unsupported` for the "binary" encoding.
    public func parse(_ data: Data) throws -> MIMEEntity {
        guard data.count <= limits.maximumTotalBytes else {
            throw MessageError(.limitExceeded, "The message is \(data.count) bytes; at most "
                               + "\(limits.maximumTotalBytes) bytes are accepted.")
        }
        let bytes = [UInt8](data)
        try Self.checkLines(bytes, limit: limits.maximumLineLength)
        var partCount = 0
        return try bytes.withUnsafeBufferPointer { buffer in
            try parseEntity(buffer, 0..<buffer.count, depth: 0, partCount: &partCount)
        }
    }

    /// The exact bytes of each part of the multipart entity `data`, as they lie between
    /// the boundary delimiters. multipart/signed needs them (RFC 1847 §2.1): the first
    /// part is verified over its bytes as sent, not over a re-serialisation.
    ///
    /// - Throws: what `parse` throws, and `.malformed` when `data` is not a multipart.
    public func rawParts(of data: Data) throws -> [Data] {
        guard data.count <= limits.maximumTotalBytes else {
            throw MessageError(.limitExceeded, "The message is \(data.count) bytes; at most "
                               + "\(limits.maximumTotalBytes) bytes are accepted.")
        }
        let bytes = [UInt8](data)
        try Self.checkLines(bytes, limit: limits.maximumLineLength)
        return try bytes.withUnsafeBufferPointer { buffer in
            let (headers, bodyStart) = try parseHeaders(buffer, 0..<buffer.count)
            let type = MIMEEntity(headers: headers, body: .bytes(Data())).contentType
            guard type.type == "multipart", let boundary = type.parameter("boundary"),
                  Self.isValidBoundary(boundary) else {
                throw MessageError(.malformed, "The entity is not a multipart with a valid boundary.")
            }
            return try partRanges(buffer, bodyStart..<buffer.count, boundary: boundary).map { Data(buffer[$0]) }
        }
    }

    /// Turns every bare LF into CRLF, the canonical form of MIME text (RFC 8551 §3.1.1).
    /// Some writers (the openssl tool's base64 signature part among them) end lines in a
    /// bare LF inside content they sign in canonical form; canonicalising first lets the
    /// strict parser read them without weakening it for anything else.
    public static func canonicalLineEnds(_ data: Data) -> Data {
        var result: [UInt8] = []
        result.reserveCapacity(data.count + data.count / 32)
        var previous: UInt8 = 0
        var changed = false
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            for byte in bytes {
                if byte == 0x0A && previous != 0x0D {
                    result.append(0x0D)
                    changed = true
                }
                result.append(byte)
                previous = byte
            }
        }
        return changed ? Data(result) : data
    }

    /// RFC 2046 §5.1.1: 1 to 70 characters from a fixed set, not ending in a space.
    static func isValidBoundary(_ boundary: String) -> Bool {
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
        return (1...70).contains(boundary.count) && boundary.allSatisfy(allowed.contains) && !boundary.hasSuffix(" ")
    }

    /// Every LF must follow a CR and every CR precede an LF; no line may pass `limit`.
    static func checkLines(_ bytes: some Collection<UInt8>, limit: Int) throws {
        var column = 0
        var previous: UInt8 = 0
        var lineNumber = 1
        for byte in bytes {
            if previous == 0x0D && byte != 0x0A {
                throw MessageError(.malformed, "Line \(lineNumber) has a carriage return without a line feed.")
            }
            if byte == 0x0A {
                guard previous == 0x0D else {
                    throw MessageError(.malformed, "Line \(lineNumber) ends in a bare line feed; lines must end in CRLF.")
                }
                column = 0
                lineNumber += 1
            } else if byte != 0x0D {
                column += 1
                if column > limit {
                    throw MessageError(.limitExceeded, "Line \(lineNumber) is longer than \(limit) characters.")
                }
            }
            previous = byte
        }
        if previous == 0x0D { throw MessageError(.malformed, "The input ends in a lone carriage return.") }
    }

    private func parseEntity(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, depth: Int,
                             partCount: inout Int) throws -> MIMEEntity {
        partCount += 1
        guard partCount <= limits.maximumParts else {
            throw MessageError(.limitExceeded, "The message has more than \(limits.maximumParts) parts.")
        }
        guard depth <= limits.maximumDepth else {
            throw MessageError(.limitExceeded, "Multiparts nest deeper than \(limits.maximumDepth) levels.")
        }
        let (headers, bodyStart) = try parseHeaders(bytes, range)
        var entity = MIMEEntity(headers: headers, body: .bytes(Data()))
        let body = bodyStart..<range.upperBound
        let type = entity.contentType
        if type.type == "multipart" {
            guard ["7bit", "8bit", "binary"].contains(entity.transferEncoding) else {
                throw MessageError(.malformed, "A multipart entity may not have a transfer encoding (RFC 2045 §6.4).")
            }
            guard let boundary = type.parameter("boundary"), Self.isValidBoundary(boundary) else {
                throw MessageError(.malformed, "A multipart entity has no valid boundary parameter.")
            }
            let ranges = try partRanges(bytes, body, boundary: boundary)
            var children: [MIMEEntity] = []
            for part in ranges {
                children.append(try parseEntity(bytes, part, depth: depth + 1, partCount: &partCount))
            }
            entity.body = .multipart(children)
            return entity
        }
        let raw = Data(bytes[body])
        switch entity.transferEncoding {
        case "base64": entity.body = .bytes(try TransferEncoding.base64Decode(raw))
        case "quoted-printable": entity.body = .bytes(try TransferEncoding.quotedPrintableDecode(raw))
        case "7bit", "8bit": entity.body = .bytes(raw)
        case "binary": throw MessageError(.unsupported, "The \"binary\" transfer encoding is not accepted.")
        default: throw MessageError(.malformed, "The transfer encoding \"\(entity.transferEncoding)\" is unknown.")
        }
        return entity
    }

    /// The header fields of the entity in `range` and where its body starts (after the
    /// empty line). An entity without any header field may start with the empty line.
    private func parseHeaders(_ bytes: UnsafeBufferPointer<UInt8>,
                              _ range: Range<Int>) throws -> ([MIMEHeaderField], Int) {
        var fields: [MIMEHeaderField] = []
        var position = range.lowerBound
        while true {
            guard position - range.lowerBound <= limits.maximumHeaderBytes else {
                throw MessageError(.limitExceeded, "A header section is larger than \(limits.maximumHeaderBytes) bytes.")
            }
            guard let end = Self.lineEnd(bytes, from: position, before: range.upperBound) else {
                throw MessageError(.malformed, "The header section does not end with an empty line.")
            }
            let line = bytes[position..<end]
            position = end + 2
            if line.isEmpty {
                // The value starts after the whitespace that follows the colon, which
                // may have been folded onto the next line.
                let trimmed = fields.map { field in
                    MIMEHeaderField(field.name, String(field.value.drop { $0 == " " || $0 == "\t" }))
                }
                return (trimmed, position)
            }
            if line.first == 0x20 || line.first == 0x09 {
                // Folded continuation (RFC 5322 §2.2.3): unfolding removes only the CRLF.
                guard !fields.isEmpty else {
                    throw MessageError(.malformed, "The header section starts with a continuation line.")
                }
                fields[fields.count - 1].value += String(decoding: line, as: UTF8.self)
                continue
            }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else {
                throw MessageError(.malformed, "A header line has no field name and colon.")
            }
            let name = bytes[line.startIndex..<colon]
            guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw MessageError(.malformed, "A header field name contains a space or a control character.")
            }
            guard fields.count < limits.maximumHeaderFields else {
                throw MessageError(.limitExceeded, "An entity has more than \(limits.maximumHeaderFields) header fields.")
            }
            let value = bytes[(colon + 1)..<end]
            fields.append(MIMEHeaderField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
    }

    /// The ranges of the parts between boundary delimiters (RFC 2046 §5.1.1). The CRLF
    /// before a delimiter belongs to the delimiter; preamble and epilogue are dropped.
    private func partRanges(_ bytes: UnsafeBufferPointer<UInt8>, _ body: Range<Int>,
                            boundary: String) throws -> [Range<Int>] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Range<Int>] = []
        var partStart: Int?
        var lineStart = body.lowerBound
        while lineStart < body.upperBound {
            let end = Self.lineEnd(bytes, from: lineStart, before: body.upperBound) ?? body.upperBound
            let line = bytes[lineStart..<end]
            if line.starts(with: delimiter) {
                var rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                if closing { rest = rest.dropFirst(2) }
                // Transport padding: only linear whitespace may follow the boundary.
                if rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if let start = partStart {
                        // The part ends before the CRLF that precedes this delimiter line.
                        parts.append(start..<max(start, lineStart - 2))
                    }
                    if closing { return try checked(parts) }
                    partStart = min(end + 2, body.upperBound)
                    guard end < body.upperBound else { break }
                }
            }
            lineStart = end + 2
        }
        throw MessageError(.malformed, "A multipart body has no closing boundary delimiter.")
    }

    private func checked(_ parts: [Range<Int>]) throws -> [Range<Int>] {
        guard !parts.isEmpty else { throw MessageError(.malformed, "A multipart body has no parts.") }
        return parts
    }

    /// The index of the CR of the next CRLF at or after `start`, before `limit`.
    private static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, before limit: Int) -> Int? {
        var index = start
        while index + 1 < limit {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }
}
