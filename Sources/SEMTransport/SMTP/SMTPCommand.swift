// Parsing of one SMTP command line (RFC 5321 §4.1.1) into a command the session acts on.
//
// Verbs are case-insensitive. MAIL and RCPT take a path and ESMTP parameters
// (RFC 5321 §4.1.2: esmtp-keyword ["=" esmtp-value], separated by spaces). The server
// knows SIZE (RFC 1870) and BODY (RFC 6152) on MAIL and no parameter on RCPT.
//
// Sensible leniency: spaces between "FROM:" and the path are tolerated (common in the
// wild, harmless), and so is a run of spaces between parameters. A path without angle
// brackets is refused.

/// The BODY parameter of MAIL (RFC 6152 §2).
public enum SMTPBodyType: String, Sendable, Equatable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
}

/// The ESMTP parameters of MAIL FROM that the server understands.
public struct SMTPMailParameters: Sendable, Equatable {
    /// The size the client declared with SIZE=, in octets (RFC 1870 §3).
    public var declaredSize: Int64?
    /// The body type declared with BODY=; nil when not given (7BIT is then implied).
    public var body: SMTPBodyType?

    public init(declaredSize: Int64? = nil, body: SMTPBodyType? = nil) {
        self.declaredSize = declaredSize
        self.body = body
    }
}

/// A parsed command, or the reply that refuses the line.
enum SMTPCommand: Equatable {
    case ehlo(String)
    case helo(String)
    case mail(SMTPReversePath, SMTPMailParameters)
    case rcpt(SMTPMailbox)
    case data
    case rset
    case noop
    case quit
    case vrfy
    case expn
    case help
    case startTLS

    /// Parses one line (without CRLF). `postmasterDomain` is the domain given to the
    /// bare `<Postmaster>` recipient that RFC 5321 §4.1.1.3 requires servers to accept.
    static func parse(_ line: [UInt8], postmasterDomain: String) -> Result<SMTPCommand, SMTPCommandError> {
        // Commands are ASCII text; control octets other than those the line reader already
        // refused make the line unreadable.
        guard !line.isEmpty, !line.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            return .failure(.syntax)
        }
        let text = line[...]
        let space = text.firstIndex(of: 0x20)
        let verbBytes = text[text.startIndex..<(space ?? text.endIndex)]
        let argument = space.map { text[($0 + 1)...] } ?? []
        let verb = String(decoding: verbBytes, as: UTF8.self).uppercased()

        switch verb {
        case "EHLO", "HELO":
            let name = argument.trimmingSpaces()
            guard SMTPAddressParser.isHelloName(name) else { return .failure(.helloSyntax(verb)) }
            let value = String(decoding: name, as: UTF8.self)
            return .success(verb == "EHLO" ? .ehlo(value) : .helo(value))
        case "MAIL":
            return parseMail(argument)
        case "RCPT":
            return parseRecipient(argument, postmasterDomain: postmasterDomain)
        case "DATA", "RSET", "QUIT", "STARTTLS":
            guard argument.trimmingSpaces().isEmpty else { return .failure(.noArguments(verb)) }
            switch verb {
            case "DATA": return .success(.data)
            case "RSET": return .success(.rset)
            case "QUIT": return .success(.quit)
            default: return .success(.startTLS)
            }
        case "NOOP": return .success(.noop)  // §4.1.1.9: a parameter string is allowed and ignored
        case "VRFY": return .success(.vrfy)
        case "EXPN": return .success(.expn)
        case "HELP": return .success(.help)
        default:
            return .failure(.unknown)
        }
    }

    private static func parseMail(_ argument: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPCommandError> {
        guard let afterKeyword = argument.droppingPrefix("FROM:") else { return .failure(.mailSyntax) }
        let trimmed = afterKeyword.drop(while: { $0 == 0x20 })
        guard let (inner, rest) = SMTPAddressParser.splitPath(trimmed) else { return .failure(.badSender) }
        let path: SMTPReversePath
        if inner.isEmpty {
            path = .null
        } else {
            guard let mailbox = SMTPAddressParser.pathContent(inner) else { return .failure(.badSender) }
            path = .mailbox(mailbox)
        }
        var parameters = SMTPMailParameters()
        switch parseParameters(rest) {
        case .failure(let error): return .failure(error)
        case .success(let list):
            for (keyword, value) in list {
                switch keyword {
                case "SIZE":
                    // size-value = 1*20DIGIT (RFC 1870 §3); more than 18 digits cannot be a
                    // real message and would overflow Int64.
                    guard parameters.declaredSize == nil, let value, (1...18).contains(value.count),
                        value.allSatisfy({ $0.isASCII && $0.isNumber }), let size = Int64(value)
                    else { return .failure(.parameterSyntax) }
                    parameters.declaredSize = size
                case "BODY":
                    guard parameters.body == nil, let value, let body = SMTPBodyType(rawValue: value.uppercased())
                    else { return .failure(.parameterSyntax) }
                    parameters.body = body
                default:
                    return .failure(.unknownParameter)
                }
            }
        }
        return .success(.mail(path, parameters))
    }

    private static func parseRecipient(
        _ argument: ArraySlice<UInt8>, postmasterDomain: String
    ) -> Result<SMTPCommand, SMTPCommandError> {
        guard let afterKeyword = argument.droppingPrefix("TO:") else { return .failure(.recipientSyntax) }
        let trimmed = afterKeyword.drop(while: { $0 == 0x20 })
        guard let (inner, rest) = SMTPAddressParser.splitPath(trimmed) else { return .failure(.badRecipient) }
        let mailbox: SMTPMailbox
        if String(decoding: inner, as: UTF8.self).lowercased() == "postmaster" {
            mailbox = SMTPMailbox(uncheckedLocalPart: "postmaster", domain: postmasterDomain.lowercased())
        } else {
            guard let parsed = SMTPAddressParser.pathContent(inner) else { return .failure(.badRecipient) }
            mailbox = parsed
        }
        switch parseParameters(rest) {
        case .failure(let error): return .failure(error)
        case .success(let list):
            guard list.isEmpty else { return .failure(.unknownParameter) }
        }
        return .success(.rcpt(mailbox))
    }

    /// Mail-parameters = esmtp-param *(SP esmtp-param); keywords are upper-cased.
    private static func parseParameters(_ text: ArraySlice<UInt8>) -> Result<[(String, String?)], SMTPCommandError> {
        guard text.isEmpty || text.first == 0x20 else { return .failure(.parameterSyntax) }
        var out: [(String, String?)] = []
        for item in text.split(separator: 0x20) {
            let equals = item.firstIndex(of: UInt8(ascii: "="))
            let keyword = item[item.startIndex..<(equals ?? item.endIndex)]
            // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
            guard let first = keyword.first, SMTPAddressParser.isLetDig(first),
                keyword.allSatisfy({ SMTPAddressParser.isLetDig($0) || $0 == UInt8(ascii: "-") })
            else { return .failure(.parameterSyntax) }
            var value: String?
            if let equals {
                // esmtp-value = 1*(%d33-60 / %d62-126)
                let raw = item[(equals + 1)...]
                guard !raw.isEmpty, raw.allSatisfy({ (33...126).contains($0) && $0 != UInt8(ascii: "=") })
                else { return .failure(.parameterSyntax) }
                value = String(decoding: raw, as: UTF8.self)
            }
            out.append((String(decoding: keyword, as: UTF8.self).uppercased(), value))
        }
        return .success(out)
    }
}

/// Why a command line was refused; each case maps to one reply.
enum SMTPCommandError: Error, Equatable {
    case syntax
    case unknown
    case helloSyntax(String)
    case noArguments(String)
    case mailSyntax
    case recipientSyntax
    case badSender
    case badRecipient
    case parameterSyntax
    case unknownParameter

    var reply: SMTPReply {
        switch self {
        case .syntax: SMTPReply(code: 500, enhanced: "5.5.2", text: "Syntax error, command unrecognised")
        case .unknown: SMTPReply(code: 500, enhanced: "5.5.1", text: "Command unrecognised")
        case .helloSyntax(let verb): SMTPReply(code: 501, enhanced: "5.5.4", text: "Syntax: \(verb) hostname")
        case .noArguments(let verb): SMTPReply(code: 501, enhanced: "5.5.4", text: "Syntax: \(verb) takes no arguments")
        case .mailSyntax: SMTPReply(code: 501, enhanced: "5.5.4", text: "Syntax: MAIL FROM:<address>")
        case .recipientSyntax: SMTPReply(code: 501, enhanced: "5.5.4", text: "Syntax: RCPT TO:<address>")
        case .badSender: SMTPReply(code: 501, enhanced: "5.1.7", text: "Bad sender address syntax")
        case .badRecipient: SMTPReply(code: 501, enhanced: "5.1.3", text: "Bad recipient address syntax")
        case .parameterSyntax: SMTPReply(code: 501, enhanced: "5.5.4", text: "Invalid command parameter")
        case .unknownParameter:
            // RFC 5321 §4.1.1.11
            SMTPReply(code: 555, enhanced: "5.5.4", text: "MAIL FROM/RCPT TO parameters not recognised or not implemented")
        }
    }
}

extension ArraySlice where Element == UInt8 {
    func trimmingSpaces() -> ArraySlice<UInt8> {
        var slice = self
        while slice.first == 0x20 { slice = slice.dropFirst() }
        while slice.last == 0x20 { slice = slice.dropLast() }
        return slice
    }

    /// The rest after an ASCII prefix matched case-insensitively, or nil.
    func droppingPrefix(_ prefix: String) -> ArraySlice<UInt8>? {
        let expected = Array(prefix.utf8)
        guard count >= expected.count else { return nil }
        for (byte, want) in zip(self, expected) where asciiLower(byte) != asciiLower(want) {
            return nil
        }
        return dropFirst(expected.count)
    }
}

func asciiLower(_ byte: UInt8) -> UInt8 {
    (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
}
