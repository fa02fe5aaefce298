// Mailbox sync, flags and deletion, attachments and the address book, each for the
// authenticated owner only.
public import Foundation
public import SEMStorage
import SEMPolicy

extension MailService {
    /// Changes after `cursor`, at most `limit`, and the cursor to ask with next.
    public func sync(_ owner: String, after cursor: Int64, limit: Int) throws -> (entries: [MailboxEntry], cursor: Int64) {
        guard cursor >= 0, (1...1000).contains(limit) else {
            throw MailError(.invalidRequest, "The cursor must be 0 or more and the limit from 1 to 1000.")
        }
        let entries = try storage.changes(of: owner, after: cursor, limit: limit)
        return (entries, entries.last?.modseq ?? cursor)
    }

    /// A notification entry with the statement it carries, for GET /v1/notifications.
    public struct NotificationEntry: Sendable, Encodable, Equatable {
        public var entry: MailboxEntry
        /// The signed statement as the server reads it; nil for a deleted entry or one that
        /// does not open. The CMS itself (GET /v1/messages/{id}/content) is the proof.
        public var notification: DeliveryNotification?
    }

    /// Notification entries (delivery notices and non-delivery notices) changed after
    /// `cursor`, with their statements, and the cursor to ask with next. Signed receipts
    /// are not among them: they travel as end-to-end encrypted letters, which the server
    /// cannot tell apart from other letters.
    public func notifications(_ owner: String, after cursor: Int64, limit: Int) throws
        -> (entries: [NotificationEntry], cursor: Int64) {
        guard cursor >= 0, (1...1000).contains(limit) else {
            throw MailError(.invalidRequest, "The cursor must be 0 or more and the limit from 1 to 1000.")
        }
        let entries = try storage.changes(of: owner, after: cursor, limit: limit, kind: .notification)
        let opened = try entries.map { entry in
            guard !entry.deleted else { return NotificationEntry(entry: entry, notification: nil) }
            let content = try storage.content(of: entry.message)
            return NotificationEntry(entry: entry, notification: try? DeliveryNotification.open(content).notification)
        }
        return (opened, entries.last?.modseq ?? cursor)
    }

    /// One message of the owner's mailbox with its content.
    public func fetch(_ owner: String, messageID: String) throws -> (entry: MailboxEntry, content: Data) {
        guard let entry = try storage.entry(of: owner, messageID: messageID), !entry.deleted else {
            throw MailError(.notFound, "There is no message \(messageID) in the mailbox of \(owner).")
        }
        return (entry, try storage.content(of: entry.message))
    }

    /// Replaces the flags of a message, or deletes it from the mailbox (a tombstone stays for sync).
    public func change(_ owner: String, messageID: String, flags: [String]?, delete: Bool) throws -> MailboxEntry {
        if let flags {
            guard flags.count <= 32, flags.allSatisfy({ (1...64).contains($0.count) && $0.allSatisfy(\.isASCII) }) else {
                throw MailError(.invalidRequest, "Flags are up to 32 ASCII words of 1 to 64 characters.")
            }
        }
        guard let entry = try storage.update(owner: owner, messageID: messageID, flags: flags, deleted: delete) else {
            throw MailError(.notFound, "There is no message \(messageID) in the mailbox of \(owner).")
        }
        return entry
    }

    // MARK: Attachments

    /// Stores an uploaded attachment ciphertext; `read(n)` returns up to n more bytes,
    /// empty at the end.
    public func upload(_ owner: String, read: (Int) throws -> Data) throws -> AttachmentRecord {
        do {
            return try storage.putAttachment(owner: owner, maxSize: settings.maximumAttachmentBytes, origin: nil, read: read)
        } catch let error as MailError where error.code == .tooLarge {
            throw MailError(.tooLarge, "Attachments may have at most \(settings.maximumAttachmentBytes) bytes.")
        }
    }

    /// An attachment `reader` may download: one it uploaded, or one of a message addressed
    /// to it. A foreign attachment is fetched from its origin server first, once for the
    /// whole domain.
    public func attachmentForDownload(_ id: String, reader: String) throws -> (record: AttachmentRecord, content: BlobReader) {
        guard let record = try storage.attachment(id: id), try storage.mayRead(attachment: id, address: reader) else {
            throw MailError(.notFound, "There is no attachment \(id) for \(reader).")
        }
        // Every download is a decision (R5). The server sees only ciphertext, so the
        // request names its size when known and no media type; the client asks again, with
        // the plaintext's type and size, before it saves (POST /v1/attachment-checks).
        let size = record.size >= 0 ? Int(record.size) : nil
        let decision = try decide(DecisionRequest(subject: try user(reader), action: .fetchAttachment,
                                                  resource: try resource(nil, size: size, [])))
        guard decision.isPermit else { throw MailError(.forbidden, decision.reason) }
        let present = record.size >= 0 ? record : try fetchForeignAttachment(record)
        return (present, try storage.openAttachment(present))
    }

    /// Bytes stored for attachments against one copy per reader's mailbox.
    public func attachmentFootprint() throws -> (stored: Int64, perMailbox: Int64) { try storage.attachmentFootprint() }

    // MARK: Address book

    public func addressBook(_ owner: String) throws -> AddressBook {
        guard let book = try storage.addressBook(of: owner) else {
            throw MailError(.notFound, "\(owner) has not stored an address book yet.")
        }
        return book
    }

    /// The largest address book blob accepted.
    public static let maximumAddressBookBytes = 4 << 20

    public func storeAddressBook(_ owner: String, content: Data, expectedVersion: Int64) throws -> AddressBook {
        guard content.count <= Self.maximumAddressBookBytes else {
            throw MailError(.tooLarge, "An address book may have at most \(Self.maximumAddressBookBytes) bytes.")
        }
        return try storage.putAddressBook(of: owner, content: content, expected: expectedVersion)
    }
}
