// Submission (architecture R5): for each recipient the PDP decides `submit` (the user
// hands the message over) and then `send` (the server passes it on); the permit's
// obligations are enforced where the server can (see `obligationRefusal`). Accepted recipients in this domain get the message at
// once; the others are queued per destination domain, which must be in the trust list.
// The sender keeps a copy flagged "sent". Everything is stored in one transaction.
public import Foundation
public import SEMCrypto
import SEMPolicy

/// POST /v1/messages.
public struct Submission: Sendable, Codable, Equatable {
    public struct Attachment: Sendable, Codable, Equatable {
        public var id: String
        /// The media type of the plaintext, as the sender declares it for policy.
        public var mediaType: String?

        public init(id: String, mediaType: String? = nil) {
            self.id = id
            self.mediaType = mediaType
        }
    }

    /// An attachment carried inside the encrypted message, declared by the sender's client
    /// so that policy can judge what the server cannot see (its media type and size).
    public struct InlineAttachment: Sendable, Codable, Equatable {
        public var mediaType: String
        public var size: Int64

        public init(mediaType: String, size: Int64) {
            self.mediaType = mediaType
            self.size = size
        }
    }

    public var recipients: [String]
    /// The S/MIME message (CMS, DER), base64.
    public var content: Data
    public var attachments: [Attachment]?
    public var inlineAttachments: [InlineAttachment]?

    public init(recipients: [String], content: Data, attachments: [Attachment]? = nil,
                inlineAttachments: [InlineAttachment]? = nil) {
        self.recipients = recipients
        self.content = content
        self.attachments = attachments
        self.inlineAttachments = inlineAttachments
    }
}

/// POST /v1/attachment-checks: may the reader save attachments of these types and sizes?
public struct AttachmentCheck: Sendable, Codable, Equatable {
    public var attachments: [Submission.InlineAttachment]

    public init(attachments: [Submission.InlineAttachment]) { self.attachments = attachments }
}

/// The answer: permitted or not, with the policy's reason.
public struct AttachmentCheckResult: Sendable, Codable, Equatable {
    public var permitted: Bool
    public var reason: String
}

/// The answer to a submission: the message id and what became of each recipient.
public struct SubmissionResult: Sendable, Codable, Equatable {
    public struct Recipient: Sendable, Codable, Equatable {
        public var address: String
        /// "delivered" (local mailbox), "queued" (another domain), or "refused".
        public var status: String
        public var reason: String
    }

    public var messageId: String?
    public var recipients: [Recipient]
}

extension MailService {
    /// Submits for `sender`; `certificate` is the one the sender logged in with (its
    /// assurance policy goes into every decision).
    public func submit(_ submission: Submission, from sender: String, certificate: Certificate? = nil,
                       at time: Date = Date()) throws -> SubmissionResult {
        guard !submission.recipients.isEmpty, submission.recipients.count <= 500 else {
            throw MailError(.invalidRequest, "A message needs 1 to 500 recipients.")
        }
        guard !submission.content.isEmpty else { throw MailError(.invalidRequest, "The message content is empty.") }
        guard submission.content.count <= settings.maximumMessageBytes else {
            throw MailError(.tooLarge, "The message has \(submission.content.count) bytes; \(domain) accepts at most "
                            + "\(settings.maximumMessageBytes).")
        }
        let recipients = try Array(Set(submission.recipients.map(Self.address))).sorted()
        let attachments = try checkedAttachments(submission.attachments ?? [], owner: sender)
            + (try declaredAttachments(submission.inlineAttachments ?? []))

        var results: [SubmissionResult.Recipient] = []
        var local: [String] = [], remote: [String: [String]] = [:]
        let list = try? trustList()
        let subject = try user(sender, certificate: certificate)
        for recipient in recipients {
            let recipientDomain = Self.domain(of: recipient)
            let described = try resource(recipient, size: submission.content.count, attachments)
            // The user hands the message over for this recipient (submit), and the server
            // sends it on (send); the default policy words both per recipient.
            let submitted = try decide(DecisionRequest(subject: subject, action: .submit, resource: described))
            let decision = submitted.isPermit
                ? try decide(DecisionRequest(subject: subject, action: .send, resource: described)) : submitted
            if !decision.isPermit {
                results.append(.init(address: recipient, status: "refused", reason: decision.reason))
            } else if let refusal = Self.obligationRefusal(decision.obligations, attachments) {
                results.append(.init(address: recipient, status: "refused", reason: refusal))
            } else if recipientDomain == domain {
                local.append(recipient)
                results.append(.init(address: recipient, status: "delivered", reason: decision.reason))
            } else if list?.domain(named: recipientDomain) == nil {
                results.append(.init(address: recipient, status: "refused",
                                     reason: "\(recipientDomain) is not a domain of the federation's current trust list"))
            } else {
                remote[recipientDomain, default: []].append(recipient)
                results.append(.init(address: recipient, status: "queued", reason: decision.reason))
            }
        }
        let accepted = local + remote.values.flatMap { $0 }
        guard !accepted.isEmpty else { return SubmissionResult(messageId: nil, recipients: results) }

        let message = StoredMessage(id: newMessageID(), sender: sender, recipients: accepted, receivedAt: time,
                                    size: Int64(submission.content.count), blob: .of(submission.content),
                                    attachments: attachments.compactMap(\.record?.id))
        for case let record? in attachments.map(\.record) { try storage.grantAttachment(record.id, to: accepted) }
        try storage.enqueue(message, content: submission.content, localMailboxes: Array(Set(local + [sender])).sorted(),
                            remote: remote, at: time)
        // Shortcoming: the "sent" flag and the local recipients' notifications are stored
        // after the message, each on its own; a crash in between leaves the message
        // delivered without them (the submitter got no answer, and finds the message in
        // their own mailbox without the flag).
        _ = try storage.update(owner: sender, messageID: message.id, flags: ["sent"], deleted: false)
        for recipient in local {
            try notify(DeliveryNotification(status: .delivered, messageId: message.id, recipient: recipient,
                                            server: identity.hostName, time: time), sender: sender, at: time)
        }
        logger.info("mail.submitted", ["id": message.id, "local": local.count, "remote": remote.count,
                                       "refused": results.count - accepted.count])
        return SubmissionResult(messageId: message.id, recipients: results)
    }

    /// An attachment as policy sees it: an uploaded one (with its stored record) or one
    /// the client declares as carried inside the message.
    struct CheckedAttachment {
        let record: AttachmentRecord?
        let size: Int64
        let mediaType: String

        /// How a refusal names it.
        var label: String { record.map { "attachment \($0.id.prefix(12))" } ?? "an attachment inside the message" }
    }

    private func checkedAttachments(_ declared: [Submission.Attachment], owner: String) throws -> [CheckedAttachment] {
        guard declared.count <= 100 else { throw MailError(.invalidRequest, "A message may refer to at most 100 attachments.") }
        return try declared.map { attachment in
            guard let record = try storage.attachment(id: attachment.id), try storage.mayRead(attachment: record.id, address: owner)
            else {
                throw MailError(.invalidRequest, "There is no attachment \(attachment.id) uploaded by \(owner).")
            }
            return CheckedAttachment(record: record, size: record.size, mediaType: attachment.mediaType ?? "application/octet-stream")
        }
    }

    func declaredAttachments(_ declared: [Submission.InlineAttachment]) throws -> [CheckedAttachment] {
        guard declared.count <= 100 else { throw MailError(.invalidRequest, "A message may declare at most 100 attachments.") }
        return try declared.map { attachment in
            guard attachment.size >= 0, attachment.size <= Int64(settings.maximumMessageBytes) else {
                throw MailError(.invalidRequest, "A declared attachment size of \(attachment.size) bytes is not possible.")
            }
            return CheckedAttachment(record: nil, size: attachment.size, mediaType: attachment.mediaType)
        }
    }

    func resource(_ recipient: String?, size: Int?, _ attachments: [CheckedAttachment]) throws -> RequestResource {
        do {
            return try RequestResource(recipient: recipient, size: size, attachments: attachments.map {
                try RequestAttachment(size: Int($0.size), mediaType: $0.mediaType)
            })
        } catch {
            throw MailError(.invalidRequest, "The message cannot be described to the policy: \(error)")
        }
    }

    /// Whether `reader` may save attachments like these (PDP `fetch-attachment`, and the
    /// size and media-type obligations of its permit). The client asks before it writes
    /// a decrypted attachment, since only it knows the plaintext's type and size.
    public func checkAttachments(_ check: AttachmentCheck, reader: String) throws -> AttachmentCheckResult {
        let attachments = try declaredAttachments(check.attachments)
        let decision = try decide(DecisionRequest(subject: try user(reader), action: .fetchAttachment,
                                                  resource: try resource(nil, size: nil, attachments)))
        guard decision.isPermit else { return AttachmentCheckResult(permitted: false, reason: decision.reason) }
        if let refusal = Self.obligationRefusal(decision.obligations, attachments) {
            return AttachmentCheckResult(permitted: false, reason: refusal)
        }
        return AttachmentCheckResult(permitted: true, reason: decision.reason)
    }

    /// The first obligation the message does not meet, as a sentence; nil when it meets them all.
    ///
    /// The server holds only ciphertext, so it enforces what it can see from outside:
    /// - `max-attachment-size`: the stored ciphertext sizes (a little above the plaintext's);
    /// - `allowed-media-types`: the media types the client declares for its attachments;
    /// - `quarantine`: there is no review hold for submitted mail, and an obligation the
    ///   enforcing point cannot discharge must not turn into a permit, so the recipient is
    ///   refused with that sentence.
    /// The client meets the rest inside the message, where the server cannot look:
    /// - `require-receipt`: the receipt request is a signed attribute (RFC 2634 §2.7) of
    ///   the SignedData inside the encryption;
    /// - `minimum-algorithm`: the client picks the content cipher.
    ///   Shortcoming: the envelope names that cipher in clear (RFC 5652 §6.1
    ///   EncryptedContentInfo), so the server could check it, but does not yet;
    /// - `notify-user`: the client shows the notice; the decision's reason carries it.
    static func obligationRefusal(_ obligations: [Obligation], _ attachments: [CheckedAttachment]) -> String? {
        for obligation in obligations {
            switch obligation {
            case .quarantine:
                return "policy requires the message to be held for review (quarantine), which this server does not "
                    + "offer for submitted mail"
            case .requireReceipt, .minimumAlgorithm, .notifyUser:
                continue
            case .maxAttachmentSize(let bytes):
                if let big = attachments.first(where: { $0.size > Int64(bytes) }) {
                    return "\(big.label) has \(big.size) bytes; policy allows \(bytes)"
                }
            case .allowedMediaTypes(let patterns):
                for attachment in attachments {
                    let allowed = patterns.contains { $0.matches(mediaType: attachment.mediaType) }
                    if !allowed { return "attachments of type \(attachment.mediaType) are not allowed by policy" }
                }
            }
        }
        return nil
    }
}
