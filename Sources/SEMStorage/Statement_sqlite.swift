// Prepared statements: preparing, binding `SQLValue`s by position or by name, stepping
// and reading columns; plus the mapping from SQLite result codes to `StorageError`.
//
// A `Statement` is only touched while its `Database` holds its lock, so it needs no
// locking of its own.
import CSQLite
import Foundation

enum SQLite {
    /// SQLite's "copy the bytes now" destructor (`SQLITE_TRANSIENT`), which Swift
    /// cannot import as a macro.
    static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    /// The stable code for a result code (primary code in the low byte,
    /// https://www.sqlite.org/rescode.html).
    static func code(for result: Int32) -> StorageError.Code {
        switch result & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: .busy
        case SQLITE_CONSTRAINT: .constraint
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        case SQLITE_IOERR, SQLITE_FULL, SQLITE_READONLY, SQLITE_PERM: .ioFailure
        case SQLITE_CANTOPEN: .openFailed
        case SQLITE_TOOBIG: .tooLarge
        case SQLITE_RANGE, SQLITE_MISMATCH: .invalidArgument
        case SQLITE_ERROR, SQLITE_SCHEMA, SQLITE_AUTH: .statementFailed
        default: .internalFailure
        }
    }

    /// An error for `result` carrying the connection's message as detail.
    static func error(_ handle: OpaquePointer?, _ result: Int32, _ reason: String,
                      file: String = #fileID, line: Int = #line) -> StorageError {
        var detail = "sqlite code \(result)"
        if let handle, let message = sqlite3_errmsg(handle) {
            detail = "\(String(cString: message)); sqlite code \(result)"
        }
        return StorageError(code(for: result), reason, detail: detail, file: file, line: line)
    }

    /// A short excerpt of SQL text for error messages. Statement text never holds
    /// values (they are bound), so it is safe to show.
    static func excerpt(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count <= 80 ? flat : String(flat.prefix(77)) + "..."
    }
}

/// Parameters of one statement: by position (`?`, `?NNN`) or by name (`:name`, `@name`, `$name`).
enum Parameters {
    case positional([SQLValue])
    case named([String: SQLValue])
}

/// One prepared statement, finalized when the object goes away.
final class Statement {
    let pointer: OpaquePointer
    let sql: String
    /// Set while a caller steps through this statement, so that a nested use of the
    /// same SQL gets a fresh statement instead of resetting this one.
    var inUse = false
    private var columnNames: ColumnNames?

    init(handle: OpaquePointer, sql: String, persistent: Bool) throws {
        var prepared: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let utf8 = Array(sql.utf8CString)
        let result = utf8.withUnsafeBufferPointer { text in
            sqlite3_prepare_v3(handle, text.baseAddress, Int32(text.count - 1), flags, &prepared, &tail)
        }
        guard result == SQLITE_OK else {
            throw SQLite.error(handle, result, "The statement '\(SQLite.excerpt(sql))' could not be prepared.")
        }
        guard let prepared else {
            throw StorageError(.invalidArgument, "The SQL text holds no statement.")
        }
        pointer = prepared
        self.sql = sql
        // Refuse trailing statements: they would be silently ignored.
        if let tail, !String(cString: tail).allSatisfy({ $0.isWhitespace || $0 == ";" }) {
            throw StorageError(.invalidArgument,
                               "The SQL text holds more than one statement; run scripts with executeScript.")
        }
    }

    deinit { sqlite3_finalize(pointer) }

    var handle: OpaquePointer { sqlite3_db_handle(pointer) }

    // MARK: Binding

    func bind(_ parameters: Parameters, maximumValueLength: Int) throws {
        let expected = Int(sqlite3_bind_parameter_count(pointer))
        switch parameters {
        case .positional(let values):
            guard values.count == expected else {
                throw StorageError(.invalidArgument,
                                   "The statement takes \(expected) parameters but \(values.count) were given.")
            }
            for (offset, value) in values.enumerated() {
                try bind(value, at: Int32(offset + 1), maximumValueLength: maximumValueLength)
            }
        case .named(let values):
            var bound = Set<Int32>()
            for (name, value) in values {
                let index = parameterIndex(name)
                guard index > 0 else {
                    throw StorageError(.invalidArgument, "The statement has no parameter named '\(name)'.")
                }
                try bind(value, at: index, maximumValueLength: maximumValueLength)
                bound.insert(index)
            }
            // An unbound parameter silently reads as NULL in SQLite; refuse it instead.
            guard bound.count == expected else {
                throw StorageError(.invalidArgument,
                                   "The statement takes \(expected) parameters but \(bound.count) were given.")
            }
        }
    }

    /// Accepts names with their prefix (`:id`) or without it (`id`).
    private func parameterIndex(_ name: String) -> Int32 {
        if let first = name.first, ":@$".contains(first) {
            return sqlite3_bind_parameter_index(pointer, name)
        }
        for prefix in [":", "@", "$"] {
            let index = sqlite3_bind_parameter_index(pointer, prefix + name)
            if index > 0 { return index }
        }
        return 0
    }

    private func bind(_ value: SQLValue, at index: Int32, maximumValueLength: Int) throws {
        let result: Int32
        switch value {
        case .null:
            result = sqlite3_bind_null(pointer, index)
        case .integer(let number):
            result = sqlite3_bind_int64(pointer, index, number)
        case .real(let number):
            result = sqlite3_bind_double(pointer, index, number)
        case .text(let text):
            let bytes = Array(text.utf8)
            try checkLength(bytes.count, index: index, limit: maximumValueLength)
            if bytes.isEmpty {
                // A nil pointer would bind NULL, so an empty string gets a real (empty) C string.
                result = sqlite3_bind_text64(pointer, index, "", 0, SQLite.transient, UInt8(SQLITE_UTF8))
            } else {
                result = bytes.withUnsafeBytes { raw in
                    sqlite3_bind_text64(pointer, index, raw.baseAddress?.assumingMemoryBound(to: CChar.self),
                                        UInt64(raw.count), SQLite.transient, UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let data):
            try checkLength(data.count, index: index, limit: maximumValueLength)
            if data.isEmpty {
                // A nil pointer would bind NULL; an empty blob is a zero-length blob.
                result = sqlite3_bind_zeroblob(pointer, index, 0)
            } else {
                result = data.withUnsafeBytes { raw in
                    sqlite3_bind_blob64(pointer, index, raw.baseAddress, UInt64(raw.count), SQLite.transient)
                }
            }
        }
        guard result == SQLITE_OK else {
            throw SQLite.error(handle, result, "Parameter \(index) could not be bound.")
        }
    }

    private func checkLength(_ length: Int, index: Int32, limit: Int) throws {
        guard length <= limit else {
            throw StorageError(.invalidArgument, "Parameter \(index) is \(length) bytes; the limit is \(limit).")
        }
    }

    // MARK: Stepping

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws -> Bool {
        let result = sqlite3_step(pointer)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLite.error(handle, result, "The statement '\(SQLite.excerpt(sql))' failed.")
        }
    }

    /// The current row's values; valid only after `step()` returned true.
    func row() -> Row {
        let count = sqlite3_column_count(pointer)
        let names = columnNames ?? ColumnNames((0..<count).map { String(cString: sqlite3_column_name(pointer, $0)) })
        columnNames = names
        let values = (0..<count).map(column)
        return Row(values: values, columns: names)
    }

    private func column(_ index: Int32) -> SQLValue {
        switch sqlite3_column_type(pointer, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(pointer, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(pointer, index))
        case SQLITE_TEXT:
            // Per the SQLite docs: fetch the pointer first, then its length.
            guard let text = sqlite3_column_text(pointer, index) else { return .text("") }
            let length = Int(sqlite3_column_bytes(pointer, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            guard let bytes = sqlite3_column_blob(pointer, index) else { return .blob(Data()) }
            return .blob(Data(bytes: bytes, count: Int(sqlite3_column_bytes(pointer, index))))
        default:
            return .null
        }
    }

    /// Makes the statement ready for its next use and drops the bound values.
    func reset() {
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
    }
}
