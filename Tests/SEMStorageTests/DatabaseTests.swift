import Foundation
import SEMStorage
import Testing

@Suite("Database")
struct DatabaseTests {
    private func memory() throws -> Database {
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB)")
        return db
    }

    @Test("each SQL type round-trips with its typed getter", arguments: [
        SQLValue.integer(0), .integer(Int64.max), .integer(Int64.min), .real(3.25), .real(-0.5),
        .text("plain"), .text(""), .text("zwölf Brief ✉️ with\nnewline"), .text("nul\u{0}inside"),
        .blob(Data()), .blob(Data([0, 1, 2, 0, 255])), .null,
    ])
    func roundTrip(_ value: SQLValue) throws {
        let db = try memory()
        let column = switch value {
        case .integer: "i"
        case .real: "r"
        case .text: "t"
        case .blob, .null: "b"
        }
        try db.execute("INSERT INTO item (\(column)) VALUES (?)", [value])
        let row = try #require(try db.queryOne("SELECT \(column) FROM item"))
        #expect(row[0] == value)
        switch value {
        case .integer(let number): #expect(try row.int(0) == number)
        case .real(let number): #expect(try row.double(0) == number)
        case .text(let text): #expect(try row.string(0) == text)
        case .blob(let data): #expect(try row.data(0) == data)
        case .null: #expect(try row.optionalData(0) == nil)
        }
    }

    @Test("empty text and empty blobs stay empty values, not NULL")
    func emptyValuesAreNotNull() throws {
        let db = try memory()
        try db.execute("INSERT INTO item (t, b) VALUES (?, ?)", [.text(""), .blob(Data())])
        let row = try #require(try db.queryOne("SELECT t IS NULL, b IS NULL, typeof(t), typeof(b) FROM item"))
        #expect(try row.bool(0) == false)
        #expect(try row.bool(1) == false)
        #expect(try row.string(2) == "text")
        #expect(try row.string(3) == "blob")
    }

    @Test("named parameters bind with or without their prefix and are read back by column name")
    func namedParameters() throws {
        let db = try memory()
        try db.execute("INSERT INTO item (i, t) VALUES (:number, @label)", named: ["number": 7, "@label": "seven"])
        let sql = "SELECT i AS number, t AS label FROM item WHERE i = :n"
        let row = try #require(try db.queryOne(sql, named: [":n": 7]))
        #expect(try row.int("number") == 7)
        #expect(try row.string("label") == "seven")
        #expect(row.columnNames == ["number", "label"])
    }

    @Test("a parameter name the statement lacks, or a wrong parameter count, is refused")
    func parameterMistakes() throws {
        let db = try memory()
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.execute("INSERT INTO item (i) VALUES (:a)", named: ["b": 1])
        }
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.execute("INSERT INTO item (i, t) VALUES (:a, :b)", named: ["a": 1])
        }
        #expect(throws: StorageError(.invalidArgument, "")) { try db.execute("INSERT INTO item (i) VALUES (?)") }
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.execute("INSERT INTO item (i) VALUES (?)", [1, 2])
        }
        #expect(try db.query("SELECT * FROM item").isEmpty)
    }

    @Test("typed getters refuse another type, NULL, and unknown columns")
    func getterMismatch() throws {
        let db = try memory()
        try db.execute("INSERT INTO item (i, t) VALUES (1, 'one')")
        let row = try #require(try db.queryOne("SELECT i, t, b FROM item"))
        #expect(throws: StorageError(.typeMismatch, "")) { try row.string(0) }
        #expect(throws: StorageError(.typeMismatch, "")) { try row.int("t") }
        #expect(throws: StorageError(.typeMismatch, "")) { try row.data("b") }
        #expect(throws: StorageError(.invalidArgument, "")) { try row.int(9) }
        #expect(throws: StorageError(.invalidArgument, "")) { try row.int("missing") }
    }

    @Test("a repeated statement is prepared once and then reused from the cache")
    func statementReuse() throws {
        let db = try memory()
        let before = db.statementCacheStatistics
        for number in 0..<10 {
            try db.execute("INSERT INTO item (i) VALUES (?)", [.int(number)])
        }
        let after = db.statementCacheStatistics
        #expect(after.misses - before.misses == 1)
        #expect(after.hits - before.hits == 9)
        #expect(try db.queryOne("SELECT count(*), sum(i) FROM item").map { [try $0.int(0), try $0.int(1)] } == [10, 45])
    }

    @Test("the same SQL can run again while its cached statement is still being stepped")
    func nestedUseOfSameStatement() throws {
        let db = try memory()
        for number in 1...3 { try db.execute("INSERT INTO item (i) VALUES (?)", [.int(number)]) }
        var pairs = 0
        try db.forEachRow("SELECT i FROM item") { _ in
            pairs += try db.query("SELECT i FROM item").count
        }
        #expect(pairs == 9)
    }

    @Test("execute reports changes and the inserted rowid")
    func executionResult() throws {
        let db = try memory()
        let insert = try db.execute("INSERT INTO item (i) VALUES (5)")
        #expect(insert.changes == 1)
        #expect(insert.lastInsertRowID == db.lastInsertRowID)
        try db.execute("INSERT INTO item (i) VALUES (6)")
        let update = try db.execute("UPDATE item SET t = 'x'")
        #expect(update.changes == 2)
        #expect(db.changes == 2)
    }

    @Test("constraint violations carry the constraint code, foreign keys included")
    func constraintViolations() throws {
        let db = try Database.inMemory()
        try db.executeScript("""
            CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
            CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent(id));
            """)
        try db.execute("INSERT INTO parent (id, name) VALUES (1, 'a')")
        #expect(throws: StorageError(.constraint, "")) { try db.execute("INSERT INTO parent (name) VALUES ('a')") }
        #expect(throws: StorageError(.constraint, "")) { try db.execute("INSERT INTO parent (name) VALUES (NULL)") }
        #expect(throws: StorageError(.constraint, "")) { try db.execute("INSERT INTO child (parent) VALUES (42)") }
        try db.execute("INSERT INTO child (parent) VALUES (1)")
        #expect(try db.queryOne("SELECT count(*) FROM child")?.int(0) == 1)
    }

    @Test("bad SQL, several statements in one execute, and oversized input are refused")
    func refusals() throws {
        let options = Database.Options(maximumSQLLength: 200, maximumValueLength: 1024)
        let db = try Database.inMemory(options: options)
        try db.execute("CREATE TABLE t (v)")
        #expect(throws: StorageError(.statementFailed, "")) { try db.execute("SELEC nothing") }
        #expect(throws: StorageError(.statementFailed, "")) { try db.query("SELECT * FROM missing") }
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
        }
        #expect(throws: StorageError(.invalidArgument, "")) { try db.execute("   ") }
        let longSQL = "SELECT 1" + String(repeating: " ", count: 300)
        #expect(throws: StorageError(.invalidArgument, "")) { try db.query(longSQL) }
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.execute("INSERT INTO t VALUES (?)", [.blob(Data(count: 1025))])
        }
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.execute("INSERT INTO t VALUES (?)", [.text(String(repeating: "x", count: 1025))])
        }
        try db.execute("INSERT INTO t VALUES (?)", [.blob(Data(count: 1024))])
        #expect(try db.query("SELECT v FROM t").count == 1)
    }

    @Test("a file database uses WAL, synchronous FULL and foreign keys, with mode 0600")
    func fileSettings() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("server.sqlite")
        let db = try Database(path: path)
        #expect(try db.queryOne("PRAGMA journal_mode")?.string(0) == "wal")
        #expect(try db.queryOne("PRAGMA synchronous")?.int(0) == 2)
        #expect(try db.queryOne("PRAGMA foreign_keys")?.int(0) == 1)
        try db.execute("CREATE TABLE t (v TEXT)")
        try db.execute("INSERT INTO t VALUES ('kept')")
        #expect(try permissionBits(path) == 0o600)
        #expect(try permissionBits(path + "-wal") == 0o600)
        #expect(db.path == path)
    }

    @Test("data written to a file survives closing and reopening")
    func persistence() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("persist.sqlite")
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE t (v TEXT)")
            try db.execute("INSERT INTO t VALUES ('letter')")
        }
        let reopened = try Database(path: path)
        #expect(try reopened.queryOne("SELECT v FROM t")?.string(0) == "letter")
    }

    @Test("a file that is not a database is reported as corrupt")
    func notADatabase() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("garbage.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(throws: StorageError(.corrupt, "")) { try Database(path: path) }
    }

    @Test("an unusable path is refused")
    func badPaths() throws {
        #expect(throws: StorageError(.invalidArgument, "")) { try Database(path: "") }
        #expect(throws: StorageError(.invalidArgument, "")) { try Database(path: ":memory:") }
        #expect(throws: StorageError(.openFailed, "")) { try Database(path: "/nonexistent-dir-\(UUID())/db.sqlite") }
    }

    @Test("statements from several threads are serialised safely")
    func concurrentUse() throws {
        let db = try memory()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for number in 0..<25 {
                _ = try? db.transaction { db in
                    try db.execute("INSERT INTO item (i, t) VALUES (?, ?)", [.int(number), .text("w\(worker)")])
                }
            }
        }
        #expect(try db.queryOne("SELECT count(*) FROM item")?.int(0) == 200)
        #expect(try db.queryOne("SELECT count(DISTINCT t) FROM item")?.int(0) == 8)
    }
}
