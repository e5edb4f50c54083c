import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A commit group writes its per-file rows through statements looked up once per group
/// (`FileRowStatements`), with other statements (users, pending spans) run between their uses:
/// a group must leave exactly the rows its parts leave committed one at a time.
@Suite struct FileRowStatementsTests {
    /// Many parts (files of one to four days; users publishing before they verify, so pending
    /// spans are written between the file rows; a file read a second time after it grew, so its
    /// row is updated) in one group, against the same parts one to a group.
    @Test func aGroupLeavesTheRowsOfOnePartAtATime() throws {
        let t = StateWriterUserRowsTests()
        func state(grouped: Bool) throws -> (rows: [String], days: Int) {
            let fixture = try ReadOnceTests.Fixture()
            let paths = try (0..<40).map { i in
                try t.log(
                    fixture, "f\(i).log.gz",
                    (0..<(1 + i % 4)).flatMap { d in
                        [t.line("u\(i)", day: 10 + d, "view"), t.line("p\(i % 9)", day: 12 + d, i % 2 == 0 ? "post" : "verify_phone")]
                    })
            }
            // A plain file, read once now and again after it grew (its row then updated).
            let plain = fixture.dir.appendingPathComponent("logs/plain.log").path
            try Data((t.line("g1", day: 3, "post") + "\n").utf8).write(to: URL(fileURLWithPath: plain))
            let runID = try fixture.database.pool.write { db -> Int64 in
                try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
                return db.lastInsertedRowID
            }
            let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
            func commit(_ paths: [String]) throws -> Int {
                let parts = try fixture.plan(paths).map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) }
                if grouped {
                    _ = try writer.commit(parts: parts)
                } else {
                    for part in parts { try writer.commit(part) }
                }
                return parts.reduce(0) { $0 + $1.audit.dayCounts.count }
            }
            var days = try commit(paths + [plain])
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: plain))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((t.line("g1", day: 4, "verify_id") + "\n").utf8))
            try handle.close()
            days += try commit([plain])
            // Files by name within the fixture (each fixture has a directory of its own).
            return (try Self.rows(fixture.database).map { $0.replacingOccurrences(of: fixture.dir.path, with: "") }, days)
        }
        let (grouped, days) = try state(grouped: true)
        let single = try state(grouped: false).rows
        #expect(grouped == single)
        #expect(grouped.filter { $0.hasPrefix("D|") }.count == days && days > 80, "every day of every part")
        #expect(grouped.filter { $0.hasPrefix("S|") }.count == 42, "a segment per part")
        #expect(grouped.filter { $0.hasPrefix("F|") }.count == 41, "a row per file")
        #expect(grouped.contains { $0.hasPrefix("L|41|2|2|") && $0.hasSuffix("/plain.log") }, "updated: 2 lines, 2 records")
        #expect(grouped.contains { $0.hasPrefix("P|") }, "pending spans were written")
    }

    /// The per-file rows of a state with their keys, files by name, times left out.
    static func rows(_ database: StateDatabase) throws -> [String] {
        try database.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT 'F|' || id || '|' || fingerprint || '|' || fingerprint_length || '|' || last_path || '|' || compressed
                           || '|' || bytes_read || '|' || lines_read || '|' || records || '|' || ifnull(content_checksum, 'NULL')
                           || '|' || read_to_end || '|' || ifnull(last_size, 'NULL') FROM log_files
                    UNION ALL
                    SELECT 'L|' || id || '|' || lines_read || '|' || records || '|' || last_path FROM log_files
                    UNION ALL
                    SELECT 'O|' || rowid || '|' || sha256 || '|' || size || '|' || stored_size || '|' || records || '|'
                           || first_record_at_ms || '|' || last_record_at_ms || '|' || first_day || '|' || last_day || '|'
                           || ifnull(format, 'NULL') FROM vault_objects
                    UNION ALL
                    SELECT 'S|' || s.id || '|' || f.last_path || '|' || s.vault_object || '|' || s.start_offset || '|' || s.end_offset
                           || '|' || s.first_line || '|' || s.records || '|' || s.run_id
                    FROM segments s JOIN log_files f ON f.id = s.log_file_id
                    UNION ALL
                    SELECT 'D|' || d.rowid || '|' || d.segment_id || '|' || d.day || '|' || d.records FROM daily_records d
                    UNION ALL
                    SELECT 'U|' || id || '|' || user || '|' || ifnull(verified_at_ms, 'NULL') || '|'
                           || ifnull(first_unverified_publish_ms, 'NULL') || '|' || ifnull(first_unverified_publish_segment, 'NULL')
                           || '|' || ifnull(first_unverified_publish_line, 'NULL') FROM users
                    UNION ALL
                    SELECT 'P|' || user || '|' || segment_id || '|' || events || '|' || earliest_ms || '|' || latest_ms
                    FROM pending_publishes
                    ORDER BY 1
                    """)
        }
    }
}

/// `custody run` reads the files' outcomes for its closing audit on another connection
/// (`StateAudit.report(fileOutcomes:)`): the report is the one read in place, and a failed read
/// fails the audit.
@Suite struct StateAuditFileOutcomesTests {
    @Test func outcomesReadElsewhereGiveTheSameReportAndAFailureFailsIt() throws {
        let fixture = try ReadOnceTests.Fixture()
        let t = StateWriterUserRowsTests()
        let paths = try (0..<5).map { i in
            try t.log(fixture, "f\(i).log.gz", [t.line("u\(i)", day: 10 + i, i % 2 == 0 ? "post" : "view"), "not json"])
        }
        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        try writer.commit(parts: fixture.plan(paths).map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) })
        let asOf = try #require(CivilDay(iso: "2026-11-19"))
        func report(_ read: (() throws -> [CheckReport.FileOutcome])?) throws -> CheckReport {
            try StateAudit.report(
                database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: asOf, since: nil, fileOutcomes: read)
        }
        let inPlace = try report(nil)
        #expect(inPlace.inputs.files == 5 && inPlace.inputs.rejectedLines == 5)
        let database = fixture.database
        let beside = Background(on: .reads) { try database.pool.read { db in try StateAudit.fileOutcomes(db) } }
        #expect(try report({ try beside.wait() }).json.rendered() == inPlace.json.rendered())
        struct Unreadable: Error {}
        #expect(throws: Unreadable.self) { try report({ throw Unreadable() }) }
    }
}
