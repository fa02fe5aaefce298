// Mailbox and path syntax of RFC 5321 §4.1.2:
//
//   Path           = "<" [ A-d-l ":" ] Mailbox ">"
//   Reverse-path   = Path / "<>"
//   Mailbox        = Local-part "@" ( Domain / address-literal )
//   Local-part     = Dot-string / Quoted-string
//   Dot-string     = Atom *("."  Atom)
//   Quoted-string  = DQUOTE *QcontentSMTP DQUOTE
//   Domain         = sub-domain *("." sub-domain)
//   sub-domain     = Let-dig [Ldh-str]
//
// Limits from §4.5.3.1: local part 64 octets, domain 255 octets, path 256 octets.
//
// Deliberately not supported: SMTPUTF8 (RFC 6531) addresses; any non-ASCII octet makes
// the address invalid. A source route (A-d-l) is checked for syntax and then ignored, as
// §4.1.1.3 asks. Address literals are checked only for their bracket form and character
// set (an IPv4 dotted quad, or a tag such as "IPv6:" followed by printable text), not
// for being a valid IPv6 address.

/// An e-mail address as SMTP carries it: a local part and a domain.
public struct SMTPMailbox: Sendable, Hashable, CustomStringConvertible {
    /// The local part with quoting removed (`john doe` for `"john doe"@example.org`).
    public let localPart: String
    /// The domain in lower case, or an address literal such as `[192.0.2.1]`.
    public let domain: String

    /// Parses `local@domain` (without angle brackets) per RFC 5321 §4.1.2.
    public init?(_ text: String) {
        guard let mailbox = SMTPAddressParser.mailbox(Array(text.utf8)) else { return nil }
        self = mailbox
    }

    init(uncheckedLocalPart localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// The address in its wire form, quoting the local part when it is not a dot-string.
    public var address: String {
        let bytes = Array(localPart.utf8)
        if SMTPAddressParser.isDotString(bytes[...]) { return localPart + "@" + domain }
        var quoted = "\""
        for scalar in localPart.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted += "\\" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\"@" + domain
    }

    public var description: String { address }
}

/// The sender of a mail transaction: a mailbox, or the null path `<>` used by
/// delivery notifications (RFC 5321 §4.5.5).
public enum SMTPReversePath: Sendable, Hashable, CustomStringConvertible {
    case null
    case mailbox(SMTPMailbox)

    /// The path in angle brackets, as sent in MAIL FROM.
    public var description: String {
        switch self {
        case .null: "<>"
        case .mailbox(let mailbox): "<\(mailbox.address)>"
        }
    }
}

/// Byte-level parsing of paths and mailboxes.
enum SMTPAddressParser {
    static let maxLocalPart = 64
    static let maxDomain = 255
    static let maxPath = 256

    /// Scans a path starting with "<" at the front of `text`; returns the bytes between
    /// the brackets and what follows the ">", or nil when no closing bracket is found
    /// outside a quoted string.
    static func splitPath(_ text: ArraySlice<UInt8>) -> (inner: ArraySlice<UInt8>, rest: ArraySlice<UInt8>)? {
        guard text.first == UInt8(ascii: "<") else { return nil }
        var index = text.index(after: text.startIndex)
        var quoted = false
        while index < text.endIndex {
            let byte = text[index]
            if quoted && byte == UInt8(ascii: "\\") {
                index = text.index(index, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
                continue
            }
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == UInt8(ascii: ">") && !quoted {
                return (text[(text.startIndex + 1)..<index], text[(index + 1)...])
            }
            index += 1
        }
        return nil
    }

    /// Parses the inside of a path: an optional source route, then a mailbox.
    static func pathContent(_ inner: ArraySlice<UInt8>) -> SMTPMailbox? {
        guard inner.count + 2 <= maxPath else { return nil }
        var rest = inner
        if rest.first == UInt8(ascii: "@") {
            // A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain
            guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let route = rest[rest.startIndex..<colon]
            for hop in route.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard hop.first == UInt8(ascii: "@"), isDomain(hop.dropFirst()) else { return nil }
            }
            rest = rest[(colon + 1)...]
        }
        return mailbox(rest)
    }

    /// Parses `Local-part "@" Domain`.
    static func mailbox(_ bytes: some Collection<UInt8>) -> SMTPMailbox? {
        let text = ArraySlice(bytes)
        guard text.count + 2 <= maxPath, let at = text.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let local = text[text.startIndex..<at]
        let domain = text[(at + 1)...]
        guard local.count <= maxLocalPart, domain.count <= maxDomain else { return nil }
        guard let localPart = localPart(local) else { return nil }
        let domainText: String
        if domain.first == UInt8(ascii: "[") {
            guard isAddressLiteral(domain) else { return nil }
            domainText = String(decoding: domain, as: UTF8.self)
        } else {
            guard isDomain(domain) else { return nil }
            domainText = String(decoding: domain, as: UTF8.self).lowercased()
        }
        return SMTPMailbox(uncheckedLocalPart: localPart, domain: domainText)
    }

    /// A dot-string, or a quoted string whose quoting is removed.
    static func localPart(_ bytes: ArraySlice<UInt8>) -> String? {
        if isDotString(bytes) { return String(decoding: bytes, as: UTF8.self) }
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
        var out: [UInt8] = []
        var index = bytes.startIndex + 1
        let end = bytes.endIndex - 1
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                // quoted-pairSMTP = %d92 %d32-126
                guard index + 1 < end, (32...126).contains(bytes[index + 1]) else { return nil }
                out.append(bytes[index + 1])
                index += 2
                continue
            }
            // qtextSMTP = %d32-33 / %d35-91 / %d93-126
            guard (32...126).contains(byte), byte != UInt8(ascii: "\"") else { return nil }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isDotString(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { atom in
            !atom.isEmpty && atom.allSatisfy(isAtext)
        }
    }

    /// atext of RFC 5322 §3.2.3.
    static func isAtext(_ byte: UInt8) -> Bool {
        if isLetDig(byte) { return true }
        return Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(byte)
    }

    static func isLetDig(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// Domain = sub-domain *("." sub-domain), each label 1...63 octets, letters, digits
    /// and inner hyphens.
    static func isDomain(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxDomain else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last, label.count <= 63 else { return false }
            return isLetDig(first) && isLetDig(last) && label.allSatisfy { isLetDig($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// "[" ( IPv4-address-literal / General-address-literal ) "]" (RFC 5321 §4.1.3).
    static func isAddressLiteral(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 3, bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") else { return false }
        let inner = bytes.dropFirst().dropLast()
        let octets = inner.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ (1...3).contains($0.count) && $0.allSatisfy { (0x30...0x39).contains($0) } }) {
            return octets.allSatisfy { Int(String(decoding: $0, as: UTF8.self))! <= 255 }
        }
        // General-address-literal = Standardized-tag ":" 1*dcontent; dcontent = %d33-90 / %d94-126
        guard let colon = inner.firstIndex(of: UInt8(ascii: ":")), colon > inner.startIndex else { return false }
        let tag = inner[inner.startIndex..<colon]
        let content = inner[(colon + 1)...]
        return tag.allSatisfy { isLetDig($0) || $0 == UInt8(ascii: "-") } && !content.isEmpty
            && content.allSatisfy { (33...90).contains($0) || (94...126).contains($0) }
    }

    /// A HELO/EHLO argument: a domain or an address literal.
    static func isHelloName(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.first == UInt8(ascii: "[") ? isAddressLiteral(bytes) : isDomain(bytes)
    }
}
