// Transactions: all or nothing. The outermost call uses BEGIN IMMEDIATE, nested calls
// use savepoints (https://www.sqlite.org/lang_savepoint.html), so a nested block can
// fail and be undone while the enclosing transaction goes on.
import CSQLite

extension Database {
    /// Runs `body` inside a transaction: committed when `body` returns, rolled back when
    /// it throws (and the error rethrown). Calls nested inside `body` become savepoints.
    ///
    /// The outermost level takes the write lock at once (BEGIN IMMEDIATE), so a
    /// transaction never fails halfway because another writer got there first; it waits
    /// up to the busy timeout instead. With synchronous=FULL the data is on disk when
    /// this method returns.
    @discardableResult
    public func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        try locked {
            let depth = transactionDepth
            let savepoint = "sem_savepoint_\(depth)"
            try executeScript(depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT \(savepoint)")
            transactionDepth += 1
            let result: T
            do {
                result = try body(self)
            } catch {
                transactionDepth -= 1
                rollBack(depth: depth, savepoint: savepoint)
                throw error
            }
            transactionDepth -= 1
            do {
                try executeScript(depth == 0 ? "COMMIT" : "RELEASE \(savepoint)")
            } catch {
                rollBack(depth: depth, savepoint: savepoint)
                throw error
            }
            return result
        }
    }

    /// True while a transaction is open on this connection.
    public var isInTransaction: Bool { locked { sqlite3_get_autocommit(handle) == 0 } }

    /// Undoes the current level. A failure here cannot be reported in place of the
    /// error that caused the rollback, so it is logged; SQLite itself rolls back the
    /// whole transaction after some errors (I/O, disk full), which is why the outermost
    /// ROLLBACK is skipped when no transaction is open any more.
    private func rollBack(depth: Int, savepoint: String) {
        if sqlite3_get_autocommit(handle) != 0 { return }
        do {
            if depth == 0 {
                try executeScript("ROLLBACK")
            } else {
                try executeScript("ROLLBACK TO \(savepoint); RELEASE \(savepoint)")
            }
        } catch {
            logger.error("storage.rollback_failed", ["depth": depth, "error": "\(error)"])
        }
    }
}
