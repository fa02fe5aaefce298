// The one error type of SEMStorage: a stable code, a sentence for a person, the
// SQLite or operating-system message where there was one, and where it was thrown.

/// An error from the database layer or the blob store.
///
/// Two errors are equal when their codes are equal; the reason text and the detail are
/// for people and may change between versions.
public struct StorageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Stable, machine-readable error codes. The raw values appear in logs and in API
    /// error bodies and must not change.
    public enum Code: String, Sendable, CaseIterable {
        /// The database file could not be opened or set up.
        case openFailed = "open-failed"
        /// Another connection held a lock for longer than the busy timeout.
        case busy = "busy"
        /// A UNIQUE, NOT NULL, CHECK or FOREIGN KEY constraint refused the change.
        case constraint = "constraint"
        /// The database file is damaged or is not a database.
        case corrupt = "corrupt"
        /// The requested blob or row does not exist.
        case notFound = "not-found"
        /// Reading, writing, syncing or renaming a file failed (disk full included).
        case ioFailure = "io-failure"
        /// A schema migration failed; the database stays at its previous version.
        case migrationFailed = "migration-failed"
        /// The database was written by a newer version of the program.
        case schemaTooNew = "schema-too-new"
        /// Stored bytes no longer match their SHA-256 digest.
        case integrityFailure = "integrity-failure"
        /// A caller passed a value outside what the operation accepts.
        case invalidArgument = "invalid-argument"
        /// The data is larger than the limit set for the operation.
        case tooLarge = "too-large"
        /// A column holds a different type (or NULL) than the caller asked for.
        case typeMismatch = "type-mismatch"
        /// SQLite refused a statement (syntax, unknown table or column, and similar).
        case statementFailed = "statement-failed"
        /// SQLite failed in a way that does not fit any code above (out of memory, misuse).
        case internalFailure = "internal-failure"
    }

    public let code: Code
    /// A sentence a person understands.
    public let reason: String
    /// The SQLite or operating-system message, if any. It never holds bound values.
    public let detail: String?
    public let file: String
    public let line: Int

    public init(_ code: Code, _ reason: String, detail: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.detail = (detail?.isEmpty ?? true) ? nil : detail
        self.file = file
        self.line = line
    }

    public var description: String {
        if let detail { return "\(code.rawValue): \(reason) (\(detail))" }
        return "\(code.rawValue): \(reason)"
    }

    public static func == (lhs: StorageError, rhs: StorageError) -> Bool { lhs.code == rhs.code }
}
