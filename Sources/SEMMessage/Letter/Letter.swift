// What a person writes: addresses, subject, text, attachments. The composer turns a
// Letter into an S/MIME message and the reader turns one back into a Letter.
public import Foundation
public import SEMCrypto

/// An e-mail address with an optional display name (RFC 5322 §3.4 mailbox).
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The addr-spec, e.g. "alice@example.org".
    public var address: String
    /// The display name, already decoded from any RFC 2047 encoded-words.
    public var displayName: String?

    public init(_ address: String, displayName: String? = nil) {
        self.address = address
        self.displayName = displayName
    }

    /// The part after the last "@", lower-cased; empty when there is none.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }

    /// The mailbox as a header value: `Name <addr>` (name quoted or encoded when needed).
    public var headerValue: String {
        guard let displayName, !displayName.isEmpty else { return address }
        let encoded = EncodedWord.encodeIfNeeded(displayName)
        let name = encoded.hasPrefix("=?") ? encoded : MIMEContentType.quote(encoded)
        return "\(name) <\(address)>"
    }

    public var description: String { headerValue }

    /// Whether two addresses are the same mailbox: the domain compares without regard
    /// to case; the local part is compared without regard to case too, which is what
    /// practically every server does (RFC 5321 §2.4 leaves it to the server).
    public func sameMailbox(as other: String) -> Bool {
        address.lowercased() == other.lowercased()
    }

    /// Checks the addr-spec roughly: one "@", a non-empty local part and domain, no
    /// whitespace, angle brackets, commas or control characters.
    var isPlausible: Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && address.count <= 254
            && !address.contains(where: { $0.isWhitespace || "<>,;\"()[]\\".contains($0) || !$0.isASCII })
    }
}

/// A file carried inside the letter itself.
public struct InlineAttachment: Sendable, Hashable {
    public var fileName: String
    /// A media type such as "application/pdf".
    public var mediaType: String
    public var content: Data

    public init(fileName: String, mediaType: String, content: Data) {
        self.fileName = fileName
        self.mediaType = mediaType
        self.content = content
    }
}

/// A letter as a person writes and reads it.
public struct Letter: Sendable, Hashable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var subject: String
    /// Whole seconds are kept (RFC 5322 §3.3 has no fractions).
    public var date: Date
    /// The Message-ID without angle brackets, e.g. "3f1c...@example.org".
    public var messageID: String
    /// The text, UTF-8. Line ends are written as CRLF and read back as LF.
    public var body: String
    public var attachments: [InlineAttachment]
    /// Large files stored on the sender's server, referenced with their keys.
    public var references: [AttachmentReference]
    /// When set, recipients are asked for a signed receipt (RFC 2634).
    public var receiptRequest: ReceiptRequest?

    /// `messageID` defaults to 16 random bytes in hex at the sender's domain.
    public init(from: MailAddress, to: [MailAddress], cc: [MailAddress] = [], subject: String, date: Date = Date(),
                messageID: String? = nil, body: String, attachments: [InlineAttachment] = [],
                references: [AttachmentReference] = [], receiptRequest: ReceiptRequest? = nil) {
        self.from = from
        self.to = to
        self.cc = cc
        self.subject = subject
        self.date = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        self.messageID = messageID ?? "\(SecureRandom.identifier())@\(from.domain.isEmpty ? "localhost" : from.domain)"
        self.body = body
        self.attachments = attachments
        self.references = references
        self.receiptRequest = receiptRequest
    }
}
