// Building an S/MIME 4.0 letter (RFC 8551 §3.7 sign-then-encrypt, architecture §4):
//
//   outer RFC 5322 message: transport headers only, body application/pkcs7-mime
//     └ AuthEnvelopedData (or EnvelopedData for CBC) for every recipient and the sender
//       └ MIME entity application/pkcs7-mime; smime-type=signed-data (RFC 8551 §3.5.2)
//         └ SignedData (attached) over the canonical bytes of
//           └ inner multipart/mixed with the protected headers (From, To, Cc, Subject,
//             Date, Message-ID), the text, inline attachments and reference parts.
//
// Outer headers. Transport needs addresses, a date and an identifier, so the outer
// message has MIME-Version, From (address only, no display name), To (addresses only),
// Date, Message-ID and the fixed Subject "encrypted message" (the real subject is only in
// the protected headers; this mirrors the "..." placeholder idea of RFC 7508 §5 with a
// word people understand). Cc addresses are not repeated outside: delivery uses the SMTP
// envelope, and the protected headers carry them for the recipients.
public import Foundation
public import SEMCrypto

/// A composed letter, ready for submission.
public struct ComposedLetter: Sendable {
    /// The whole outer RFC 5322 message, CRLF line ends.
    public let message: Data
    /// The DER ContentInfo (AuthEnvelopedData or EnvelopedData) inside the outer body.
    public let envelope: Data
    /// The DER SignedData as signed. Keep it to check receipts (`ReceiptChecker`).
    public let signedData: Data
    /// The canonical inner MIME entity that was signed.
    public let innerEntity: Data
    public let messageID: String
}

/// Turns a `Letter` into a signed and encrypted S/MIME message.
public enum LetterComposer {
    /// The placeholder subject of the outer message.
    public static let placeholderSubject = "encrypted message"

    /// Composes `letter`: inner entity, signature by `signer`, envelope for
    /// `recipients` plus `senderCertificate` (so the sender can read the sent copy),
    /// outer message.
    ///
    /// - Throws: `MessageError.invalidArgument` for an implausible address or no
    ///   recipients; `CryptoError` from signing or encryption (e.g. an unsuitable certificate).
    public static func compose(_ letter: Letter, signer: CMSSigner, recipients: [Certificate],
                               senderCertificate: Certificate,
                               encryption: ContentEncryptionAlgorithm = .aes256GCM) throws -> ComposedLetter {
        guard !recipients.isEmpty, !letter.to.isEmpty else {
            throw MessageError(.invalidArgument, "A letter needs at least one To address and recipient certificate.")
        }
        for address in [letter.from] + letter.to + letter.cc where !address.isPlausible {
            throw MessageError(.invalidArgument, "\"\(address.address.prefix(80))\" is not a valid e-mail address.")
        }
        let inner = try innerEntity(letter).serialized()
        var options = CMSSigningOptions()
        options.receiptRequest = letter.receiptRequest
        let signed = try signer.sign(inner, options: options)
        let wrapped = try signedDataEntity(signed).serialized()
        let envelope = try CMSEnvelope.encrypt(wrapped, for: recipients + [senderCertificate], algorithm: encryption)
        let outer = try outerMessage(letter, envelope: envelope, encryption: encryption).serialized()
        return ComposedLetter(message: outer, envelope: envelope, signedData: signed, innerEntity: inner,
                              messageID: letter.messageID)
    }

    /// The inner entity: protected headers and multipart/mixed content.
    public static func innerEntity(_ letter: Letter) throws -> MIMEEntity {
        var headers = [MIMEHeaderField("MIME-Version", "1.0"),
                       MIMEHeaderField("From", letter.from.headerValue),
                       MIMEHeaderField("To", HeaderValues.addressList(letter.to))]
        if !letter.cc.isEmpty { headers.append(MIMEHeaderField("Cc", HeaderValues.addressList(letter.cc))) }
        headers += [MIMEHeaderField("Subject", EncodedWord.encodeIfNeeded(letter.subject)),
                    MIMEHeaderField("Date", HeaderValues.date(letter.date)),
                    MIMEHeaderField("Message-ID", HeaderValues.messageID(letter.messageID))]
        var parts = [MIMEEntity.text(letter.body)]
        for attachment in letter.attachments {
            guard MIMEContentType(parsing: attachment.mediaType) != nil else {
                throw MessageError(.invalidArgument, "\"\(attachment.mediaType.prefix(80))\" is not a media type.")
            }
            parts.append(.binary(attachment.content, mediaType: attachment.mediaType, fileName: attachment.fileName))
        }
        for reference in letter.references {
            parts.append(.binary(try reference.jsonEncoded(), mediaType: AttachmentReference.mediaType,
                                 fileName: reference.fileName))
        }
        return .multipart("mixed", parts, headers: headers)
    }

    /// RFC 8551 §3.5.2: the SignedData as an application/pkcs7-mime entity.
    static func signedDataEntity(_ der: Data) -> MIMEEntity {
        MIMEEntity(headers: [MIMEHeaderField("Content-Type",
                                             "application/pkcs7-mime; smime-type=signed-data; name=\"smime.p7m\""),
                             MIMEHeaderField("Content-Transfer-Encoding", "base64"),
                             MIMEHeaderField("Content-Disposition", "attachment; filename=\"smime.p7m\"")],
                   body: .bytes(der))
    }

    private static func outerMessage(_ letter: Letter, envelope: Data,
                                     encryption: ContentEncryptionAlgorithm) -> MIMEEntity {
        // RFC 8551 §3.3 / RFC 5083: authEnveloped-data for AES-GCM, enveloped-data otherwise.
        let smimeType = encryption.isAuthenticated ? "authEnveloped-data" : "enveloped-data"
        return MIMEEntity(headers: [
            MIMEHeaderField("MIME-Version", "1.0"),
            MIMEHeaderField("From", letter.from.address),
            MIMEHeaderField("To", letter.to.map(\.address).joined(separator: ", ")),
            MIMEHeaderField("Subject", placeholderSubject),
            MIMEHeaderField("Date", HeaderValues.date(letter.date)),
            MIMEHeaderField("Message-ID", HeaderValues.messageID(letter.messageID)),
            MIMEHeaderField("Content-Type", "application/pkcs7-mime; smime-type=\(smimeType); name=\"smime.p7m\""),
            MIMEHeaderField("Content-Disposition", "attachment; filename=\"smime.p7m\""),
            MIMEHeaderField("Content-Transfer-Encoding", "base64"),
        ], body: .bytes(envelope))
    }
}
