import CustodyCore
import GRDB
import GRDBSQLite

/// The state's users as `custody run`'s writer holds them at the end of intake
/// (`StateWriter.takeRegistry`): the closing audit's registry, not read back from the `users`
/// table, and what the audit checks the table against before it reports on them: the table
/// must hold exactly as many users, and a sample of the rows (all of them in a state of up to
/// `sampleSize` users) must be, byte for byte, the ones held. A writer that wrote a value wrongly
/// to many rows (a parameter bound at the wrong place, a row left out) fails the audit rather
/// than report on rows the state does not hold; reading every row back was most of the audit.
struct HeldUsers: Sendable {
    var registry: RealNameRegistry
    /// What the table is checked against (kept apart from the registry, which the audit changes
    /// in place while the table is checked on another thread).
    var rows: HeldRows
}

/// How many users the writer holds, and a sample of their rows (`HeldUsers`).
struct HeldRows: Sendable {
    /// A row as the writer holds it.
    struct Row: Sendable, Equatable {
        var key: Int64
        var name: String
        var verifiedAt: Int64?
        var firstPending: EventLocation?
    }

    var count: Int
    /// Rows spread over the users, in the order they were first stored.
    var sample: [Row]

    /// Rows checked at most.
    static let sampleSize = 1024

    /// Of `count` rows, the positions to sample: all when few enough, else one at random in each
    /// of `sampleSize` equal stretches (any row may be picked; a wrong value written to a
    /// stretch of rows or to every n-th row is met).
    static func samplePositions(count: Int) -> [Int] {
        guard count > sampleSize else { return Array(0..<count) }
        var generator = SystemRandomNumberGenerator()
        return (0..<sampleSize).map { i in
            let start = i * count / sampleSize
            let end = (i + 1) * count / sampleSize
            return Int.random(in: start..<end, using: &generator)
        }
    }

    /// Fails unless the `users` table holds `count` rows and each sampled row as held.
    func check(_ db: Database, path: String) throws {
        let counted = try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
        guard counted == count else {
            throw StoreError.database(path: path, reason: "the users table holds \(counted) users, the run \(count)")
        }
        let statement = try db.makeStatement(
            sql: """
                SELECT user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                       first_unverified_publish_line FROM users WHERE id = ?
                """)
        try withExtendedLifetime(statement) {
            let handle = statement.sqliteStatement
            for held in sample {
                sqlite3_reset(handle)
                sqlite3_bind_int64(handle, 1, held.key)
                let stored = try statement.stepRow() ? Self.row(handle, key: held.key) : nil
                guard stored == held else {
                    throw StoreError.database(
                        path: path,
                        reason: "the users table's row \(held.key) is not the run's (\(stored.map(Self.describe) ?? "no row") "
                            + "where the run holds \(Self.describe(held)))")
                }
            }
            sqlite3_reset(handle)
        }
    }

    /// The row at the statement's current step, as held (nil for a value of another type).
    private static func row(_ handle: OpaquePointer, key: Int64) -> Row? {
        func integer(_ column: Int32) -> Int64?? {
            switch sqlite3_column_type(handle, column) {
            case SQLITE_NULL: .some(nil)
            case SQLITE_INTEGER: .some(sqlite3_column_int64(handle, column))
            default: nil
            }
        }
        guard sqlite3_column_type(handle, 0) == SQLITE_TEXT, let text = sqlite3_column_text(handle, 0),
            let name = String(
                validating: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 0))), as: UTF8.self),
            let verifiedAt = integer(1), let millis = integer(2), let segment = integer(3), let line = integer(4)
        else { return nil }
        var first: EventLocation?
        if let millis, let segment, let line {
            first = EventLocation(millis: millis, file: Int32(truncatingIfNeeded: segment), line: Int(line))
        } else if millis != nil || segment != nil || line != nil {
            return nil
        }
        return Row(key: key, name: name, verifiedAt: verifiedAt, firstPending: first)
    }

    private static func describe(_ row: Row) -> String {
        let first = row.firstPending.map { "first uncovered publish \($0.millis) in segment \($0.file) line \($0.line)" }
        return "user \(row.name), verified \(row.verifiedAt.map(String.init) ?? "never"), \(first ?? "no uncovered publish")"
    }
}
