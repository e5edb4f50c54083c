import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// `run` inflates a new small gzip file once: what planning decoded of it for its identity is
/// what the audit scans (`IngestionPlan.decoded`), when that was all of it, cleanly. Anything
/// else is scanned from its gzip bytes as before, and either way a part is the same.
@Suite struct DecodedOnceTests {
    let fixture: ReadOnceTests.Fixture

    init() throws { fixture = try ReadOnceTests.Fixture() }

    /// Writes `bytes` gzip-compressed (or as they are) under `logs/`; returns the path.
    func file(_ name: String, _ bytes: [UInt8], gzip: Bool = true) throws -> String {
        let path = fixture.dir.appendingPathComponent("logs/" + name).path
        try Data(gzip ? GzipWriter.compress(bytes) : bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func lines(_ user: String, _ count: Int) -> [UInt8] {
        Array(
            (0..<count).map { #"{"ts":"2026-10-0\#(1 + $0 % 9)T10:00:00+08:00","user":"\#(user)","event":"view"}"# + "\n" }
                .joined().utf8)
    }

    /// The plan of one file.
    func plan(_ path: String) throws -> IngestionPlan {
        let plans = try fixture.plan([path])
        #expect(plans.count == 1)
        return try #require(plans.first)
    }

    /// The same plan without its decoded bytes: read as before this change.
    func undecoded(_ plan: IngestionPlan) -> IngestionPlan {
        IngestionPlan(
            path: plan.path, format: plan.format, identity: plan.identity, record: plan.record, contents: plan.contents)
    }

    /// What a part says, field by field (its object's name and size included).
    func summary(_ part: IngestedPart) -> String {
        let a = part.audit
        let users = a.users.map { "\($0.user)" }.sorted()
        let days = a.dayCounts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }
        return [
            "records \(a.records)", "days \(days)", "users \(users)", "compressed \(a.compressed)", "bytesRead \(a.bytesRead)",
            "end \(a.end.bytes)/\(a.end.lines)", "range \(String(describing: a.timeRange))",
            "issues \(a.issues)",
            "object \(part.object?.sha256 ?? "-") \(part.object?.size ?? -1) \(part.object?.storedSize ?? -1)",
            "readToEnd \(part.readToEnd)", "crc \(String(describing: part.contentChecksum))",
        ].joined(separator: "; ")
    }

    func read(_ plan: IngestionPlan) throws -> IngestedPart {
        try Ingestion.read(plan, policy: fixture.policy, vault: fixture.vault, durable: false)
    }

    /// A small gzip file (two members, a rejected line, an unfinished last line) is planned with
    /// its decoded bytes, and its part is the part read by inflating it again.
    @Test func aSmallGzipFileIsScannedFromWhatPlanningDecoded() throws {
        let content = lines("alice", 5) + Array("not json\n".utf8) + lines("bob", 3) + Array(#"{"ts":"2026-10-02T1"#.utf8)
        let bytes = GzipWriter.compress(Array(content[..<100])) + GzipWriter.compress(Array(content[100...]))
        let path = fixture.dir.appendingPathComponent("logs/two.log.gz").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let plan = try plan(path)
        #expect(plan.decoded == content)
        #expect(plan.contents == bytes)
        let once = try read(plan)
        let twice = try read(undecoded(plan))
        #expect(summary(once) == summary(twice))
        #expect(once.audit.compressed && once.audit.bytesRead == bytes.count)
        #expect(once.audit.records == 8 && once.audit.issues.rejectedLines == 2)
    }

    /// Not decoded at planning, or not all of it, or not cleanly: scanned from the gzip bytes.
    @Test func otherFilesAreScannedFromTheirBytes() throws {
        // Longer than the fingerprint: planning decoded only its first 4 KiB.
        let long = try file("long.log.gz", lines("carol", 100))
        // Cut short: a fault at planning.
        let whole = GzipWriter.compress(lines("dave", 5))
        let cut = try file("cut.log.gz", Array(whole.dropLast(6)), gzip: false)
        // Gzip inside gzip, and zstd's magic inside gzip: read as text, not decoded again.
        let nested = try file("nested.log.gz", GzipWriter.compress(lines("erin", 2)))
        let zstd = try file("zstd.log.gz", [0x28, 0xB5, 0x2F, 0xFD] + lines("frank", 2))
        // Bytes after the last member.
        let trailing = try file("trailing.log.gz", GzipWriter.compress(lines("grace", 2)) + Array("garbage".utf8), gzip: false)
        // Plain: read as it is anyway.
        let plain = try file("plain.log", lines("heidi", 2), gzip: false)
        for path in [long, cut, nested, zstd, trailing, plain] {
            let plan = try plan(path)
            #expect(plan.decoded == nil, "\(path)")
            #expect(summary(try read(plan)) == summary(try read(undecoded(plan))), "\(path)")
        }
    }

    /// Committed, a file scanned from its decoded bytes leaves the row it left before.
    @Test func theStateHoldsTheSameRows() throws {
        let path = try file("a.log.gz", lines("alice", 4) + Array("junk\n".utf8))
        let plan = try plan(path)
        #expect(plan.decoded != nil)
        func row(_ part: IngestedPart) throws -> [String] {
            let other = try ReadOnceTests.Fixture()
            let runID = try other.database.pool.write { db -> Int64 in
                try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
                return db.lastInsertedRowID
            }
            try StateWriter(database: other.database, policy: other.policy, runID: runID).commit(part)
            return try other.database.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT fingerprint, fingerprint_length, compressed, bytes_read, lines_read, log_files.records, rejected_lines,
                               fault_offset, read_to_end, content_checksum, s.vault_object, s.end_offset, o.size, o.stored_size
                        FROM log_files JOIN segments s ON s.log_file_id = log_files.id JOIN vault_objects o ON o.sha256 = s.vault_object
                        """
                ).map { "\($0)" }
            }
        }
        let once = try row(try read(plan))
        #expect(once.count == 1)
        #expect(once == (try row(try read(undecoded(plan)))))
    }
}
