// SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 2034, RFC 3463), and the
// decisions the application hands back to the server session.
//
// A reply is a three-digit code, an optional enhanced status code and one or more text
// lines. On the wire every line but the last has a hyphen after the code ("250-"), the
// last a space ("250 "); with ENHANCEDSTATUSCODES the enhanced code starts the text of
// every line (RFC 2034 §4), except in the greeting and the HELO/EHLO replies.

/// One SMTP reply: code, optional enhanced status code, text lines.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    /// The three-digit reply code, 200...599.
    public let code: Int
    /// The enhanced status code ("2.1.0"), or nil where RFC 2034 leaves it out.
    public let enhanced: String?
    /// The text lines, at least one (possibly empty). They never contain CR or LF.
    public let lines: [String]

    /// Builds a reply. Control characters in the text are replaced by spaces so that no
    /// text, wherever it came from, can inject a reply line.
    public init(code: Int, enhanced: String? = nil, lines: [String]) {
        self.code = code
        self.enhanced = enhanced
        let cleaned = lines.map(SMTPReply.printable)
        self.lines = cleaned.isEmpty ? [""] : cleaned
    }

    /// A one-line reply.
    public init(code: Int, enhanced: String? = nil, text: String) {
        self.init(code: code, enhanced: enhanced, lines: [text])
    }

    /// 2xx and 3xx: the command was accepted or more input is expected.
    public var isPositive: Bool { (200..<400).contains(code) }
    /// 2xx: the command completed.
    public var isCompletion: Bool { (200..<300).contains(code) }
    /// 4xx: a temporary failure; the client may retry later.
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5xx: a permanent failure.
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The text lines joined by a space, without codes.
    public var text: String { lines.joined(separator: " ") }

    /// The reply as it is written on the wire, every line ending in CRLF.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        for (index, line) in lines.enumerated() {
            let separator = index == lines.count - 1 ? " " : "-"
            var text = String(code) + separator
            if let enhanced {
                text += enhanced
                if !line.isEmpty { text += " " }
            }
            text += line
            out.append(contentsOf: Array(text.utf8))
            out.append(contentsOf: [0x0D, 0x0A])
        }
        return out
    }

    /// The first line as the wire shows it, for logs and test messages.
    public var description: String {
        let head = enhanced.map { "\(code) \($0)" } ?? "\(code)"
        return lines.count == 1 ? "\(head) \(lines[0])" : "\(head) \(lines[0]) (+\(lines.count - 1) lines)"
    }

    /// Whether `text` has the form class.subject.detail of RFC 3463 §2, with the class
    /// 2, 4 or 5, the subject up to three digits and the detail up to three digits.
    public static func isEnhancedCode(_ text: some StringProtocol) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]) else { return false }
        return parts[1...].allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0.isASCII && $0.isNumber }
        }
    }

    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            (scalar.value < 0x20 || scalar.value == 0x7F) ? " " : Character(scalar)
        })
    }
}

/// What the application answers when the server session asks about a sender, a
/// recipient or a complete message.
///
/// A rejection carries the reply the client will see, e.g.
/// `.reject(code: 550, enhanced: "5.7.1", text: "Sender not authorised")`.
public struct SMTPDecision: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case accept(text: String?)
        case reject(SMTPReply)
    }

    let kind: Kind

    /// Accept with the session's standard text.
    public static let accept = SMTPDecision(kind: .accept(text: nil))

    /// Accept with a text of the application's choosing ("queued as 4F2A").
    public static func accept(text: String) -> SMTPDecision {
        SMTPDecision(kind: .accept(text: text))
    }

    /// Refuse with a 4xx (temporary) or 5xx (permanent) code. A code outside 400...599
    /// becomes 451 4.3.0, and an enhanced code that is malformed or whose class does not
    /// match the reply code is replaced by "4.0.0" or "5.0.0": a faulty hook must not make
    /// the session send something a client misreads as success. A 421 reply makes the
    /// session close the connection after sending it (RFC 5321 §3.8).
    public static func reject(code: Int, enhanced: String, text: String) -> SMTPDecision {
        guard (400..<600).contains(code) else {
            return SMTPDecision(kind: .reject(SMTPReply(code: 451, enhanced: "4.3.0", text: text)))
        }
        let cls = String(code / 100)
        let valid = SMTPReply.isEnhancedCode(enhanced) && enhanced.hasPrefix(cls + ".")
        return SMTPDecision(kind: .reject(SMTPReply(code: code, enhanced: valid ? enhanced : cls + ".0.0", text: text)))
    }

    /// Whether this decision accepts.
    public var isAccept: Bool {
        if case .accept = kind { return true }
        return false
    }

    /// The reply to send: the rejection itself, or a positive reply made from
    /// `acceptCode`, `acceptEnhanced` and the standard or custom text.
    func reply(acceptCode: Int, acceptEnhanced: String, standardText: String) -> SMTPReply {
        switch kind {
        case .accept(let text):
            return SMTPReply(code: acceptCode, enhanced: acceptEnhanced, text: text ?? standardText)
        case .reject(let reply):
            return reply
        }
    }
}
