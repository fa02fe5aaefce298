// Values that go into and come out of SQL statements, and rows read back with typed
// getters. Nothing here mentions SQLite types: modules above SEMStorage see only these.
public import Foundation

/// One SQL value, as SQLite stores it (https://www.sqlite.org/datatype3.html §2).
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    /// `Int` as an SQL integer.
    public static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }

    /// `Bool` as 0 or 1, the way SQLite stores booleans.
    public static func bool(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }

    /// Text, or NULL when `value` is nil.
    public static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }

    /// Bytes, or NULL when `value` is nil.
    public static func optional(_ value: Data?) -> SQLValue { value.map(SQLValue.blob) ?? .null }

    /// An integer, or NULL when `value` is nil.
    public static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.integer) ?? .null }

    /// The kind of value, without its content; safe to put in an error message.
    public var typeName: String {
        switch self {
        case .null: "NULL"
        case .integer: "INTEGER"
        case .real: "REAL"
        case .text: "TEXT"
        case .blob: "BLOB"
        }
    }

    /// Shows only the type and size, so that a value printed by mistake does not leak
    /// its content into a log.
    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer: "INTEGER"
        case .real: "REAL"
        case .text(let text): "TEXT(\(text.utf8.count) bytes)"
        case .blob(let data): "BLOB(\(data.count) bytes)"
        }
    }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByNilLiteral, ExpressibleByBooleanLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
}

/// Column names of one result set, shared by all its rows.
final class ColumnNames: Sendable {
    let names: [String]
    private let index: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        // The first column of a name wins, as in SQL itself when names repeat.
        for (position, name) in names.enumerated() where index[name] == nil {
            index[name] = position
        }
        self.index = index
    }

    func position(of name: String) -> Int? { index[name] }
}

/// One result row. Getters throw `typeMismatch` when the column holds another type or
/// NULL (use the `optional…` getters where NULL is allowed), and `invalidArgument` for
/// a column index or name that the result does not have.
public struct Row: Sendable {
    /// The values, in column order.
    public let values: [SQLValue]
    let columns: ColumnNames

    init(values: [SQLValue], columns: ColumnNames) {
        self.values = values
        self.columns = columns
    }

    /// Column names, in order.
    public var columnNames: [String] { columns.names }

    /// The value at `index`, or NULL when there is no such column.
    public subscript(index: Int) -> SQLValue { values.indices.contains(index) ? values[index] : .null }

    /// The value of the column named `name`, or nil when there is no such column.
    public subscript(name: String) -> SQLValue? { columns.position(of: name).map { values[$0] } }

    public func int(_ column: Int) throws -> Int64 { try require(column, "INTEGER", optionalInt) }
    public func int(_ column: String) throws -> Int64 { try int(position(column)) }
    public func optionalInt(_ column: Int) throws -> Int64? {
        switch try value(column) {
        case .null: return nil
        case .integer(let value): return value
        case let other: throw mismatch(column, expected: "INTEGER", found: other)
        }
    }
    public func optionalInt(_ column: String) throws -> Int64? { try optionalInt(position(column)) }

    /// A REAL column; an INTEGER is converted, as SQLite itself does for REAL affinity.
    public func double(_ column: Int) throws -> Double { try require(column, "REAL", optionalDouble) }
    public func double(_ column: String) throws -> Double { try double(position(column)) }
    public func optionalDouble(_ column: Int) throws -> Double? {
        switch try value(column) {
        case .null: return nil
        case .real(let value): return value
        case .integer(let value): return Double(value)
        case let other: throw mismatch(column, expected: "REAL", found: other)
        }
    }
    public func optionalDouble(_ column: String) throws -> Double? { try optionalDouble(position(column)) }

    public func string(_ column: Int) throws -> String { try require(column, "TEXT", optionalString) }
    public func string(_ column: String) throws -> String { try string(position(column)) }
    public func optionalString(_ column: Int) throws -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let value): return value
        case let other: throw mismatch(column, expected: "TEXT", found: other)
        }
    }
    public func optionalString(_ column: String) throws -> String? { try optionalString(position(column)) }

    public func data(_ column: Int) throws -> Data { try require(column, "BLOB", optionalData) }
    public func data(_ column: String) throws -> Data { try data(position(column)) }
    public func optionalData(_ column: Int) throws -> Data? {
        switch try value(column) {
        case .null: return nil
        case .blob(let value): return value
        case let other: throw mismatch(column, expected: "BLOB", found: other)
        }
    }
    public func optionalData(_ column: String) throws -> Data? { try optionalData(position(column)) }

    /// An INTEGER column read as a boolean (non-zero is true).
    public func bool(_ column: Int) throws -> Bool { try int(column) != 0 }
    public func bool(_ column: String) throws -> Bool { try int(column) != 0 }

    // MARK: Helpers

    private func value(_ column: Int) throws -> SQLValue {
        guard values.indices.contains(column) else {
            throw StorageError(.invalidArgument, "The result has no column number \(column).")
        }
        return values[column]
    }

    private func position(_ name: String) throws -> Int {
        guard let position = columns.position(of: name) else {
            throw StorageError(.invalidArgument, "The result has no column named '\(name)'.")
        }
        return position
    }

    private func require<T>(_ column: Int, _ expected: String, _ getter: (Int) throws -> T?) throws -> T {
        guard let value = try getter(column) else { throw mismatch(column, expected: expected, found: .null) }
        return value
    }

    private func mismatch(_ column: Int, expected: String, found: SQLValue) -> StorageError {
        let name = columns.names.indices.contains(column) ? columns.names[column] : "#\(column)"
        return StorageError(.typeMismatch, "Column '\(name)' holds \(found.typeName) where \(expected) was expected.")
    }
}
