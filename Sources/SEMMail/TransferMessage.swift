// How a message travels between SEM servers over SMTP (RFC 5321 DATA, RFC 5322 format):
// the S/MIME body unchanged (base64, RFC 8551 §3.2 media types), the envelope in From/To,
// the server-assigned Message-ID, and two fields of ours:
//
//   SEM-Transfer-Assertion   base64 of the signed TransferAssertion
//   SEM-Attachments          ids of attachment ciphertexts held by the sending server
//   SEM-Kind                 "message" or "notification"
import Foundation
import SEMMessage

struct TransferMessage {
    var messageID: String
    var kind: StoredMessage.Kind
    var sender: String
    var recipients: [String]
    var content: Data
    var attachments: [String]
    var assertion: Data

    /// Largest transfer message accepted or produced.
    static let maximumBytes = 160 << 20

    func serialized() throws -> Data {
        let smimeType = kind == .message ? "enveloped-data" : "signed-data"
        var headers = [
            MIMEHeaderField("From", "<\(sender)>"),
            MIMEHeaderField("To", recipients.map { "<\($0)>" }.joined(separator: ", ")),
            MIMEHeaderField("Message-ID", "<\(messageID)>"),
            MIMEHeaderField("MIME-Version", "1.0"),
            MIMEHeaderField("SEM-Kind", kind.rawValue),
            // Base64 in words of 76 so that the field can be folded (RFC 5322 §2.2.3).
            MIMEHeaderField("SEM-Transfer-Assertion", assertion.base64EncodedString(options: .lineLength76Characters)
                .split(whereSeparator: \.isNewline).joined(separator: " ")),
            MIMEHeaderField("Content-Type", "application/pkcs7-mime; smime-type=\(smimeType); name=smime.p7m"),
            MIMEHeaderField("Content-Transfer-Encoding", "base64"),
        ]
        if !attachments.isEmpty { headers.insert(MIMEHeaderField("SEM-Attachments", attachments.joined(separator: " ")), at: 5) }
        return try MIMEEntity(headers: headers, body: .bytes(content)).serialized()
    }

    /// Reads a received message; throws `MailError(.invalidRequest)` naming what is missing.
    static func parse(_ data: Data, sender: String, recipients: [String]) throws -> TransferMessage {
        let entity: MIMEEntity
        do { entity = try MIMEParser(limits: MIMELimits(maximumTotalBytes: maximumBytes)).parse(data) } catch {
            throw MailError(.invalidRequest, "The message is not well-formed MIME: \(error)")
        }
        guard let idField = entity.header("Message-ID") else { throw MailError(.invalidRequest, "The message has no Message-ID.") }
        let id = idField.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
        guard !id.isEmpty, id.count <= 200, id.contains("@") else {
            throw MailError(.invalidRequest, "The Message-ID is not of the form <local@domain>.")
        }
        guard let assertionText = entity.header("SEM-Transfer-Assertion"),
              let assertion = Data(base64Encoded: assertionText.filter { !$0.isWhitespace }) else {
            throw MailError(.forbidden, "The message carries no transfer assertion from a registered server.")
        }
        guard let content = entity.content, !content.isEmpty else {
            throw MailError(.invalidRequest, "The message has no S/MIME content.")
        }
        let kind = StoredMessage.Kind(rawValue: entity.header("SEM-Kind") ?? "message") ?? .message
        let attachments = (entity.header("SEM-Attachments") ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        return TransferMessage(messageID: id, kind: kind, sender: sender, recipients: recipients, content: content,
                               attachments: attachments, assertion: assertion)
    }
}
