// The client's local store: SQLite in which every message, summary and contact is sealed
// with AES-256-GCM under one storage key (the row's id is the associated data, so a
// sealed value cannot be moved to another row). The storage key itself is kept only
// wrapped: enveloped (CMS) to the user's encryption certificate and unwrapped with the
// encryption key when the store is opened, or, when the user chose so at enrolment, sealed
// under a key derived from a passphrase by scrypt. No plaintext reaches the disk.
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

    /// What unwraps the storage key.
    public enum Protection: Sendable {
        /// The key is enveloped (CMS) to the user's encryption certificate.
        case encryptionKey(PrivateKey, Certificate)
        /// The key is sealed (AES-256-GCM) under a key derived from a passphrase by scrypt
        /// (RFC 7914), for a user who wants the store to open only with something typed.
        case passphrase(Secret)
    }

    /// The stored form of a passphrase-wrapped storage key.
    struct PassphraseWrapping: Codable {
        var salt: Data
        var cost: Scrypt.Cost
        var sealed: Data
    }

    /// Opens the store at `path`, creating it (and a fresh storage key wrapped to
    /// `certificate`) when it does not exist.
    public convenience init(path: String, encryptionKey: PrivateKey, certificate: Certificate) throws {
        try self.init(path: path, protection: .encryptionKey(encryptionKey, certificate))
    }

    /// Opens the store at `path`, creating it and a fresh storage key wrapped as
    /// `protection` says when it does not exist. A store is opened only the way it was made.
    public init(path: String, protection: Protection) throws {
        do {
            database = try Database(path: path)
            _ = try database.migrate(Self.migrations)
            let byCertificate = try database.queryOne("SELECT value FROM settings WHERE name = 'storage-key'")
            let byPassphrase = try database.queryOne("SELECT value FROM settings WHERE name = 'storage-key-scrypt'")
            switch protection {
            case .encryptionKey(let encryptionKey, let certificate):
                if let wrapped = byCertificate {
                    key = try CMSEnvelope.decrypt(try wrapped.data(0), key: encryptionKey, certificate: certificate).content
                } else if byPassphrase != nil {
                    throw ClientError(.storage, "The local store opens with its passphrase (SEM_STORE_PASSPHRASE), not the encryption key.")
                } else {
                    let fresh = AESGCM.generateKey()
                    try database.execute("INSERT INTO settings (name, value) VALUES ('storage-key', ?)",
                                         [.blob(try CMSEnvelope.encrypt(fresh, for: [certificate]))])
                    key = fresh
                }
            case .passphrase(let passphrase):
                if let stored = byPassphrase {
                    let wrapping = try JSONDecoder().decode(PassphraseWrapping.self, from: try stored.data(0))
                    let wrappingKey = try Scrypt.deriveKey(passphrase: passphrase, salt: wrapping.salt, cost: wrapping.cost)
                    do { key = try AESGCM.open(wrapping.sealed, key: wrappingKey, associatedData: Data("storage-key".utf8)) } catch {
                        throw ClientError(.storage, "The passphrase does not open the local store.")
                    }
                } else if byCertificate != nil {
                    throw ClientError(.storage, "The local store opens with the encryption key, not a passphrase.")
                } else {
                    let fresh = AESGCM.generateKey()
                    let wrapping = PassphraseWrapping(salt: SecureRandom.bytes(16), cost: Scrypt.Cost(), sealed: Data())
                    let wrappingKey = try Scrypt.deriveKey(passphrase: passphrase, salt: wrapping.salt, cost: wrapping.cost)
                    var sealed = wrapping
                    sealed.sealed = try AESGCM.seal(fresh, key: wrappingKey, associatedData: Data("storage-key".utf8))
                    try database.execute("INSERT INTO settings (name, value) VALUES ('storage-key-scrypt', ?)",
                                         [.blob(try JSONEncoder().encode(sealed))])
                    key = fresh
                }
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

    /// A setting that holds a number (a sync cursor, a version); 0 when it is not set.
    func numberSetting(_ name: String) throws -> Int64 {
        try setting(name).flatMap { Int64(String(decoding: $0, as: UTF8.self)) } ?? 0
    }

    func setNumberSetting(_ name: String, _ value: Int64) throws { try setSetting(name, Data(String(value).utf8)) }

    var cursor: Int64 {
        get throws { try numberSetting("cursor") }
    }

    func setCursor(_ value: Int64) throws { try setNumberSetting("cursor", value) }

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
