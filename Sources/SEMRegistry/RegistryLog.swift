// The registry's append-only log in SQLite: one row per entry, keyed by sequence number,
// holding the exact stored bytes and their hash. Appending happens in one transaction
// that reads the head and writes the next entry, so two writers never take one number.
//
// Shortcoming: the `hash` column is a convenience for finding the head; verification
// always recomputes hashes from the bytes and reports a column that disagrees.
public import Foundation
public import SEMCrypto
public import SEMLogging
public import SEMStorage
import SEMFederation

/// The SMI registry's hash-chained, signed log.
public struct RegistryLog: Sendable {
    public let database: Database
    let logger: Logger

    /// The schema of the log's database.
    public static let migrations = [
        Migration(version: 1, name: "registry entries", sql: """
            CREATE TABLE entries (
                sequence INTEGER PRIMARY KEY,
                hash TEXT NOT NULL,
                bytes BLOB NOT NULL)
            """),
        trustListMigration,
    ]

    /// Opens the log in `database`, creating its table when needed.
    public init(database: Database, logger: Logger = .disabled) throws {
        self.database = database
        self.logger = logger
        _ = try Self.storage { try database.migrate(Self.migrations) }
    }

    /// The last entry's sequence number and hash; (0, zero hash) for an empty log.
    public func head() throws -> (sequence: UInt64, hash: String) {
        try Self.storage {
            guard let row = try database.queryOne("SELECT sequence, hash FROM entries ORDER BY sequence DESC LIMIT 1") else {
                return (0, RegistryEntry.zeroHash)
            }
            return (UInt64(try row.int(0)), try row.string(1))
        }
    }

    /// Entries with a sequence number above `sequence`, in order, at most `limit` of them.
    /// Rows whose bytes are not a well-formed entry throw `.malformedEntry`.
    public func entries(after sequence: UInt64 = 0, limit: Int = 10_000) throws -> [RegistryEntry] {
        try rawEntries(after: sequence, limit: limit).map { try RegistryEntry(bytes: $0.bytes, position: $0.sequence) }
    }

    /// Stored bytes of the entries after `sequence`, exactly as stored, for a follower.
    public func storedBytes(after sequence: UInt64 = 0, limit: Int = 10_000) throws -> [Data] {
        try rawEntries(after: sequence, limit: limit).map(\.bytes)
    }

    struct RawEntry {
        let sequence: UInt64
        let hash: String
        let bytes: Data
    }

    func rawEntries(after sequence: UInt64, limit: Int) throws -> [RawEntry] {
        guard sequence <= UInt64(Int64.max), limit > 0 else { return [] }
        return try Self.storage {
            try database.query("SELECT sequence, hash, bytes FROM entries WHERE sequence > ? ORDER BY sequence LIMIT ?",
                               [.integer(Int64(sequence)), .int(limit)]).map { row in
                RawEntry(sequence: UInt64(try row.int(0)), hash: try row.string(1), bytes: try row.data(2))
            }
        }
    }

    static func insert(_ entry: RegistryEntry, into db: Database) throws {
        guard entry.sequence <= UInt64(Int64.max) else {
            throw RegistryError(.sequenceGap, sequence: entry.sequence, "The sequence number is beyond what the log can hold.")
        }
        try db.execute("INSERT INTO entries (sequence, hash, bytes) VALUES (?, ?, ?)",
                       [.integer(Int64(entry.sequence)), .text(entry.hash), .blob(entry.bytes)])
    }

    /// Runs `body`, turning storage failures into `RegistryError(.storage)`.
    static func storage<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StorageError {
            throw RegistryError(.storage, "The registry's database failed: \(error.reason)")
        }
    }
}

// MARK: Checked appends

extension RegistryLog {
    /// Every entry, in order.
    public func allEntries() throws -> [RegistryEntry] {
        var result: [RegistryEntry] = []
        while true {
            let page = try entries(after: UInt64(result.count), limit: 1_000)
            if page.isEmpty { return result }
            result += page
        }
    }

    /// The state folded from the whole log.
    public func state() throws -> RegistryState { try RegistryState(folding: try allEntries()) }

    /// Signs and appends an entry, with the next sequence number and the head's hash, only
    /// if the state allows it: the log is folded, the new entry applied to the result, and
    /// only then stored, all in one transaction.
    ///
    /// Shortcoming: the whole log is folded on every append, which is linear in its length;
    /// fine for a federation's pace of change, not for bulk loading.
    @discardableResult
    public func append<Payload: Encodable>(_ kind: RegistryEntryKind, domain: String, payload: Payload,
                                           signer: CertifiedKey, at time: Date = Date()) throws -> RegistryEntry {
        let value: JSONValue
        do { value = try JSONValue.from(payload) } catch let error as FederationError {
            throw RegistryError(.invalidPayload, "The \(kind.rawValue) payload cannot be written: \(error.reason)")
        }
        let entry = try Self.storage {
            try database.transaction { db in
                var state = try self.state()
                let entry = try RegistryEntry(sequence: state.sequence + 1, previousHash: try head().hash, time: time,
                                              kind: kind, domain: domain, payload: value, signer: signer)
                try state.apply(entry)
                try Self.insert(entry, into: db)
                return entry
            }
        }
        logger.notice("registry.appended", ["sequence": entry.sequence, "kind": entry.kind.rawValue, "domain": entry.domain])
        return entry
    }

    /// Checks a signed registration request and records it as `domainRegistered`.
    /// A request that fails is refused before anything is appended.
    @discardableResult
    public func register(request: Data, signer: CertifiedKey, at time: Date = Date()) throws -> RegistryEntry {
        let registration = try DomainRegistration.verify(request: request, at: time)
        return try append(.domainRegistered, domain: registration.domain,
                          payload: RegistrationPayload(registration: registration, request: request), signer: signer, at: time)
    }
}
