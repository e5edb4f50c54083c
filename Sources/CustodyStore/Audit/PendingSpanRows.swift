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
        // Kept alive to the end: the statement is finalized when it goes.
        return try withExtendedLifetime(statement) { try bySegment(statement) }
    }

    private static func bySegment(_ statement: Statement) throws -> [Int32: [UserFileActivity]] {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        var bySegment: [Int32: [UserFileActivity]] = [:]
        while try statement.stepRow() {
            // Fail closed: a user's name, four integers, and the exact times as text or NULL; a
            // state edited by hand that breaks that is not judged (a NULL or a text read as 0
            // would hide events).
            for (column, types) in Self.columnTypes.enumerated()
            where !types.contains(sqlite3_column_type(handle, Int32(column))) {
                let name = String(cString: sqlite3_column_name(handle, Int32(column)))
                throw DatabaseError(
                    resultCode: .SQLITE_CONSTRAINT,
                    message: "pending_publishes holds a value of another type in \(name): changed outside custody", sql: statement.sql)
            }
            let user = try text(handle, 0, statement).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let exact = try text(handle, 5, statement).flatMap(ExactTimesText.parse)
            let pending = PendingPublishes(
                count: Int(sqlite3_column_int64(handle, 2)), earliest: sqlite3_column_int64(handle, 3),
                latest: sqlite3_column_int64(handle, 4), exact: exact)
            bySegment[Int32(truncatingIfNeeded: sqlite3_column_int64(handle, 1)), default: []]
                .append(UserFileActivity(user: user, verifiedAt: nil, pending: pending, firstPending: nil))
        }
        return bySegment
    }

    /// The types each column may hold, in the order selected.
    private static let columnTypes: [Set<Int32>] = [
        [SQLITE_TEXT], [SQLITE_INTEGER], [SQLITE_INTEGER], [SQLITE_INTEGER], [SQLITE_INTEGER], [SQLITE_TEXT, SQLITE_NULL],
    ]

    /// A text column's bytes, valid until the next step; nil for NULL.
    private static func text(_ handle: OpaquePointer, _ column: Int32, _ statement: Statement) throws -> UnsafeBufferPointer<UInt8>? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        // NULL for a value that is not NULL: SQLite could not allocate its text.
        guard let bytes = sqlite3_column_text(handle, column) else {
            throw DatabaseError(resultCode: .SQLITE_NOMEM, message: "out of memory reading pending_publishes", sql: statement.sql)
        }
        return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column)))
    }
}
