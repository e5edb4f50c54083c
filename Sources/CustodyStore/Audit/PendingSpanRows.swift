import CustodyCore
import GRDB
import GRDBSQLite

/// Reads the `pending_publishes` table: each user's publish events not yet known to be covered
/// by a verification, a span per segment, as the registry merges them.
enum PendingSpanRows {
    /// Every span, as an activity of its user, by segment id.
    ///
    /// Stepped and read through SQLite's C API (the text of the exact times parsed in place): a
    /// GRDB row per span, its columns converted through `DatabaseValue`, was a quarter of a
    /// fresh run's closing audit with 500,000 users (13,858 spans).
    static func bySegment(_ db: Database) throws -> [Int32: [UserFileActivity]] {
        let statement = try db.makeStatement(
            sql: "SELECT user, segment_id, events, earliest_ms, latest_ms, exact_times_ms FROM pending_publishes")
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        var bySegment: [Int32: [UserFileActivity]] = [:]
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                    sql: statement.sql)
            }
            // Fail closed: the columns are NOT NULL but the exact times, and a state edited by
            // hand that breaks that is not judged (read as 0, a NULL count would hide events).
            for column: Int32 in 0...4 where sqlite3_column_type(handle, column) == SQLITE_NULL {
                let name = String(cString: sqlite3_column_name(handle, column))
                throw DatabaseError(
                    resultCode: .SQLITE_CONSTRAINT, message: "pending_publishes holds NULL in \(name): changed outside custody",
                    sql: statement.sql)
            }
            let user = text(handle, 0).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let exact = text(handle, 5).flatMap(ExactTimesText.parse)
            let pending = PendingPublishes(
                count: Int(sqlite3_column_int64(handle, 2)), earliest: sqlite3_column_int64(handle, 3),
                latest: sqlite3_column_int64(handle, 4), exact: exact)
            bySegment[Int32(truncatingIfNeeded: sqlite3_column_int64(handle, 1)), default: []]
                .append(UserFileActivity(user: user, verifiedAt: nil, pending: pending, firstPending: nil))
        }
        return bySegment
    }

    /// A text column's bytes, valid until the next step; nil for NULL.
    private static func text(_ handle: OpaquePointer, _ column: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let bytes = sqlite3_column_text(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return bytes.map { UnsafeBufferPointer(start: $0, count: count) } ?? UnsafeBufferPointer(start: nil, count: 0)
    }
}
