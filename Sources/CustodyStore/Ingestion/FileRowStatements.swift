import GRDB

/// The statements that write a commit group's per-file rows (`log_files`, `vault_objects`,
/// `segments`, `daily_records`), looked up once per group rather than once per row.
///
/// GRDB finds a cached statement by its SQL text, hashing the whole text at every lookup: over a
/// fresh run of 10,000 small files, four lookups a file were 1.5 % of the run's instructions
/// (callgrind; Benchmarks/RESULTS.md). Rows still go one to a statement: a statement of many rows
/// keeps an undo journal of every page it changes (SQLite's statement journal, needed as soon as
/// one statement writes several rows that may fail a constraint), and in these tables, whose
/// indexes are keyed at random, that journal cost more than the statements it saved (tried in
/// the eleventh session, not kept).
///
/// Only inside the `pool.write` transaction that made it, like `BoundStatement`.
struct FileRowStatements {
    let insertFile: BoundStatement
    let updateFile: BoundStatement
    let insertObject: BoundStatement
    let insertSegment: BoundStatement
    let insertDay: BoundStatement

    init(_ db: Database) throws {
        insertFile = try BoundStatement(db, sql: LogFileRecord.insertSQL)
        updateFile = try BoundStatement(db, sql: LogFileRecord.updateSQL)
        insertObject = try BoundStatement(
            db,
            sql: """
                INSERT INTO vault_objects (sha256, size, stored_size, records, first_record_at_ms, last_record_at_ms,
                                           first_day, last_day, stored_at, format)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(sha256) DO UPDATE SET purged_at = NULL
                """)
        insertSegment = try BoundStatement(
            db,
            sql: """
                INSERT INTO segments (log_file_id, vault_object, start_offset, end_offset, first_line, records, run_id)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        insertDay = try BoundStatement(db, sql: "INSERT INTO daily_records (segment_id, day, records) VALUES (?, ?, ?)")
    }
}
