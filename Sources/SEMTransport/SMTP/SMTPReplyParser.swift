// The client's reader of server replies (RFC 5321 §4.2):
//
//   Reply-line     = *( Reply-code "-" [ textstring ] CRLF )
//                    Reply-code [ SP textstring ] CRLF
//   Reply-code     = %x32-35 %x30-35 %x30-39
//
// Every line of a multi-line reply must carry the same code. When the text of a line
// starts with an enhanced status code of the reply's class (RFC 2034 §4), it is taken
// out of the text. Lines must end in CRLF; a lone LF, a NUL, a line over the limit or
// too many lines in one reply make the reply stream unusable and are reported as errors.

/// Why the server's replies could not be read.
public enum SMTPReplyError: Error, Sendable, Equatable {
    /// A line did not have the form of RFC 5321 §4.2.
    case malformed(String)
    /// A line was longer than the limit.
    case lineTooLong
    /// One reply had more lines than the limit.
    case tooManyLines
}

/// Incremental parser of SMTP replies.
struct SMTPReplyParser: Sendable {
    private var reader: SMTPLineReader
    private let maxLines: Int
    private var pendingCode: Int?
    private var pendingEnhanced: String?
    private var pendingLines: [String] = []

    init(maxLineLength: Int, maxLines: Int) {
        reader = SMTPLineReader(limit: maxLineLength)
        self.maxLines = maxLines
    }

    /// Drops partial input, e.g. before reading replies through TLS.
    mutating func reset() {
        reader.reset()
        pendingCode = nil
        pendingEnhanced = nil
        pendingLines = []
    }

    /// Whether input is held that does not yet form a whole reply.
    var hasPartialReply: Bool { reader.hasPartialLine || pendingCode != nil }

    /// Consumes input up to and including the next complete reply and returns it, or
    /// consumes everything and returns nil.
    mutating func nextReply(from input: inout ArraySlice<UInt8>) throws(SMTPReplyError) -> SMTPReply? {
        while let line = reader.nextLine(from: &input) {
            if let reply = try accept(line) { return reply }
        }
        // A client need not wait for the end of a reply line that can no longer be valid.
        if reader.isDiscarding { throw .lineTooLong }
        return nil
    }

    private mutating func accept(_ line: SMTPLine) throws(SMTPReplyError) -> SMTPReply? {
        switch line.fault {
        case .tooLong: throw .lineTooLong
        case .bareLineFeed, .bareCarriageReturn: throw .malformed("a reply line does not end in CRLF")
        case .nul: throw .malformed("a reply line contains a NUL octet")
        case nil: break
        }
        let bytes = line.content
        guard bytes.count >= 3, (0x32...0x35).contains(bytes[0]), (0x30...0x35).contains(bytes[1]),
            (0x30...0x39).contains(bytes[2])
        else { throw .malformed("a reply line does not start with a reply code") }
        let code = Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        var last = true
        var text = ""
        if bytes.count > 3 {
            switch bytes[3] {
            case UInt8(ascii: "-"): last = false
            case UInt8(ascii: " "): break
            default: throw .malformed("a reply code is not followed by a space or a hyphen")
            }
            text = String(decoding: bytes[4...], as: UTF8.self)
        }
        if let pendingCode, pendingCode != code {
            throw .malformed("the lines of one reply carry different codes")
        }
        pendingCode = code

        // Take the enhanced status code out of the text when it has the reply's class.
        let word = text.prefix(while: { $0 != " " })
        if word.first == Character(String(code / 100)), SMTPReply.isEnhancedCode(word) {
            if pendingEnhanced == nil { pendingEnhanced = String(word) }
            text = String(text.dropFirst(word.count).drop(while: { $0 == " " }))
        }
        pendingLines.append(text)
        guard pendingLines.count <= maxLines else { throw .tooManyLines }
        guard last else { return nil }

        let reply = SMTPReply(code: code, enhanced: pendingEnhanced, lines: pendingLines)
        pendingCode = nil
        pendingEnhanced = nil
        pendingLines = []
        return reply
    }
}

/// Dot-stuffing for the client side of DATA (RFC 5321 §4.5.2), with line endings made
/// canonical: a lone LF or a lone CR becomes CRLF, so that nothing the client sends can
/// be read as a premature end of data by a lenient server. A message that does not end
/// in a line break gets one. The encoded message ends with "." CRLF.
enum SMTPDotStuffer {
    /// The message with CRLF line endings (the size that SIZE declares, RFC 1870 §3).
    static func canonical(_ message: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 2)
        var previousCR = false
        for byte in message {
            if byte == 0x0A {
                if !previousCR { out.append(0x0D) }
                out.append(0x0A)
                previousCR = false
                continue
            }
            if previousCR { out.append(0x0A) }
            out.append(byte)
            previousCR = byte == 0x0D
        }
        if previousCR {
            out.append(0x0A)
        } else if !out.isEmpty && out.last != 0x0A {
            out.append(contentsOf: [0x0D, 0x0A])
        }
        return out
    }

    /// Canonical lines with a dot added before every line that starts with one, followed
    /// by the end-of-data line.
    static func stuff(canonical message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 3)
        var atLineStart = true
        for byte in message {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == 0x0A
        }
        out.append(contentsOf: Array(".\r\n".utf8))
        return out
    }
}
