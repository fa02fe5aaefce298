// Reading an S/MIME letter: outer message (or bare CMS DER) → decrypt → verify → parse
// the inner entity → Letter, plus what the caller needs to decide whether to believe it.
//
// Not done here, by design: path validation of the signer certificate (trust anchor,
// validity, revocation, key usage). The caller must validate `signerCertificate` with
// `certificates` as untrusted intermediates before showing the sender as verified.
public import Foundation
public import SEMCrypto

/// How the addresses claiming to be the sender agree with each other.
public struct SenderCheck: Sendable, Hashable {
    /// One disagreement between the places that name the sender.
    public enum Problem: Sendable, Hashable {
        /// The outer (transport) From differs from the signed inner From.
        case outerFromDiffers(outer: String, inner: String)
        /// The signer certificate does not carry the inner From address.
        case signerAddressDiffers(inner: String, certificate: [String])
    }

    /// The outer From address, or nil when the input was bare CMS.
    public let outerFrom: String?
    /// The signed (protected) From address.
    public let innerFrom: String
    /// The e-mail addresses in the signer certificate.
    public let certificateAddresses: [String]
    public let problems: [Problem]

    /// Whether outer From, inner From and the signer certificate all name the same mailbox.
    public var isConsistent: Bool { problems.isEmpty }
}

/// A letter that was decrypted and whose signature verified.
public struct ReadLetter: Sendable {
    public let letter: Letter
    /// The signer's certificate. Not yet path-validated: see the file note.
    public let signerCertificate: Certificate
    /// Every certificate the SignedData carried, for building the signer's path.
    public let certificates: [Certificate]
    /// The signingTime attribute, as claimed by the signer.
    public let signingTime: Date?
    /// The receipt request, when the sender asked for a signed receipt.
    public let receiptRequest: ReceiptRequest?
    /// The signed header fields of the inner entity, in order.
    public let protectedHeaders: [MIMEHeaderField]
    /// The outer message's header fields (empty for bare CMS input).
    public let outerHeaders: [MIMEHeaderField]
    public let senderCheck: SenderCheck
    /// The content-encryption algorithm the sender chose.
    public let encryption: ContentEncryptionAlgorithm
    /// The DER SignedData, needed to create a receipt.
    public let signedData: Data
    /// The signed bytes when the signature was detached (multipart/signed), else nil.
    public let detachedContent: Data?
    /// The full signer information (capabilities, digest).
    public let signer: CMSSignerInfo

    public var receiptRequested: Bool { receiptRequest != nil }
}

/// Reads S/MIME letters.
public enum LetterReader {
    /// Reads a letter from the outer RFC 5322 message or from the bare CMS DER envelope.
    ///
    /// - Throws: `MessageError` when the bytes are not an S/MIME encrypted letter;
    ///   `CryptoError` with `.authenticationFailed` (altered ciphertext),
    ///   `.noMatchingRecipient`, `.badSignature` and the other CMS codes.
    public static func read(_ input: Data, key: PrivateKey, certificate: Certificate,
                            parser: MIMEParser = MIMEParser()) throws -> ReadLetter {
        var outerHeaders: [MIMEHeaderField] = []
        let envelope: Data
        if input.first == 0x30 {
            envelope = input
        } else {
            // Bare LF line ends are canonicalised first (RFC 8551 §3.1.1), as for the inner entity.
            let outer = try parser.parse(MIMEParser.canonicalLineEnds(input))
            let type = outer.contentType
            guard ["application/pkcs7-mime", "application/x-pkcs7-mime"].contains(type.mediaType),
                  let der = outer.content else {
                throw MessageError(.unsupported, "The message is not an S/MIME encrypted message (application/pkcs7-mime).")
            }
            outerHeaders = outer.headers
            envelope = der
        }
        let decrypted = try CMSEnvelope.decrypt(envelope, key: key, certificate: certificate)
        let (signedData, detachedContent) = try signedContent(decrypted.content, parser: parser)
        let verified = try CMSVerifier.verify(signedData, detachedContent: detachedContent)
        let inner = try parser.parse(verified.content)
        let letter = try letter(from: inner)
        let signer = verified.signer
        let outerFrom = try outerHeaders.first { $0.name.lowercased() == "from" }
            .map { try HeaderValues.parseMailbox($0.value).address }
        return ReadLetter(letter: letter, signerCertificate: signer.certificate, certificates: verified.certificates,
                          signingTime: signer.signingTime, receiptRequest: signer.receiptRequest,
                          protectedHeaders: inner.headers, outerHeaders: outerHeaders,
                          senderCheck: check(outerFrom: outerFrom, inner: letter.from, signer: signer.certificate),
                          encryption: decrypted.algorithm, signedData: signedData, detachedContent: detachedContent,
                          signer: signer)
    }

    /// The SignedData inside the decrypted content, and the signed bytes when the
    /// signature is detached. Accepted: an application/pkcs7-mime signed-data entity
    /// (RFC 8551 §3.5.2, what this system writes), multipart/signed with an
    /// application/pkcs7-signature part (RFC 8551 §3.5.3, what most other clients and
    /// `openssl cms -sign` write), and bare DER SignedData.
    private static func signedContent(_ content: Data, parser: MIMEParser) throws -> (der: Data, detached: Data?) {
        if content.first == 0x30 { return (content, nil) }
        let canonical = MIMEParser.canonicalLineEnds(content)
        let entity = try parser.parse(canonical)
        let type = entity.contentType
        if type.mediaType == "multipart/signed" {
            // RFC 1847 §2.1: exactly two parts, the content and then its signature; the
            // signature covers the first part's bytes exactly as they were sent.
            let signatureTypes = ["application/pkcs7-signature", "application/x-pkcs7-signature"]
            guard entity.parts.count == 2, signatureTypes.contains(entity.parts[1].contentType.mediaType),
                  let signature = entity.parts[1].content else {
                throw MessageError(.malformed, "A multipart/signed letter needs a content part and an "
                                   + "application/pkcs7-signature part.")
            }
            return (signature, try parser.rawParts(of: canonical)[0])
        }
        guard type.type == "application", type.subtype.hasSuffix("pkcs7-mime"), let der = entity.content else {
            throw MessageError(.unsupported, "The encrypted content is not an S/MIME signed-data entity.")
        }
        return (der, nil)
    }

    /// Builds the Letter from the parsed inner entity.
    static func letter(from inner: MIMEEntity) throws -> Letter {
        guard let fromValue = inner.header("From"), let toValue = inner.header("To") else {
            throw MessageError(.malformed, "The signed letter has no From or To header.")
        }
        let from = try HeaderValues.parseMailbox(fromValue)
        let date = try inner.header("Date").map(HeaderValues.parseDate) ?? Date(timeIntervalSince1970: 0)
        let messageID = try inner.header("Message-ID").map(HeaderValues.parseMessageID) ?? ""
        var body = ""
        var attachments: [InlineAttachment] = []
        var references: [AttachmentReference] = []
        for part in leaves(of: inner) {
            let type = part.contentType
            guard let content = part.content else { continue }
            let disposition = part.header("Content-Disposition").flatMap(MIMEContentDisposition.init(parsing:))
            if type.mediaType == AttachmentReference.mediaType {
                references.append(try AttachmentReference.decode(content))
            } else if type.type == "text", type.subtype == "plain", disposition?.kind != "attachment", body.isEmpty {
                body = String(decoding: content, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            } else {
                attachments.append(InlineAttachment(fileName: disposition?.fileName ?? type.parameter("name") ?? "attachment",
                                                    mediaType: type.mediaType, content: content))
            }
        }
        return Letter(from: from, to: try HeaderValues.parseAddressList(toValue),
                      cc: try inner.header("Cc").map(HeaderValues.parseAddressList) ?? [],
                      subject: EncodedWord.decode(inner.header("Subject") ?? ""), date: date,
                      messageID: messageID, body: body, attachments: attachments, references: references)
    }

    /// The leaf entities in document order. Nested multiparts (alternative, related)
    /// are flattened; the reader takes the first text/plain leaf as the body and offers
    /// every other leaf as an attachment (a known simplification: no HTML rendering choice).
    private static func leaves(of entity: MIMEEntity) -> [MIMEEntity] {
        guard entity.contentType.type == "multipart" else { return [entity] }
        return entity.parts.flatMap(leaves(of:))
    }

    static func check(outerFrom: String?, inner: MailAddress, signer: Certificate) -> SenderCheck {
        var problems: [SenderCheck.Problem] = []
        if let outerFrom, !inner.sameMailbox(as: outerFrom) {
            problems.append(.outerFromDiffers(outer: outerFrom, inner: inner.address))
        }
        let addresses = signer.emailAddresses
        if !addresses.contains(where: inner.sameMailbox) {
            problems.append(.signerAddressDiffers(inner: inner.address, certificate: addresses))
        }
        return SenderCheck(outerFrom: outerFrom, innerFrom: inner.address, certificateAddresses: addresses,
                           problems: problems)
    }
}
