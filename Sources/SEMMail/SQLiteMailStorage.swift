// MailStorage on SQLite (SEMStorage's Database) with ciphertext in the content-addressed
// BlobStore: a message or attachment is stored once however many mailboxes hold it.
//
// Mailbox sync uses a modification sequence (RFC 7162 uses the same idea for IMAP): every
// new entry, flag change and deletion takes the next `modseq`, and a client asks for the
// changes after the highest one it has seen; deletions stay as tombstones for that.
public import Foundation
public import SEMStorage

/// The mail server's storage in one SQLite file and a blob directory.
public struct SQLiteMailStorage: MailStorage {
    let database: Database
    let blobs: BlobStore

    static let migrations = [
        Migration(version: 1, name: "mail server", sql: """
            CREATE TABLE messages (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, sender TEXT NOT NULL, recipients TEXT NOT NULL,
                received_at REAL NOT NULL, size INTEGER NOT NULL, blob TEXT NOT NULL, attachments TEXT NOT NULL,
                authenticated INTEGER NOT NULL);
            CREATE TABLE mailbox (
                owner TEXT NOT NULL, message_id TEXT NOT NULL REFERENCES messages(id), modseq INTEGER NOT NULL,
                flags TEXT NOT NULL DEFAULT '[]', deleted INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (owner, message_id));
            CREATE INDEX mailbox_changes ON mailbox(owner, modseq);
            CREATE TABLE queue (
                id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL REFERENCES messages(id),
                domain TEXT NOT NULL, recipients TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt REAL NOT NULL, state TEXT NOT NULL, last_error TEXT);
            CREATE INDEX queue_due ON queue(state, next_attempt);
            CREATE TABLE attachments (
                id TEXT PRIMARY KEY, owner TEXT NOT NULL, size INTEGER NOT NULL, origin TEXT);
            CREATE TABLE attachment_access (
                attachment_id TEXT NOT NULL REFERENCES attachments(id), address TEXT NOT NULL,
                PRIMARY KEY (attachment_id, address));
            CREATE TABLE address_books (owner TEXT PRIMARY KEY, version INTEGER NOT NULL, content BLOB NOT NULL);
            """),
        Migration(version: 2, name: "abuse reports", sql: """
            CREATE TABLE abuse_reports (
                id TEXT PRIMARY KEY, reporter TEXT NOT NULL, sender TEXT NOT NULL, message_id TEXT NOT NULL,
                reason TEXT NOT NULL, filed_at REAL NOT NULL, authenticated INTEGER NOT NULL);
            """),
    ]

    /// Opens (creating when needed) the database at `databasePath` and the blob store at `blobDirectory`.
    public init(databasePath: String, blobDirectory: URL) throws {
        try self.init(database: try Database(path: databasePath), blobs: try BlobStore(root: blobDirectory))
    }

    public init(database: Database, blobs: BlobStore) throws {
        self.database = database
        self.blobs = blobs
        _ = try Self.guarded { try database.migrate(Self.migrations) }
    }

    /// Removes the temporary files of blob writes that a crash interrupted and that have
    /// not been written to for `age` seconds; returns how many. The blob store never
    /// names a blob until its write is complete, so these files are all that a crash can
    /// leave behind, and nothing refers to them.
    @discardableResult
    public func removeInterruptedWrites(olderThan age: TimeInterval) throws -> Int {
        try Self.guarded { try blobs.removeStaleTemporaryFiles(olderThan: age) }
    }

    // MARK: Messages and mailboxes

    @discardableResult
    public func deliver(_ message: StoredMessage, content: Data, to mailboxes: [String]) throws -> [String] {
        try Self.guarded {
            let blob = try blobs.put(content)
            return try database.transaction { db in
                try Self.insert(message, blob: blob, into: db)
                return try mailboxes.filter { try Self.addEntry(owner: $0, messageID: message.id, in: db) }
            }
        }
    }

    public func enqueue(_ message: StoredMessage, content: Data, localMailboxes: [String],
                        remote: [String: [String]], at time: Date) throws {
        try Self.guarded {
            let blob = try blobs.put(content)
            try database.transaction { db in
                try Self.insert(message, blob: blob, into: db)
                for owner in localMailboxes { _ = try Self.addEntry(owner: owner, messageID: message.id, in: db) }
                for (domain, recipients) in remote.sorted(by: { $0.key < $1.key }) {
                    try db.execute("INSERT INTO queue (message_id, domain, recipients, next_attempt, state) VALUES (?, ?, ?, ?, 'pending')",
                                   [.text(message.id), .text(domain), .text(try Self.json(recipients)),
                                    .real(time.timeIntervalSince1970)])
                }
            }
        }
    }

    public func message(id: String) throws -> StoredMessage? {
        try Self.guarded {
            try database.queryOne("SELECT \(Self.messageColumns) FROM messages WHERE id = ?", [.text(id)]).map(Self.message)
        }
    }

    public func content(of message: StoredMessage) throws -> Data {
        try Self.guarded { try blobs.read(message.blob) }
    }

    public func changes(of owner: String, after modseq: Int64, limit: Int, kind: StoredMessage.Kind?) throws -> [MailboxEntry] {
        try Self.guarded {
            try database.query("""
                SELECT m.modseq, m.flags, m.deleted, \(Self.messageColumns("g")) FROM mailbox m
                JOIN messages g ON g.id = m.message_id WHERE m.owner = ? AND m.modseq > ? AND (? IS NULL OR g.kind = ?)
                ORDER BY m.modseq LIMIT ?
                """, [.text(owner), .integer(modseq), .optional(kind?.rawValue), .optional(kind?.rawValue),
                      .int(limit)]).map(Self.entry)
        }
    }

    public func entry(of owner: String, messageID: String) throws -> MailboxEntry? {
        try Self.guarded {
            try database.queryOne("""
                SELECT m.modseq, m.flags, m.deleted, \(Self.messageColumns("g")) FROM mailbox m
                JOIN messages g ON g.id = m.message_id WHERE m.owner = ? AND m.message_id = ?
                """, [.text(owner), .text(messageID)]).map(Self.entry)
        }
    }

    public func update(owner: String, messageID: String, flags: [String]?, deleted: Bool) throws -> MailboxEntry? {
        try Self.guarded {
            try database.transaction { db in
                let changed = try db.execute("""
                    UPDATE mailbox SET flags = COALESCE(?, flags), deleted = MAX(deleted, ?),
                        modseq = (SELECT COALESCE(MAX(modseq), 0) + 1 FROM mailbox WHERE owner = ?)
                    WHERE owner = ? AND message_id = ?
                    """, [.optional(try flags.map(Self.json)), .bool(deleted), .text(owner), .text(owner), .text(messageID)])
                guard changed.changes == 1 else { return nil }
                return try entry(of: owner, messageID: messageID)
            }
        }
    }

    // MARK: Queue

    public func dueQueueItems(at time: Date, limit: Int) throws -> [QueueItem] {
        try Self.guarded {
            try database.query("""
                SELECT \(Self.queueColumns) FROM queue WHERE state = 'pending' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?
                """, [.real(time.timeIntervalSince1970), .int(limit)]).map(Self.queueItem)
        }
    }

    public func queueItems(of messageID: String) throws -> [QueueItem] {
        try Self.guarded {
            try database.query("SELECT \(Self.queueColumns) FROM queue WHERE message_id = ? ORDER BY id", [.text(messageID)])
                .map(Self.queueItem)
        }
    }

    public func markDelivered(_ item: QueueItem) throws {
        try setQueueState(item, "UPDATE queue SET state = 'delivered', attempts = attempts + 1 WHERE id = ?", [.integer(item.id)])
    }

    public func reschedule(_ item: QueueItem, recipients: [String], to time: Date, error: String) throws {
        try setQueueState(item, """
            UPDATE queue SET attempts = attempts + 1, recipients = ?, next_attempt = ?, last_error = ? WHERE id = ?
            """, [.text(try Self.json(recipients)), .real(time.timeIntervalSince1970), .text(error), .integer(item.id)])
    }

    public func markFailed(_ item: QueueItem, error: String) throws {
        try setQueueState(item, "UPDATE queue SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
                          [.text(error), .integer(item.id)])
    }

    private func setQueueState(_ item: QueueItem, _ sql: String, _ parameters: [SQLValue]) throws {
        try Self.guarded { _ = try database.execute(sql, parameters) }
    }

    // MARK: Attachments

    public func putAttachment(owner: String, maxSize: Int64, origin: String?,
                              read: (Int) throws -> Data) throws -> AttachmentRecord {
        try Self.guarded {
            let blob = try blobs.put(maxSize: maxSize, read: read)
            let record = AttachmentRecord(id: blob.hex, owner: owner, size: try blobs.size(blob), origin: origin)
            try database.transaction { db in
                // A foreign attachment recorded at delivery (size -1) becomes present.
                try db.execute("""
                    INSERT INTO attachments (id, owner, size, origin) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET size = excluded.size WHERE attachments.size < 0
                    """, [.text(record.id), .text(owner), .integer(record.size), .optional(origin)])
                try db.execute("INSERT OR IGNORE INTO attachment_access (attachment_id, address) VALUES (?, ?)",
                               [.text(record.id), .text(owner)])
            }
            return try attachment(id: record.id) ?? record
        }
    }

    public func recordForeignAttachment(_ id: String, origin: String, owner: String, readers: [String]) throws {
        try Self.guarded {
            try database.transaction { db in
                try db.execute("INSERT OR IGNORE INTO attachments (id, owner, size, origin) VALUES (?, ?, -1, ?)",
                               [.text(id), .text(owner), .text(origin)])
                for reader in readers {
                    try db.execute("INSERT OR IGNORE INTO attachment_access (attachment_id, address) VALUES (?, ?)",
                                   [.text(id), .text(reader.lowercased())])
                }
            }
        }
    }

    public func attachment(id: String) throws -> AttachmentRecord? {
        try Self.guarded {
            try database.queryOne("SELECT id, owner, size, origin FROM attachments WHERE id = ?", [.text(id)]).map { row in
                AttachmentRecord(id: try row.string(0), owner: try row.string(1), size: try row.int(2),
                                 origin: try row.optionalString(3))
            }
        }
    }

    public func grantAttachment(_ id: String, to addresses: [String]) throws {
        try Self.guarded {
            try database.transaction { db in
                for address in addresses {
                    try db.execute("INSERT OR IGNORE INTO attachment_access (attachment_id, address) VALUES (?, ?)",
                                   [.text(id), .text(address.lowercased())])
                }
            }
        }
    }

    public func mayRead(attachment id: String, address: String) throws -> Bool {
        try Self.guarded {
            try database.queryOne("SELECT 1 FROM attachment_access WHERE attachment_id = ? AND address = ?",
                                  [.text(id), .text(address.lowercased())]) != nil
        }
    }

    public func mayRead(attachment id: String, domain: String) throws -> Bool {
        try Self.guarded {
            try database.queryOne("SELECT 1 FROM attachment_access WHERE attachment_id = ? AND address LIKE ? ESCAPE '\\'",
                                  [.text(id), .text("%@" + Self.escapeLike(domain.lowercased()))]) != nil
        }
    }

    public func openAttachment(_ record: AttachmentRecord) throws -> BlobReader {
        try Self.guarded { try blobs.open(try BlobID(hex: record.id)) }
    }

    public func attachmentFootprint() throws -> (stored: Int64, perMailbox: Int64) {
        try Self.guarded {
            let row = try database.queryOne("""
                SELECT COALESCE(SUM(a.size), 0),
                       COALESCE(SUM(a.size * (SELECT COUNT(*) FROM attachment_access x WHERE x.attachment_id = a.id)), 0)
                FROM attachments a WHERE a.size >= 0
                """)
            return (try row?.int(0) ?? 0, try row?.int(1) ?? 0)
        }
    }

    // MARK: Address books

    public func addressBook(of owner: String) throws -> AddressBook? {
        try Self.guarded {
            try database.queryOne("SELECT version, content FROM address_books WHERE owner = ?", [.text(owner)]).map { row in
                AddressBook(version: try row.int(0), content: try row.data(1))
            }
        }
    }

    public func putAddressBook(of owner: String, content: Data, expected: Int64) throws -> AddressBook {
        try Self.guarded {
            try database.transaction { db in
                let current = try db.queryOne("SELECT version FROM address_books WHERE owner = ?", [.text(owner)])
                    .map { try $0.int(0) } ?? 0
                guard current == expected else {
                    throw MailError(.versionConflict, "The address book is at version \(current), not \(expected); "
                                    + "fetch it, merge, and send it again.")
                }
                try db.execute("INSERT OR REPLACE INTO address_books (owner, version, content) VALUES (?, ?, ?)",
                               [.text(owner), .integer(current + 1), .blob(content)])
                return AddressBook(version: current + 1, content: content)
            }
        }
    }

    // MARK: Abuse reports

    public func fileReport(_ report: AbuseReport) throws {
        try Self.guarded {
            _ = try database.execute("""
                INSERT INTO abuse_reports (id, reporter, sender, message_id, reason, filed_at, authenticated)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(report.id), .text(report.reporter), .text(report.sender), .text(report.messageId),
                      .text(report.reason), .real(report.filedAt.timeIntervalSince1970), .integer(report.authenticated ? 1 : 0)])
        }
    }

    public func reports() throws -> [AbuseReport] {
        try Self.guarded {
            try database.query("""
                SELECT id, reporter, sender, message_id, reason, filed_at, authenticated FROM abuse_reports
                ORDER BY filed_at, id
                """).map { row in
                AbuseReport(id: try row.string(0), reporter: try row.string(1), sender: try row.string(2), messageId: try row.string(3),
                            reason: try row.string(4), filedAt: Date(timeIntervalSince1970: try row.double(5)),
                            authenticated: try row.int(6) != 0)
            }
        }
    }

    // MARK: Rows

    static let messageColumns = messageColumns(nil)

    static func messageColumns(_ table: String?) -> String {
        let prefix = table.map { "\($0)." } ?? ""
        return ["id", "kind", "sender", "recipients", "received_at", "size", "blob", "attachments", "authenticated"]
            .map { prefix + $0 }.joined(separator: ", ")
    }

    static let queueColumns = "id, message_id, domain, recipients, attempts, next_attempt, state, last_error"

    static func message(_ row: Row) throws -> StoredMessage { try message(row, from: 0) }

    static func message(_ row: Row, from start: Int) throws -> StoredMessage {
        StoredMessage(id: try row.string(start), kind: StoredMessage.Kind(rawValue: try row.string(start + 1)) ?? .message,
                      sender: try row.string(start + 2), recipients: try strings(try row.string(start + 3)),
                      receivedAt: Date(timeIntervalSince1970: try row.double(start + 4)), size: try row.int(start + 5),
                      blob: try BlobID(hex: try row.string(start + 6)), attachments: try strings(try row.string(start + 7)),
                      authenticated: try row.int(start + 8) != 0)
    }

    static func entry(_ row: Row) throws -> MailboxEntry {
        MailboxEntry(modseq: try row.int(0), message: try message(row, from: 3), flags: try strings(try row.string(1)),
                     deleted: try row.int(2) != 0)
    }

    static func queueItem(_ row: Row) throws -> QueueItem {
        QueueItem(id: try row.int(0), messageID: try row.string(1), domain: try row.string(2),
                  recipients: try strings(try row.string(3)), attempts: Int(try row.int(4)),
                  nextAttempt: Date(timeIntervalSince1970: try row.double(5)),
                  state: QueueItem.State(rawValue: try row.string(6)) ?? .pending, lastError: try row.optionalString(7))
    }

    static func insert(_ message: StoredMessage, blob: BlobID, into db: Database) throws {
        try db.execute("""
            INSERT OR IGNORE INTO messages (id, kind, sender, recipients, received_at, size, blob, attachments, authenticated)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(message.id), .text(message.kind.rawValue), .text(message.sender), .text(try json(message.recipients)),
                  .real(message.receivedAt.timeIntervalSince1970), .integer(message.size), .text(blob.hex),
                  .text(try json(message.attachments)), .bool(message.authenticated)])
    }

    /// Adds the message to `owner`'s mailbox; false when it is there already.
    static func addEntry(owner: String, messageID: String, in db: Database) throws -> Bool {
        try db.execute("""
            INSERT OR IGNORE INTO mailbox (owner, message_id, modseq)
            VALUES (?, ?, (SELECT COALESCE(MAX(modseq), 0) + 1 FROM mailbox WHERE owner = ?))
            """, [.text(owner), .text(messageID), .text(owner)]).changes == 1
    }

    static func json(_ strings: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(strings), as: UTF8.self)
    }

    static func strings(_ text: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    /// Runs `body`, turning storage failures into `MailError(.storage)`.
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StorageError where error.code == .tooLarge {
            throw MailError(.tooLarge, error.reason)
        } catch let error as StorageError {
            throw MailError(.storage, "The mail store failed: \(error.reason)")
        } catch let error as DecodingError {
            throw MailError(.storage, "The mail store holds a malformed row: \(error)")
        }
    }
}
