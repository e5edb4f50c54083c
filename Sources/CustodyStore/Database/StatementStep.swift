import GRDB
import GRDBSQLite

extension Statement {
    /// Steps the statement through SQLite's C API (for reads that take their columns one by one,
    /// without a GRDB row each): true at a row, false at the end; an error throws.
    func stepRow() throws -> Bool {
        let code = sqlite3_step(sqliteStatement)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        throw DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))),
            sql: sql)
    }
}
