import GRDB
import GRDBSQLite

/// A cached statement run once per row with its values bound through SQLite's C API. GRDB's
/// `execute(arguments:)` builds and checks an array of boxed values for every row, which was a
/// large part of writing hundreds of thousands of user rows in one commit (Benchmarks/RESULTS.md).
///
/// Only for statements that change rows inside a `pool.write` transaction: GRDB's transaction
/// observers are not told of these steps (Custody registers none).
struct BoundStatement {
    private let statement: Statement
    private let handle: OpaquePointer

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
    }

    /// Binds `value`, or NULL when nil, to the parameter at `index` (counted from 1).
    func bind(_ value: Int64?, at index: Int32) {
        if let value {
            sqlite3_bind_int64(handle, index, value)
        } else {
            sqlite3_bind_null(handle, index)
        }
    }

    /// Binds `value`, or NULL when nil, to the parameter at `index` (counted from 1); SQLite copies it.
    func bind(_ value: String?, at index: Int32) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { text in
                _ = sqlite3_bind_text(handle, index, text.baseAddress ?? emptyText, Int32(text.count), transient)
            }
        }
    }

    /// Runs the statement once with the values bound before.
    func run(_ db: Database) throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        try check(code, db)
    }

    /// Runs the statement once with `text` bound at `index` and the values bound before it.
    func run(_ db: Database, text: String, at index: Int32) throws {
        var text = text
        let code = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { text -> Int32 in
                // No copy (a nil destructor is SQLITE_STATIC): the bytes outlive the step, and
                // the parameter is unbound before they go.
                sqlite3_bind_text(handle, index, text.baseAddress ?? emptyText, Int32(text.count), nil)
                let code = sqlite3_step(handle)
                sqlite3_reset(handle)
                sqlite3_bind_null(handle, index)
                return code
            }
        }
        try check(code, db)
    }

    private func check(_ code: Int32, _ db: Database) throws {
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                sql: statement.sql)
        }
    }
}

/// Empty text's bytes: a nil pointer would bind NULL.
nonisolated(unsafe) private let emptyText = UnsafeRawPointer(("" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)

/// SQLITE_TRANSIENT, a C macro Swift cannot import: SQLite copies the value before the call returns.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
