import CustodyCore
import GRDB

/// Findings of a run, kept for `status` and for people reading the state.
enum FindingStore {
    /// Inserts `findings` as rows of run `runID`, inside the caller's write transaction. Values
    /// are bound one by one (`BoundStatement`): a run over logs whose users mostly never verify
    /// has a finding per such user, and GRDB's array of boxed arguments per row took ~8 µs a row
    /// (0.6 s for 70,000 findings, perf).
    static func save(_ findings: [Finding], runID: Int64, db: Database) throws {
        let insert = try BoundStatement(
            db,
            sql: """
                INSERT INTO findings (run_id, rule, severity, message, day, user, file, line, time, byte_offset, count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        insert.bind(runID, at: 1)
        for f in findings {
            insert.bind(f.rule.rawValue, at: 2)
            insert.bind(f.severity.rawValue, at: 3)
            insert.bind(f.day?.description, at: 5)
            insert.bind(f.user, at: 6)
            insert.bind(f.file, at: 7)
            insert.bind(f.line.map(Int64.init), at: 8)
            insert.bind(f.time, at: 9)
            insert.bind(f.offset.map(Int64.init), at: 10)
            insert.bind(f.count.map(Int64.init), at: 11)
            try insert.run(db, text: f.message, at: 4)
        }
    }
}
