import CustodyCore
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// The closing audit reads the `pending_publishes` spans through SQLite's C API
/// (`PendingSpanRows`): each span as its user's activity in its segment, the exact times
/// parsed when they are a JSON array of integers, and nothing judged when a column that cannot
/// be NULL is.
@Suite struct PendingSpanRowsTests {
    func database() throws -> (StateDatabase, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-spanrows-\(UUID().uuidString)")
        return (try StateDatabase(directory: dir.path), dir)
    }

    /// Spans of made-up segments: the foreign key to `segments` is not what is read here.
    func insert(_ database: StateDatabase, _ rows: [(String, Int64, Int64, Int64, Int64, String?)]) throws {
        try database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            for row in rows {
                try db.execute(
                    sql: """
                        INSERT INTO pending_publishes (user, segment_id, events, earliest_ms, latest_ms, exact_times_ms)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [row.0, row.1, row.2, row.3, row.4, row.5])
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
    }

    @Test func eachSpanIsItsUsersActivityInItsSegment() throws {
        let (database, dir) = try database()
        defer { try? FileManager.default.removeItem(at: dir) }
        try insert(
            database,
            [
                ("ana", 1, 2, 10, 20, "[10,20]"), ("bo", 1, 12, 5, 50, nil), ("ana", 2, 1, -7, -7, " [ -7 ] "),
                ("ünï", 2, 3, 1, 3, "[1,2,oops]"), ("", 3, 1, 4, 4, "[]"),
            ])
        let spans = try database.pool.read { db in try PendingSpanRows.bySegment(db) }
        func described(_ segment: Int32) -> [String] {
            (spans[segment] ?? []).map { "\($0.user) \($0.pending.count) \($0.pending.earliest) \($0.pending.latest) \($0.pending.exact)" }
                .sorted()
        }
        #expect(spans.keys.sorted() == [1, 2, 3])
        #expect(described(1) == ["ana 2 10 20 [10, 20]", "bo 12 5 50 []"])
        // Text that is not an array of integers: the times are not known exactly.
        #expect(described(2) == ["ana 1 -7 -7 [-7]", "ünï 3 1 3 []"])
        #expect(described(3) == [" 1 4 4 []"])
        #expect(spans.values.joined().allSatisfy { $0.verifiedAt == nil && $0.firstPending == nil })
    }

    /// A table remade by hand without its constraints, holding a NULL, a text, a real or a blob
    /// where an integer or a text belongs: an error, not a span of 0 events.
    @Test(arguments: [
        "('ana', 1, NULL, 10, 20, NULL)", "('ana', 1, 'two', 10, 20, NULL)", "('ana', 1, 2.5, 10, 20, NULL)",
        "('ana', NULL, 2, 10, 20, NULL)", "(NULL, 1, 2, 10, 20, NULL)", "(X'61', 1, 2, 10, 20, NULL)", "('ana', 1, 2, 10, 20, X'5B5D')",
    ])
    func aValueOfAnotherTypeFailsTheRead(values: String) throws {
        let (database, dir) = try database()
        defer { try? FileManager.default.removeItem(at: dir) }
        try database.pool.writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    DROP TABLE pending_publishes;
                    CREATE TABLE pending_publishes (user TEXT, segment_id INTEGER, events INTEGER, earliest_ms INTEGER,
                                                    latest_ms INTEGER, exact_times_ms TEXT);
                    INSERT INTO pending_publishes VALUES \(values);
                    """)
        }
        #expect(throws: DatabaseError.self) { try database.pool.read { db in try PendingSpanRows.bySegment(db) } }
    }
}
