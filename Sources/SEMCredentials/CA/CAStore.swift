// The CA's durable state in SQLite: users, one-time enrolment codes, every issued
// certificate with its revocation, the archived (still encrypted) encryption keys, and
// the CRL counter. Each state change the service acknowledges has been committed.
public import Foundation
public import SEMStorage

/// What a certificate is for, as recorded by the CA.
public enum CertificateKind: String, Sendable, Codable, CaseIterable {
    case signing, encryption, server
}

/// One issued certificate as the CA remembers it.
public struct IssuedCertificate: Sendable {
    public let serialHex: String
    public let address: String
    public let kind: CertificateKind
    public let der: Data
    public let notAfter: Date
    public let revokedAt: Date?
    public let revocationReason: Int?
}

/// Who an archived envelope is addressed to.
public enum ArchiveRecipient {
    /// The key-archive certificate, which clients envelope their keys to at enrolment.
    public static let keyArchive = "key-archive"
    /// The recovery certificate, whose key exists only as the officers' shares.
    public static let keyRecovery = "key-recovery"
}

/// Typed access to the CA database.
public final class CAStore: Sendable {
    public let database: Database

    static let migrations = [
        Migration(version: 1, name: "ca-initial", sql: """
            CREATE TABLE users (
                address TEXT PRIMARY KEY,
                assurance TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE enrolment_codes (
                id INTEGER PRIMARY KEY,
                address TEXT NOT NULL REFERENCES users(address),
                code_digest BLOB NOT NULL UNIQUE,
                expires_at INTEGER NOT NULL,
                signing_used_at INTEGER,
                encryption_used_at INTEGER
            );
            CREATE TABLE certificates (
                serial TEXT PRIMARY KEY,
                address TEXT NOT NULL,
                kind TEXT NOT NULL,
                der BLOB NOT NULL,
                not_after INTEGER NOT NULL,
                issued_at INTEGER NOT NULL,
                revoked_at INTEGER,
                revocation_reason INTEGER
            );
            CREATE INDEX certificates_by_address ON certificates(address, kind, issued_at);
            CREATE TABLE archived_keys (
                serial TEXT PRIMARY KEY REFERENCES certificates(serial),
                address TEXT NOT NULL,
                envelope BLOB NOT NULL,
                archived_at INTEGER NOT NULL
            );
            CREATE TABLE crl_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                number INTEGER NOT NULL
            );
            INSERT INTO crl_state (id, number) VALUES (1, 0);
            """),
        // Key recovery (docs/RECOVERY.md): the recovery certificate and the officers'
        // enveloped shares of its key, recovery requests with their approvals, and the
        // hash-chained audit log. `recipient` says which key opens an archived envelope.
        Migration(version: 2, name: "key-recovery", sql: """
            ALTER TABLE archived_keys ADD COLUMN recipient TEXT NOT NULL DEFAULT 'key-archive';
            CREATE TABLE recovery_configuration (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                threshold INTEGER NOT NULL,
                certificate BLOB NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE recovery_officers (
                fingerprint TEXT PRIMARY KEY,
                certificate BLOB NOT NULL,
                x INTEGER NOT NULL UNIQUE,
                share_envelope BLOB NOT NULL
            );
            CREATE TABLE recovery_requests (
                id TEXT PRIMARY KEY,
                address TEXT NOT NULL,
                reason TEXT NOT NULL,
                requester TEXT NOT NULL,
                certificate BLOB NOT NULL,
                state TEXT NOT NULL,
                notify TEXT,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE recovery_approvals (
                request_id TEXT NOT NULL REFERENCES recovery_requests(id),
                officer TEXT NOT NULL REFERENCES recovery_officers(fingerprint),
                share_envelope BLOB NOT NULL,
                approved_at INTEGER NOT NULL,
                PRIMARY KEY (request_id, officer)
            );
            CREATE TABLE audit_log (
                sequence INTEGER PRIMARY KEY,
                record BLOB NOT NULL,
                signature BLOB NOT NULL
            );
            """),
    ]

    public init(database: Database) throws {
        self.database = database
        _ = try database.migrate(Self.migrations)
    }

    public convenience init(path: String) throws {
        try self.init(database: try Database(path: path))
    }

    // MARK: Users

    public func addUser(_ address: String, assurance: AssuranceLevel, at time: Date) throws {
        do {
            try database.execute("INSERT INTO users (address, assurance, created_at) VALUES (?, ?, ?)",
                                 [.text(address), .text(assurance.rawValue), .integer(Int64(time.timeIntervalSince1970))])
        } catch let error as StorageError where error.code == .constraint {
            throw CredentialsError(.userExists, "The user \(address) already exists.")
        }
    }

    public func assurance(of address: String) throws -> AssuranceLevel? {
        guard let row = try database.queryOne("SELECT assurance FROM users WHERE address = ?", [.text(address)]) else {
            return nil
        }
        return AssuranceLevel(rawValue: try row.string(0))
    }

    // MARK: Certificates

    public func record(_ certificate: IssuedCertificate, at time: Date) throws {
        try database.execute("""
            INSERT INTO certificates (serial, address, kind, der, not_after, issued_at) VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(certificate.serialHex), .text(certificate.address), .text(certificate.kind.rawValue),
                  .blob(certificate.der), .integer(Int64(certificate.notAfter.timeIntervalSince1970)),
                  .integer(Int64(time.timeIntervalSince1970))])
    }

    public func certificate(serialHex: String) throws -> IssuedCertificate? {
        try database.queryOne("SELECT * FROM certificates WHERE serial = ?", [.text(serialHex.lowercased())])
            .map(Self.issued)
    }

    /// Certificates of `address`, newest first.
    public func certificates(of address: String, kind: CertificateKind? = nil) throws -> [IssuedCertificate] {
        if let kind {
            return try database.query("""
                SELECT * FROM certificates WHERE address = ? AND kind = ? ORDER BY issued_at DESC, rowid DESC
                """, [.text(address), .text(kind.rawValue)]).map(Self.issued)
        }
        return try database.query("SELECT * FROM certificates WHERE address = ? ORDER BY issued_at DESC, rowid DESC",
                                  [.text(address)]).map(Self.issued)
    }

    /// Every revoked certificate that has not yet expired (expired ones may leave the
    /// CRL: RFC 5280 §3.3).
    public func revokedCertificates(notExpiredAt time: Date) throws -> [IssuedCertificate] {
        try database.query("SELECT * FROM certificates WHERE revoked_at IS NOT NULL AND not_after >= ?",
                           [.integer(Int64(time.timeIntervalSince1970))]).map(Self.issued)
    }

    /// Marks a certificate revoked; refuses one that already is.
    public func revoke(serialHex: String, reason: Int, at time: Date) throws {
        let result = try database.execute("""
            UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE serial = ? AND revoked_at IS NULL
            """, [.integer(Int64(time.timeIntervalSince1970)), .int(reason), .text(serialHex.lowercased())])
        if result.changes == 0 {
            guard try certificate(serialHex: serialHex) != nil else {
                throw CredentialsError(.certificateNotFound, "No certificate with serial \(serialHex) was issued here.")
            }
            throw CredentialsError(.alreadyRevoked, "The certificate with serial \(serialHex) is already revoked.")
        }
    }

    /// Increments and returns the CRL number (RFC 5280 §5.2.3: monotonically increasing).
    public func nextCRLNumber() throws -> UInt64 {
        try database.transaction { db in
            try db.execute("UPDATE crl_state SET number = number + 1 WHERE id = 1")
            return UInt64(try db.queryOne("SELECT number FROM crl_state WHERE id = 1")!.int(0))
        }
    }

    // MARK: Key archive

    /// Stores an archived key's envelope; `recipient` names the key that opens it:
    /// `key-archive`, or `key-recovery` once recovery officers are set.
    public func archive(envelope: Data, serialHex: String, address: String, recipient: String = ArchiveRecipient.keyArchive,
                        at time: Date) throws {
        try database.execute("""
            INSERT INTO archived_keys (serial, address, envelope, archived_at, recipient) VALUES (?, ?, ?, ?, ?)
            """, [.text(serialHex), .text(address), .blob(envelope), .integer(Int64(time.timeIntervalSince1970)),
                  .text(recipient)])
    }

    /// The archived envelopes of `address`, oldest first, with their certificate serials.
    public func archivedKeys(of address: String) throws -> [(serialHex: String, envelope: Data)] {
        try database.query("SELECT serial, envelope FROM archived_keys WHERE address = ? ORDER BY archived_at, rowid",
                           [.text(address)]).map { (try $0.string(0), try $0.data(1)) }
    }

    /// Every archived envelope still opened by `recipient`, with its serial.
    public func archivedKeys(recipient: String) throws -> [(serialHex: String, envelope: Data)] {
        try database.query("SELECT serial, envelope FROM archived_keys WHERE recipient = ? ORDER BY rowid",
                           [.text(recipient)]).map { (try $0.string(0), try $0.data(1)) }
    }

    /// Replaces an archived envelope by one for another recipient.
    public func rewrapArchivedKey(serialHex: String, envelope: Data, recipient: String) throws {
        try database.execute("UPDATE archived_keys SET envelope = ?, recipient = ? WHERE serial = ?",
                             [.blob(envelope), .text(recipient), .text(serialHex)])
    }

    private static func issued(_ row: Row) throws -> IssuedCertificate {
        IssuedCertificate(
            serialHex: try row.string("serial"), address: try row.string("address"),
            kind: CertificateKind(rawValue: try row.string("kind")) ?? .signing, der: try row.data("der"),
            notAfter: Date(timeIntervalSince1970: TimeInterval(try row.int("not_after"))),
            revokedAt: try row.optionalInt("revoked_at").map { Date(timeIntervalSince1970: TimeInterval($0)) },
            revocationReason: try row.optionalInt("revocation_reason").map { Int($0) })
    }
}
