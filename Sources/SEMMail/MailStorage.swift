// What the mail server keeps, behind one protocol so that another database (PostgreSQL)
// can take SQLite's place without touching the service: messages and their mailbox
// entries, the outbound queue, attachments with their access lists, and address books.
//
// Every mutating call is atomic: it either happens whole or not at all, and a call that
// returns has reached the disk (SQLite with synchronous=FULL).
public import Foundation
public import SEMStorage

/// A message as stored: the opaque end-to-end encrypted CMS (or a server-signed
/// notification) in the blob store, with the envelope facts the server needs.
public struct StoredMessage: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case message, notification }

    /// Globally unique: "<random>@<domain of the server that accepted it>".
    public var id: String
    public var kind: Kind
    public var sender: String
    public var recipients: [String]
    public var receivedAt: Date
    public var size: Int64
    public var blob: BlobID
    /// Attachment ids the message refers to (ciphertext blobs held by the sender's server).
    public var attachments: [String]
    /// False for mail accepted from a peer that is not a registered server (quarantine).
    public var authenticated: Bool

    public init(id: String, kind: Kind = .message, sender: String, recipients: [String], receivedAt: Date, size: Int64,
                blob: BlobID, attachments: [String] = [], authenticated: Bool = true) {
        self.id = id
        self.kind = kind
        self.sender = sender
        self.recipients = recipients
        self.receivedAt = receivedAt
        self.size = size
        self.blob = blob
        self.attachments = attachments
        self.authenticated = authenticated
    }
}

/// One message in one user's mailbox, as sync returns it.
public struct MailboxEntry: Sendable, Equatable, Codable {
    /// Increases with every change to any entry of the mailbox; sync asks for changes
    /// after the last one it saw.
    public var modseq: Int64
    public var message: StoredMessage
    public var flags: [String]
    public var deleted: Bool
}

/// Outbound work: one message for the recipients at one destination domain.
public struct QueueItem: Sendable, Equatable {
    public enum State: String, Sendable { case pending, delivered, failed }

    public var id: Int64
    public var messageID: String
    public var domain: String
    public var recipients: [String]
    public var attempts: Int
    public var nextAttempt: Date
    public var state: State
    public var lastError: String?
}

/// An uploaded (or fetched) attachment's ciphertext and who may read it.
public struct AttachmentRecord: Sendable, Equatable, Codable {
    public var id: String
    public var owner: String
    /// Bytes of ciphertext; -1 for a foreign attachment not fetched yet.
    public var size: Int64
    /// The server the ciphertext came from, for a foreign attachment fetched once.
    public var origin: String?
}

/// The encrypted address book of one user: opaque to the server.
public struct AddressBook: Sendable, Equatable {
    public var version: Int64
    public var content: Data
}

/// A user's report that a letter they received is abuse (spam, malware, fraud): the
/// evidence an administrator needs to suspend the sender (P7).
public struct AbuseReport: Sendable, Equatable, Codable {
    public var id: String
    public var reporter: String
    /// The envelope sender of the reported message.
    public var sender: String
    public var messageId: String
    public var reason: String
    public var filedAt: Date
    /// Whether the message came from a registered server (false for quarantined legacy mail).
    public var authenticated: Bool

    public init(id: String, reporter: String, sender: String, messageId: String, reason: String, filedAt: Date,
                authenticated: Bool) {
        self.id = id
        self.reporter = reporter
        self.sender = sender
        self.messageId = messageId
        self.reason = reason
        self.filedAt = filedAt
        self.authenticated = authenticated
    }
}

/// The mail server's storage.
public protocol MailStorage: Sendable {
    /// Stores `content` (the CMS) as a blob and the message, and puts it in each of
    /// `mailboxes`. A message id already stored is not stored again, and an owner already
    /// holding it gets no second entry, so a repeated delivery changes nothing.
    /// - Returns: the owners that got a new entry.
    @discardableResult
    func deliver(_ message: StoredMessage, content: Data, to mailboxes: [String]) throws -> [String]
    /// Stores the message and queues it for the given destinations in one transaction.
    func enqueue(_ message: StoredMessage, content: Data, localMailboxes: [String],
                 remote: [String: [String]], at time: Date) throws
    func message(id: String) throws -> StoredMessage?
    func content(of message: StoredMessage) throws -> Data

    /// Entries of `owner`'s mailbox changed after `modseq`, oldest change first; with
    /// `kind`, only entries of messages of that kind.
    func changes(of owner: String, after modseq: Int64, limit: Int, kind: StoredMessage.Kind?) throws -> [MailboxEntry]
    func entry(of owner: String, messageID: String) throws -> MailboxEntry?
    /// Replaces the flags, or marks the entry deleted; nil when the entry does not exist.
    func update(owner: String, messageID: String, flags: [String]?, deleted: Bool) throws -> MailboxEntry?

    /// Pending items due at `time`.
    func dueQueueItems(at time: Date, limit: Int) throws -> [QueueItem]
    func queueItems(of messageID: String) throws -> [QueueItem]
    func markDelivered(_ item: QueueItem) throws
    /// Keeps `recipients` (those still to be tried) for another attempt at `time`.
    func reschedule(_ item: QueueItem, recipients: [String], to time: Date, error: String) throws
    func markFailed(_ item: QueueItem, error: String) throws

    /// Stores a streamed upload; `readers` may read it (the owner always may).
    func putAttachment(owner: String, maxSize: Int64, origin: String?, read: (Int) throws -> Data) throws -> AttachmentRecord
    /// Records an attachment of a message from another domain, not fetched yet (size -1),
    /// readable by `readers`; fetching it later stores it under the same id.
    func recordForeignAttachment(_ id: String, origin: String, owner: String, readers: [String]) throws
    func attachment(id: String) throws -> AttachmentRecord?
    func grantAttachment(_ id: String, to addresses: [String]) throws
    func mayRead(attachment id: String, address: String) throws -> Bool
    /// Whether any address of `domain` may read the attachment.
    func mayRead(attachment id: String, domain: String) throws -> Bool
    func openAttachment(_ record: AttachmentRecord) throws -> BlobReader
    /// Bytes held in the blob store for attachments, and what one copy per reader would take.
    func attachmentFootprint() throws -> (stored: Int64, perMailbox: Int64)

    func addressBook(of owner: String) throws -> AddressBook?
    /// Stores a new version; refused with `.versionConflict` unless `expected` is the
    /// current version (0 when there is none).
    func putAddressBook(of owner: String, content: Data, expected: Int64) throws -> AddressBook

    func fileReport(_ report: AbuseReport) throws
    /// Every report, oldest first.
    func reports() throws -> [AbuseReport]
}

extension MailStorage {
    /// Entries of every kind changed after `modseq`.
    public func changes(of owner: String, after modseq: Int64, limit: Int) throws -> [MailboxEntry] {
        try changes(of: owner, after: modseq, limit: limit, kind: nil)
    }
}
