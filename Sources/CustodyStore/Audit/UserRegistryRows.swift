import CustodyCore
import GRDB
import GRDBSQLite

/// Reads the `users` table in key order: each user's key, name, earliest verification and
/// earliest uncovered publish (whose `file` is the segment id).
enum UserRegistryRows {
    static func forEach(_ db: Database, _ body: (Int64, String, Int64?, EventLocation?) throws -> Void) throws {
        // Stepped and read through SQLite's C API: a GRDB row per user, its columns converted
        // through `DatabaseValue`, was a fifth of the closing audit with 500,000 users.
        let statement = try db.makeStatement(
            sql: """
                SELECT id, user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                       first_unverified_publish_line FROM users ORDER BY id
                """)
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        func integer(_ column: Int32) -> Int64? {
            sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
        }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                    sql: statement.sql)
            }
            // The name as stored (NOT NULL); its bytes are valid until the next step.
            let bytes = sqlite3_column_text(handle, 1)
            let count = Int(sqlite3_column_bytes(handle, 1))
            let user = bytes.map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? ""
            var first: EventLocation?
            if let ms = integer(3), let segment = integer(4), let line = integer(5) {
                first = EventLocation(millis: ms, file: Int32(truncatingIfNeeded: segment), line: Int(line))
            }
            try body(sqlite3_column_int64(handle, 0), user, integer(2), first)
        }
    }
}
