import Foundation
import SEMStorage
import Testing

@Suite("Transactions")
struct TransactionTests {
    private struct Abort: Error, Equatable {}

    private func memory() throws -> Database {
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        return db
    }

    private func texts(_ db: Database) throws -> [String] {
        try db.query("SELECT text FROM note ORDER BY id").map { try $0.string(0) }
    }

    @Test("a transaction that returns is committed and passes its result on")
    func commits() throws {
        let db = try memory()
        let count = try db.transaction { db -> Int in
            try db.execute("INSERT INTO note (text) VALUES ('a')")
            try db.execute("INSERT INTO note (text) VALUES ('b')")
            #expect(db.isInTransaction)
            return try db.query("SELECT * FROM note").count
        }
        #expect(count == 2)
        #expect(!db.isInTransaction)
        #expect(try texts(db) == ["a", "b"])
    }

    @Test("a transaction that throws leaves nothing behind and rethrows the same error")
    func rollsBackOnThrow() throws {
        let db = try memory()
        #expect(throws: Abort()) {
            try db.transaction { db in
                try db.execute("INSERT INTO note (text) VALUES ('lost')")
                try db.execute("CREATE TABLE scratch (v)")
                throw Abort()
            }
        }
        #expect(!db.isInTransaction)
        #expect(try texts(db).isEmpty)
        #expect(throws: StorageError(.statementFailed, "")) { try db.query("SELECT * FROM scratch") }
    }

    @Test("a failing statement inside a transaction rolls back the earlier ones")
    func rollsBackOnStorageError() throws {
        let db = try memory()
        #expect(throws: StorageError(.constraint, "")) {
            try db.transaction { db in
                try db.execute("INSERT INTO note (text) VALUES ('first')")
                try db.execute("INSERT INTO note (text) VALUES (NULL)")
            }
        }
        #expect(try texts(db).isEmpty)
    }

    @Test("a nested block that throws is undone while the outer transaction commits")
    func nestedSavepointRollback() throws {
        let db = try memory()
        try db.transaction { db in
            try db.execute("INSERT INTO note (text) VALUES ('outer-before')")
            do {
                try db.transaction { db in
                    try db.execute("INSERT INTO note (text) VALUES ('inner')")
                    try db.transaction { db in try db.execute("INSERT INTO note (text) VALUES ('innermost')") }
                    throw Abort()
                }
            } catch is Abort {}
            try db.transaction { db in try db.execute("INSERT INTO note (text) VALUES ('inner-kept')") }
            try db.execute("INSERT INTO note (text) VALUES ('outer-after')")
        }
        #expect(try texts(db) == ["outer-before", "inner-kept", "outer-after"])
    }

    @Test("an outer rollback also undoes nested blocks that succeeded")
    func outerRollbackUndoesNested() throws {
        let db = try memory()
        #expect(throws: Abort()) {
            try db.transaction { db in
                try db.transaction { db in try db.execute("INSERT INTO note (text) VALUES ('nested')") }
                throw Abort()
            }
        }
        #expect(try texts(db).isEmpty)
        // The connection is usable again afterwards.
        try db.transaction { db in try db.execute("INSERT INTO note (text) VALUES ('after')") }
        #expect(try texts(db) == ["after"])
    }

    @Test("a second connection waiting for the write lock fails with busy after its timeout")
    func busyAcrossConnections() throws {
        let directory = try StorageTemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("busy.sqlite")
        let first = try Database(path: path)
        try first.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        let second = try Database(path: path, options: Database.Options(busyTimeoutMilliseconds: 50))
        try first.transaction { db in
            try db.execute("INSERT INTO note (text) VALUES ('held')")
            #expect(throws: StorageError(.busy, "")) {
                try second.transaction { db in try db.execute("INSERT INTO note (text) VALUES ('blocked')") }
            }
            // WAL: a reader still sees the last committed state while the writer works.
            #expect(try second.query("SELECT * FROM note").isEmpty)
        }
        #expect(try second.query("SELECT text FROM note").map { try $0.string(0) } == ["held"])
    }
}
