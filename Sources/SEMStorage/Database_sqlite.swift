// Database - one SQLite connection with the settings the system relies on, a small
// cache of prepared statements, and bounded inputs.
//
// Settings applied on open, and why:
// - journal_mode=WAL (files only): readers do not block the writer; verified to answer
//   "wal", because a connection silently left in rollback mode behaves differently.
// - synchronous=FULL: a committed transaction is on disk before `COMMIT` returns, so no
//   state change is acknowledged to a peer before it is durable (architecture §6).
// - foreign_keys=ON: SQLite leaves them off by default for compatibility.
// - trusted_schema=OFF: SQL functions with side effects may not run from inside the schema.
// - A busy timeout, so a brief lock held by another connection waits instead of failing.
//
// Known shortcomings: SQLITE_DBCONFIG_DEFENSIVE is not set, because `sqlite3_db_config`
// is variadic and Swift cannot call it; a database file that is a symbolic link is
// refused rather than followed; an existing file keeps the mode it already has.
#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import Foundation
public import SEMLogging

/// One SQLite connection.
///
/// Threading: a connection may be used by one thread at a time. Every method takes a
/// recursive lock for its whole duration, so calls from several threads are serialised,
/// and a thread inside `transaction { ... }` holds the lock until the transaction ends
/// (which is what makes the closure's statements belong to that transaction alone).
/// Calls block the calling thread; from Swift concurrency, keep transactions short or
/// call from a dedicated thread. A transaction closure must not wait for another thread
/// that uses the same `Database`: that thread would wait for the lock forever.
public final class Database: @unchecked Sendable {
    // @unchecked Sendable: `handle`, `cache` and `transactionDepth` are only read or
    // written while `lock` is held (see `locked`); everything else is immutable.

    /// Limits and timeouts for a connection.
    public struct Options: Sendable {
        /// How long to wait for another connection's lock before failing with `busy`.
        public var busyTimeoutMilliseconds: Int32
        /// How many prepared statements to keep for reuse.
        public var statementCacheCapacity: Int
        /// Longest SQL text accepted, in bytes.
        public var maximumSQLLength: Int
        /// Longest bound text or blob accepted, in bytes; large content belongs in the blob store.
        public var maximumValueLength: Int

        public init(busyTimeoutMilliseconds: Int32 = 5_000, statementCacheCapacity: Int = 64,
                    maximumSQLLength: Int = 100_000, maximumValueLength: Int = 16 * 1024 * 1024) {
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.statementCacheCapacity = statementCacheCapacity
            self.maximumSQLLength = maximumSQLLength
            self.maximumValueLength = maximumValueLength
        }
    }

    /// What one `execute` changed.
    public struct ExecutionResult: Sendable {
        /// Rows inserted, updated or deleted by the statement.
        public let changes: Int
        /// The rowid of the most recent successful INSERT on this connection.
        public let lastInsertRowID: Int64
    }

    /// How well the statement cache works: reuses and fresh preparations.
    public struct CacheStatistics: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
    }

    /// The file path, or nil for an in-memory database.
    public let path: String?
    public let options: Options
    let logger: Logger
    let handle: OpaquePointer
    private let lock = NSRecursiveLock()
    private var cache: [String: Statement] = [:]
    private var cacheOrder: [String] = []
    private var statistics = CacheStatistics()
    var transactionDepth = 0

    /// Opens (and creates, with mode 0600, if missing) the database file at `path`.
    public convenience init(path: String, options: Options = Options(), logger: Logger = .disabled) throws {
        guard !path.isEmpty, path != ":memory:", !path.utf8.contains(0) else {
            throw StorageError(.invalidArgument, "The database path is empty or not a file path.")
        }
        // Create the file ourselves so that it gets mode 0600 whatever the umask;
        // SQLite gives the -wal and -shm files the mode of the database file.
        do {
            _ = try FileDescriptor(path: path, flags: O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
        } catch let error as StorageError {
            throw StorageError(.openFailed, "The database file could not be created or opened.", detail: error.detail)
        }
        try self.init(name: path, isFile: true, options: options, logger: logger)
    }

    /// Opens a private, empty database that lives in memory until the object goes away.
    public static func inMemory(options: Options = Options(), logger: Logger = .disabled) throws -> Database {
        try Database(name: ":memory:", isFile: false, options: options, logger: logger)
    }

    private init(name: String, isFile: Bool, options: Options, logger: Logger) throws {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW
        let result = sqlite3_open_v2(name, &opened, flags, nil)
        guard result == SQLITE_OK, let opened else {
            let error = SQLite.error(opened, result, "The database could not be opened.")
            sqlite3_close_v2(opened)
            throw StorageError(.openFailed, error.reason, detail: error.detail)
        }
        handle = opened
        path = isFile ? name : nil
        self.options = options
        self.logger = logger
        // From here on a thrown error runs deinit, which closes the handle.
        try configure(isFile: isFile)
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    private func configure(isFile: Bool) throws {
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, options.busyTimeoutMilliseconds)
        sqlite3_limit(handle, SQLITE_LIMIT_SQL_LENGTH, Int32(clamping: options.maximumSQLLength))
        if isFile {
            // The first statement that reads the file also detects one that is not a database.
            let mode = try queryOne("PRAGMA journal_mode=WAL").flatMap { try $0.optionalString(0) }
            guard mode?.lowercased() == "wal" else {
                throw StorageError(.openFailed, "The database could not be switched to write-ahead logging.",
                                   detail: "journal_mode answered \(mode ?? "nothing")")
            }
        }
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
        try execute("PRAGMA trusted_schema=OFF")
        guard try queryOne("PRAGMA foreign_keys")?.int(0) == 1 else {
            throw StorageError(.openFailed, "Foreign key enforcement could not be switched on.")
        }
    }

    // MARK: Statements

    /// Runs one statement with positional parameters (`?`) and discards any rows.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws -> ExecutionResult {
        try run(sql, .positional(parameters))
    }

    /// Runs one statement with named parameters (`:name`; keys with or without the prefix).
    @discardableResult
    public func execute(_ sql: String, named parameters: [String: SQLValue]) throws -> ExecutionResult {
        try run(sql, .named(parameters))
    }

    /// All rows of one statement with positional parameters.
    public func query(_ sql: String, _ parameters: [SQLValue] = []) throws -> [Row] {
        var rows: [Row] = []
        try forEachRow(sql, .positional(parameters)) { rows.append($0) }
        return rows
    }

    /// All rows of one statement with named parameters.
    public func query(_ sql: String, named parameters: [String: SQLValue]) throws -> [Row] {
        var rows: [Row] = []
        try forEachRow(sql, .named(parameters)) { rows.append($0) }
        return rows
    }

    /// The first row, or nil when there is none; further rows are not read.
    public func queryOne(_ sql: String, _ parameters: [SQLValue] = []) throws -> Row? {
        try first(sql, .positional(parameters))
    }

    /// The first row with named parameters, or nil when there is none.
    public func queryOne(_ sql: String, named parameters: [String: SQLValue]) throws -> Row? {
        try first(sql, .named(parameters))
    }

    /// Hands each row to `body` as it is read, without collecting them all in memory.
    public func forEachRow(_ sql: String, _ parameters: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        try forEachRow(sql, .positional(parameters), body)
    }

    /// Runs several statements separated by semicolons, without parameters (for schemas
    /// and migrations).
    public func executeScript(_ sql: String) throws {
        try checkSQL(sql)
        try locked {
            var message: UnsafeMutablePointer<CChar>?
            let result = sqlite3_exec(handle, sql, nil, nil, &message)
            defer { sqlite3_free(message) }
            guard result == SQLITE_OK else {
                let text = message.map { String(cString: $0) } ?? ""
                throw StorageError(SQLite.code(for: result), "The SQL script could not be run.",
                                   detail: "\(text); sqlite code \(result)")
            }
        }
    }

    /// Rows changed by the most recent statement on this connection. Another thread may
    /// run a statement in between: prefer the `ExecutionResult` of `execute`.
    public var changes: Int { locked { Int(sqlite3_changes64(handle)) } }

    /// The rowid of the most recent INSERT on this connection (see `changes` about threads).
    public var lastInsertRowID: Int64 { locked { sqlite3_last_insert_rowid(handle) } }

    /// Reuse counts of the prepared-statement cache.
    public var statementCacheStatistics: CacheStatistics { locked { statistics } }

    // MARK: Internals

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func run(_ sql: String, _ parameters: Parameters) throws -> ExecutionResult {
        try withStatement(sql, parameters) { statement in
            while try statement.step() {}
            return ExecutionResult(changes: Int(sqlite3_changes64(handle)),
                                   lastInsertRowID: sqlite3_last_insert_rowid(handle))
        }
    }

    private func first(_ sql: String, _ parameters: Parameters) throws -> Row? {
        try withStatement(sql, parameters) { statement in try statement.step() ? statement.row() : nil }
    }

    private func forEachRow(_ sql: String, _ parameters: Parameters, _ body: (Row) throws -> Void) throws {
        try withStatement(sql, parameters) { statement in
            while try statement.step() { try body(statement.row()) }
        }
    }

    private func checkSQL(_ sql: String) throws {
        let length = sql.utf8.count
        guard length <= options.maximumSQLLength else {
            throw StorageError(.invalidArgument,
                               "The SQL text is \(length) bytes; the limit is \(options.maximumSQLLength).")
        }
        guard !sql.utf8.contains(0) else {
            throw StorageError(.invalidArgument, "The SQL text contains a NUL character.")
        }
    }

    /// Lends a prepared, bound statement to `body` under the lock and resets it afterwards.
    private func withStatement<T>(_ sql: String, _ parameters: Parameters,
                                  _ body: (Statement) throws -> T) throws -> T {
        try checkSQL(sql)
        return try locked {
            let statement = try cachedStatement(sql)
            statement.inUse = true
            defer {
                statement.reset()
                statement.inUse = false
            }
            try statement.bind(parameters, maximumValueLength: options.maximumValueLength)
            return try body(statement)
        }
    }

    /// A statement for `sql` from the cache, or a fresh one (cached when there is room,
    /// evicting the least recently used).
    private func cachedStatement(_ sql: String) throws -> Statement {
        if let statement = cache[sql], !statement.inUse {
            statistics.hits += 1
            if let position = cacheOrder.firstIndex(of: sql) {
                cacheOrder.remove(at: position)
                cacheOrder.append(sql)
            }
            return statement
        }
        statistics.misses += 1
        let cacheable = cache[sql] == nil && options.statementCacheCapacity > 0
        let statement = try Statement(handle: handle, sql: sql, persistent: cacheable)
        if cacheable {
            if cache.count >= options.statementCacheCapacity, !cacheOrder.isEmpty {
                cache[cacheOrder.removeFirst()] = nil
            }
            cache[sql] = statement
            cacheOrder.append(sql)
        }
        return statement
    }
}
