import Foundation
import SEMStorage
import Testing

@Suite("Migrations")
struct MigrationTests {
    private let history = [
        Migration(version: 1, name: "domains", sql: "CREATE TABLE domain (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"),
        Migration(version: 2, name: "users", sql: """
            CREATE TABLE user (id INTEGER PRIMARY KEY, domain INTEGER NOT NULL REFERENCES domain(id), local TEXT);
            CREATE INDEX user_domain ON user(domain);
            """),
        Migration(version: 5, name: "user flags",
                  sql: "ALTER TABLE user ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0"),
    ]

    private func recorded(_ db: Database) throws -> [String] {
        try db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").map {
            #expect(try $0.string(2).hasSuffix("Z"))
            return "\(try $0.int(0)):\(try $0.string(1))"
        }
    }

    private func tables(_ db: Database) throws -> Set<String> {
        Set(try db.query("SELECT name FROM sqlite_master WHERE type = 'table'").map { try $0.string(0) })
    }

    @Test("a fresh database gets every migration, recorded in order")
    func fresh() throws {
        let db = try Database.inMemory()
        #expect(try db.schemaVersion() == 0)
        let applied = try db.migrate(history)
        #expect(applied.map(\.version) == [1, 2, 5])
        #expect(try db.schemaVersion() == 5)
        #expect(try recorded(db) == ["1:domains", "2:users", "5:user flags"])
        #expect(try tables(db).isSuperset(of: ["domain", "user", "schema_migrations"]))
        try db.execute("INSERT INTO domain (name) VALUES ('example.org')")
        try db.execute("INSERT INTO user (domain, local) VALUES (1, 'alice')")
        #expect(try db.queryOne("SELECT disabled FROM user")?.int(0) == 0)
    }

    @Test("running again applies only the migrations that are new")
    func incremental() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("schema.sqlite")
        do {
            let db = try Database(path: path)
            #expect(try db.migrate(Array(history.prefix(2))).map(\.version) == [1, 2])
            #expect(try db.migrate(Array(history.prefix(2))).isEmpty)
        }
        let db = try Database(path: path)
        #expect(try db.migrate(history).map(\.version) == [5])
        #expect(try db.migrate(history).isEmpty)
        #expect(try db.schemaVersion() == 5)
        #expect(try recorded(db) == ["1:domains", "2:users", "5:user flags"])
    }

    @Test("a failing migration leaves no trace and the version unchanged")
    func failingMigrationRollsBack() throws {
        let db = try Database.inMemory()
        let broken = [
            history[0],
            Migration(version: 2, name: "half done", sql: """
                CREATE TABLE half (v INTEGER);
                INSERT INTO half VALUES (1);
                INSERT INTO no_such_table VALUES (2);
                """),
            Migration(version: 3, name: "never reached", sql: "CREATE TABLE later (v INTEGER)"),
        ]
        #expect(throws: StorageError(.migrationFailed, "")) { try db.migrate(broken) }
        #expect(try db.schemaVersion() == 1)
        #expect(try recorded(db) == ["1:domains"])
        #expect(!(try tables(db).contains("half")))
        #expect(!(try tables(db).contains("later")))
        #expect(!db.isInTransaction)
    }

    @Test("a database newer than the program is refused")
    func newerThanCode() throws {
        let db = try Database.inMemory()
        try db.migrate(history)
        #expect(throws: StorageError(.schemaTooNew, "")) { try db.migrate(Array(history.prefix(2))) }
        #expect(throws: StorageError(.schemaTooNew, "")) { try db.migrate([]) }
        #expect(try db.schemaVersion() == 5)
    }

    @Test("duplicate, unordered, non-positive or unnamed versions are refused before anything runs",
          arguments: [[1, 1], [2, 1], [0, 1], [-3]])
    func invalidLists(_ versions: [Int]) throws {
        let db = try Database.inMemory()
        let list = versions.map { Migration(version: $0, name: "m\($0)", sql: "CREATE TABLE t\($0 + 10) (v)") }
        #expect(throws: StorageError(.invalidArgument, "")) { try db.migrate(list) }
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.migrate([Migration(version: 1, name: "", sql: "CREATE TABLE x (v)")])
        }
        #expect(try db.schemaVersion() == 0)
        #expect(try tables(db).subtracting(["schema_migrations"]).isEmpty)
    }

    @Test("a history recorded under other names is refused")
    func renamedHistory() throws {
        let db = try Database.inMemory()
        try db.migrate(Array(history.prefix(1)))
        let other = [Migration(version: 1, name: "something else", sql: history[0].sql), history[1]]
        #expect(throws: StorageError(.migrationFailed, "")) { try db.migrate(other) }
        #expect(try db.schemaVersion() == 1)
    }

    @Test("migrations cannot start inside a transaction")
    func notInsideTransaction() throws {
        let db = try Database.inMemory()
        #expect(throws: StorageError(.invalidArgument, "")) {
            try db.transaction { db in try db.migrate(history) }
        }
        #expect(try db.schemaVersion() == 0)
    }
}
