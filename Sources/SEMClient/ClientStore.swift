// The client's local store: SQLite in which every message, summary and contact is sealed
// with AES-256-GCM under one storage key (the row's id is the associated data, so a
// sealed value cannot be moved to another row). The storage key itself is kept only
// wrapped: enveloped (CMS) to the user's encryption certificate, and unwrapped with the
// encryption key when the store is opened. No plaintext reaches the disk.
public import Foundation
public import SEMCrypto
import SEMStorage

public final class ClientStore: @unchecked Sendable {
    // @unchecked Sendable: the Database serialises its own access; `key` is immutable.
    let database: Database
    let key: Data

    static let migrations = [
        Migration(version: 1, name: "client store", sql: """
            CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
            CREATE TABLE messages (id TEXT PRIMARY KEY, modseq INTEGER NOT NULL, kind TEXT NOT NULL,
                                   content BLOB NOT NULL, summary BLOB NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE sent (id TEXT PRIMARY KEY, original BLOB NOT NULL);
            CREATE TABLE contacts (address_digest TEXT PRIMARY KEY, sealed BLOB NOT NULL);
            """),
    ]

    /// Opens the store at `path`, creating it (and a fresh storage key wrapped to
    /// `certificate`) when it does not exist.
    public init(path: String, encryptionKey: PrivateKey, certificate: Certificate) throws {
        do {
            database = try Database(path: path)
            _ = try database.migrate(Self.migrations)
            if let wrapped = try database.queryOne("SELECT value FROM settings WHERE name = 'storage-key'") {
                key = try CMSEnvelope.decrypt(try wrapped.data(0), key: encryptionKey, certificate: certificate).content
            } else {
                let fresh = AESGCM.generateKey()
                try database.execute("INSERT INTO settings (name, value) VALUES ('storage-key', ?)",
                                     [.blob(try CMSEnvelope.encrypt(fresh, for: [certificate]))])
                key = fresh
            }
        } catch let error as StorageError {
            throw ClientError(.storage, "The local store failed: \(error.reason)")
        }
    }

    // MARK: Sealing

    func seal(_ value: some Encodable, row: String) throws -> Data {
        try AESGCM.seal(try JSONEncoder().encode(value), key: key, associatedData: Data(row.utf8))
    }

    func open<T: Decodable>(_ type: T.Type, _ sealed: Data, row: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: try AESGCM.open(sealed, key: key, associatedData: Data(row.utf8)))
        } catch {
            throw ClientError(.storage, "A sealed record of the local store (\(row)) does not open: \(error)")
        }
    }

    func sealBytes(_ bytes: Data, row: String) throws -> Data { try AESGCM.seal(bytes, key: key, associatedData: Data(row.utf8)) }

    func openBytes(_ sealed: Data, row: String) throws -> Data {
        do { return try AESGCM.open(sealed, key: key, associatedData: Data(row.utf8)) } catch {
            throw ClientError(.storage, "A sealed record of the local store (\(row)) does not open.")
        }
    }

    // MARK: Settings

    func setting(_ name: String) throws -> Data? {
        try guarded { try database.queryOne("SELECT value FROM settings WHERE name = ?", [.text(name)])?.data(0) }
    }

    func setSetting(_ name: String, _ value: Data) throws {
        try guarded { _ = try database.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", [.text(name), .blob(value)]) }
    }

    var cursor: Int64 {
        get throws { try setting("cursor").flatMap { Int64(String(decoding: $0, as: UTF8.self)) } ?? 0 }
    }

    func setCursor(_ value: Int64) throws { try setSetting("cursor", Data(String(value).utf8)) }

    // MARK: Messages

    /// What `sem inbox` lists, sealed with the message.
    public struct Summary: Codable, Sendable, Equatable {
        public var id: String
        public var kind: String
        public var from: String
        public var subject: String
        public var date: Date
        /// "valid", or the reason the signature or its chain failed.
        public var verdict: String
        public var assurance: String?
        public var attachments: Int
        public var receiptRequested: Bool
    }

    func store(id: String, modseq: Int64, kind: String, content: Data, summary: Summary) throws {
        try guarded {
            _ = try database.execute("""
                INSERT OR REPLACE INTO messages (id, modseq, kind, content, summary, deleted) VALUES (?, ?, ?, ?, ?, 0)
                """, [.text(id), .integer(modseq), .text(kind), .blob(try sealBytes(content, row: "content:\(id)")),
                      .blob(try seal(summary, row: "summary:\(id)"))])
        }
    }

    func markDeleted(_ id: String) throws {
        try guarded { _ = try database.execute("UPDATE messages SET deleted = 1 WHERE id = ?", [.text(id)]) }
    }

    func summaries() throws -> [Summary] {
        try guarded {
            try database.query("SELECT id, summary FROM messages WHERE deleted = 0 ORDER BY modseq").map { row in
                try open(Summary.self, try row.data(1), row: "summary:\(try row.string(0))")
            }
        }
    }

    func content(of id: String) throws -> Data {
        try guarded {
            guard let row = try database.queryOne("SELECT content FROM messages WHERE id = ? AND deleted = 0", [.text(id)]) else {
                throw ClientError(.notFound, "There is no message \(id) in the local store; run sem sync.")
            }
            return try openBytes(try row.data(0), row: "content:\(id)")
        }
    }

    func rememberSent(_ id: String, original: Data) throws {
        try guarded {
            _ = try database.execute("INSERT OR REPLACE INTO sent (id, original) VALUES (?, ?)",
                                     [.text(id), .blob(try sealBytes(original, row: "sent:\(id)"))])
        }
    }

    func sentOriginals() throws -> [(id: String, original: Data)] {
        try guarded {
            try database.query("SELECT id, original FROM sent").map { row in
                let id = try row.string(0)
                return (id, try openBytes(try row.data(1), row: "sent:\(id)"))
            }
        }
    }

    // MARK: Contacts

    public struct Contact: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
    }

    /// Contacts are keyed by a keyed digest of the address (HKDF, RFC 5869, with the
    /// storage key as input keying material), so the file shows no address.
    private func digest(_ address: String) throws -> String {
        try HKDF.deriveKey(inputKeyMaterial: key, salt: Data(address.lowercased().utf8), info: Data("contact".utf8)).hexString
    }

    func putContact(_ contact: Contact) throws {
        let id = try digest(contact.address)
        try guarded {
            _ = try database.execute("INSERT OR REPLACE INTO contacts (address_digest, sealed) VALUES (?, ?)",
                                     [.text(id), .blob(try seal(contact, row: "contact:\(id)"))])
        }
    }

    func removeContact(_ address: String) throws -> Bool {
        try guarded { try database.execute("DELETE FROM contacts WHERE address_digest = ?", [.text(try digest(address))]).changes == 1 }
    }

    func contacts() throws -> [Contact] {
        try guarded {
            try database.query("SELECT address_digest, sealed FROM contacts").map { row in
                try open(Contact.self, try row.data(1), row: "contact:\(try row.string(0))")
            }.sorted { $0.name.lowercased() < $1.name.lowercased() }
        }
    }

    func replaceContacts(_ contacts: [Contact]) throws {
        try guarded {
            try database.transaction { db in
                try db.execute("DELETE FROM contacts")
                for contact in contacts {
                    let id = try digest(contact.address)
                    try db.execute("INSERT OR REPLACE INTO contacts (address_digest, sealed) VALUES (?, ?)",
                                   [.text(id), .blob(try seal(contact, row: "contact:\(id)"))])
                }
            }
        }
    }

    private func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StorageError {
            throw ClientError(.storage, "The local store failed: \(error.reason)")
        }
    }
}
