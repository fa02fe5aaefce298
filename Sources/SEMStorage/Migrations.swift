// Numbered schema migrations. Each one runs in its own transaction together with the
// record of it (a row in schema_migrations and PRAGMA user_version), so a migration is
// either fully applied and recorded, or not at all.
//
// Rules: versions are positive and strictly increasing in the list (gaps are allowed);
// migrations already applied are never run again; a database whose version is higher
// than the last one the program knows is refused, because older code could damage data
// in a schema it does not understand.
//
// Known shortcoming: migration SQL must not contain BEGIN, COMMIT or ROLLBACK, and
// PRAGMAs that do nothing inside a transaction (foreign_keys, journal_mode) have no
// effect there.

/// One schema change.
public struct Migration: Sendable, Equatable {
    /// Position in the schema history; stored in PRAGMA user_version once applied.
    public let version: Int
    /// A short description recorded beside the version.
    public let name: String
    /// One or more SQL statements separated by semicolons.
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

extension Database {
    /// The schema version recorded in the database (PRAGMA user_version); 0 when new.
    public func schemaVersion() throws -> Int {
        Int(try queryOne("PRAGMA user_version")?.int(0) ?? 0)
    }

    /// Applies, in order, every migration newer than the database's version.
    ///
    /// - Returns: the migrations applied by this call (empty when already up to date).
    /// - Throws: `invalidArgument` for a list with duplicate, unordered or non-positive
    ///   versions; `schemaTooNew` when the database is newer than the list;
    ///   `migrationFailed` when a migration fails (the database keeps its previous version
    ///   and nothing of the failed migration remains).
    @discardableResult
    public func migrate(_ migrations: [Migration]) throws -> [Migration] {
        try Self.validate(migrations)
        return try locked {
            guard !isInTransaction else {
                throw StorageError(.invalidArgument, "Migrations cannot run inside a transaction.")
            }
            try transaction { db in
                try db.executeScript("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        applied_at TEXT NOT NULL)
                    """)
            }
            let known = migrations.last?.version ?? 0
            let current = try schemaVersion()
            guard current <= known else {
                throw StorageError(.schemaTooNew,
                                   "The database has schema version \(current), but this program knows only up to "
                                   + "version \(known); use a newer version of the program.")
            }
            try checkHistory(against: migrations, upTo: current)
            var applied: [Migration] = []
            for migration in migrations where migration.version > current {
                if try apply(migration) { applied.append(migration) }
            }
            return applied
        }
    }

    /// Runs one migration in its own transaction; false when another connection applied
    /// it meanwhile (the version is read again after the write lock is taken).
    private func apply(_ migration: Migration) throws -> Bool {
        let before = try schemaVersion()
        do {
            let ran = try transaction { db -> Bool in
                guard try db.schemaVersion() < migration.version else { return false }
                try db.executeScript(migration.sql)
                try db.execute("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    """, [.int(migration.version), .text(migration.name)])
                // PRAGMA takes no parameters; the version is an Int, so formatting is safe.
                try db.executeScript("PRAGMA user_version = \(migration.version)")
                return true
            }
            if ran {
                logger.notice("storage.migration.applied", ["version": migration.version, "name": migration.name])
            }
            return ran
        } catch {
            logger.error("storage.migration.failed", ["version": migration.version, "name": migration.name])
            throw StorageError(.migrationFailed,
                               "Migration \(migration.version) (\(migration.name)) failed; the database stays at "
                               + "version \(before).", detail: "\(error)")
        }
    }

    /// Refuses a database whose recorded history names a version differently from the
    /// list: it was migrated by other code, and applying more would build on the unknown.
    private func checkHistory(against migrations: [Migration], upTo current: Int) throws {
        let names = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0.name) })
        for row in try query("SELECT version, name FROM schema_migrations WHERE version <= ?", [.int(current)]) {
            let version = Int(try row.int(0))
            let recorded = try row.string(1)
            if let name = names[version], name != recorded {
                throw StorageError(.migrationFailed,
                                   "The database records migration \(version) as '\(recorded)', but this program "
                                   + "calls it '\(name)'.")
            }
        }
    }

    private static func validate(_ migrations: [Migration]) throws {
        var previous = 0
        for migration in migrations {
            guard migration.version > 0 else {
                throw StorageError(.invalidArgument, "Migration versions start at 1; got \(migration.version).")
            }
            guard migration.version > previous else {
                throw StorageError(.invalidArgument,
                                   "Migration \(migration.version) is listed after \(previous): versions must be "
                                   + "unique and increasing.")
            }
            guard !migration.name.isEmpty else {
                throw StorageError(.invalidArgument, "Migration \(migration.version) has no name.")
            }
            previous = migration.version
        }
    }
}
