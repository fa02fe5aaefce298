// The MIME entity model (RFC 2045 §2.4, RFC 2046 §5.1): an ordered header section and a
// body that is either bytes (already decoded from its transfer encoding) or a list of
// child entities. Header values are kept exactly as they appear once unfolded (RFC 5322
// §2.2.3), encoded-words included, so parse(serialize(x)) == x holds field for field.
public import Foundation
import SEMCrypto

/// One header field: name and unfolded value (without the leading space after the colon).
public struct MIMEHeaderField: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): \(value)" }
}

/// A MIME entity: a message, or a part of a multipart body.
public struct MIMEEntity: Sendable, Hashable {
    /// The body of an entity.
    public enum Body: Sendable, Hashable {
        /// A leaf body; the bytes are the decoded content. The serializer applies the
        /// Content-Transfer-Encoding header (base64, quoted-printable, 7bit, 8bit).
        case bytes(Data)
        /// A multipart body (RFC 2046 §5.1). The boundary lives in the Content-Type header.
        case multipart([MIMEEntity])
    }

    public var headers: [MIMEHeaderField]
    public var body: Body

    public init(headers: [MIMEHeaderField], body: Body) {
        self.headers = headers
        self.body = body
    }

    /// The value of the first field called `name` (case-insensitive, RFC 5322 §1.2.2).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every value of fields called `name`, in order.
    public func headers(named name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// Replaces every field called `name` with one field, or appends it.
    public mutating func setHeader(_ name: String, _ value: String) {
        let matches = { (field: MIMEHeaderField) in field.name.caseInsensitiveCompare(name) == .orderedSame }
        let index = headers.firstIndex(where: matches) ?? headers.endIndex
        headers.removeAll(where: matches)
        headers.insert(MIMEHeaderField(name, value), at: min(index, headers.endIndex))
    }

    /// The parsed Content-Type; `text/plain; charset=us-ascii` when absent (RFC 2045 §5.2).
    public var contentType: MIMEContentType {
        header("Content-Type").flatMap(MIMEContentType.init(parsing:))
            ?? MIMEContentType(type: "text", subtype: "plain", parameters: [("charset", "us-ascii")])
    }

    /// The Content-Transfer-Encoding, lower-cased; "7bit" when absent (RFC 2045 §6.1).
    public var transferEncoding: String {
        (header("Content-Transfer-Encoding") ?? "7bit").trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The leaf content, or nil for a multipart entity.
    public var content: Data? {
        if case .bytes(let data) = body { return data }
        return nil
    }

    /// The children of a multipart entity, or an empty list.
    public var parts: [MIMEEntity] {
        if case .multipart(let children) = body { return children }
        return []
    }

    // MARK: Builders

    /// A text/plain part in UTF-8, quoted-printable (safe for any line length and for
    /// signatures, since it survives 7-bit transport unchanged).
    public static func text(_ text: String, subtype: String = "plain") -> MIMEEntity {
        MIMEEntity(headers: [MIMEHeaderField("Content-Type", "text/\(subtype); charset=utf-8"),
                             MIMEHeaderField("Content-Transfer-Encoding", "quoted-printable")],
                   body: .bytes(Data(text.utf8)))
    }

    /// A binary part in base64, optionally marked as an attachment with a file name
    /// (RFC 2183; a non-ASCII name is written as an RFC 2047 encoded-word).
    public static func binary(_ data: Data, mediaType: String, fileName: String? = nil) -> MIMEEntity {
        var headers = [MIMEHeaderField("Content-Type", mediaType),
                       MIMEHeaderField("Content-Transfer-Encoding", "base64")]
        if let fileName {
            headers.append(MIMEHeaderField("Content-Disposition",
                                           "attachment; filename=\(MIMEContentType.quote(EncodedWord.encodeIfNeeded(fileName)))"))
        }
        return MIMEEntity(headers: headers, body: .bytes(data))
    }

    /// A multipart entity with a fresh random boundary (RFC 2046 §5.1.1). The serializer
    /// checks that the boundary occurs nowhere in the children.
    public static func multipart(_ subtype: String, _ parts: [MIMEEntity],
                                 headers extra: [MIMEHeaderField] = []) -> MIMEEntity {
        let boundary = "=_" + SecureRandom.bytes(18).base64EncodedString()
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "+", with: ".")
        return MIMEEntity(headers: extra + [MIMEHeaderField("Content-Type",
                                                            "multipart/\(subtype); boundary=\"\(boundary)\"")],
                          body: .multipart(parts))
    }
}
