import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// `log_files` rows are written through cached statements (`insertCached`, `updateCached`, what
/// `run` uses) or `Codable`, and read by column name (`init(row:)`): every column of the table
/// must be written, and a row read back must equal the record written.
@Suite struct LogFileRecordTests {
    /// Every field distinct, and none at a default, so a column written from the wrong field or
    /// not at all shows.
    static let sample = LogFileRecord(
        id: nil, fingerprint: "f1ngerprint", fingerprintLength: 4096, firstPath: "/logs/app.log.1", lastPath: "/logs/app.log.2.gz",
        compressed: true, bytesRead: 1_000_001, linesRead: 7_002, records: 7_000, rejectedLines: 2, firstRejectedLines: "[17,99]",
        firstRejectionCause: "invalid JSON", faultOffset: 123_457, faultMessage: "CRC-32 mismatch", readToEnd: true,
        lastInode: 55_555, lastSize: 1_234_567, lastMtimeNs: 1_764_000_000_123_456_789, firstSeenAt: "2026-11-01T00:00:00Z",
        lastReadAt: "2026-11-02T00:00:00Z", nonTextBytes: 3, anonymousPublishes: 4, firstAnonymousPublishLines: "[5,6]",
        contentChecksum: 3_141_592_653)

    @Test func aRowWrittenAndReadBackIsTheRecord() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-logfile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let database = try StateDatabase(directory: dir.path)
        var record = Self.sample
        try database.pool.write { db in try record.insertCached(db) }
        let (columns, read) = try database.pool.read { db in
            (try db.columns(in: LogFileRecord.databaseTableName).map(\.name), try LogFileRecord.fetchOne(db, key: record.id))
        }
        let written = try record.databaseDictionary
        #expect(Set(written.keys) == Set(columns))
        let back = try #require(read)
        #expect(String(describing: back) == String(describing: record))

        // An update writes every column too.
        record.lastPath = "/logs/app.log.3.gz"
        record.records = 9_000
        record.contentChecksum = nil
        try database.pool.write { db in try record.updateCached(db) }
        let updated = try database.pool.read { db in try LogFileRecord.fetchOne(db, key: record.id) }
        #expect(String(describing: try #require(updated)) == String(describing: record))
    }

    /// The closing audit reads only the columns its report uses, by position
    /// (`StateAudit.fileOutcomes`): the same outcome as the whole record gives.
    @Test func theAuditReadsTheOutcomeTheRecordHolds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-logfile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let database = try StateDatabase(directory: dir.path)
        var listed = Self.sample
        var plain = Self.sample
        plain.lastPath = "/logs/a.log"
        plain.firstRejectedLines = "[]"
        plain.firstAnonymousPublishLines = "[]"
        plain.faultOffset = nil
        plain.faultMessage = nil
        try database.pool.write { db in
            try listed.insertCached(db)
            try plain.insertCached(db)
        }
        #expect(listed.issues.firstRejectedLines == [17, 99])
        #expect(listed.issues.firstAnonymousPublishLines == [5, 6])
        #expect(plain.issues.firstRejectedLines.isEmpty && plain.issues.firstAnonymousPublishLines.isEmpty)
        let outcomes = try database.pool.read { db in try StateAudit.fileOutcomes(db) }
        #expect(outcomes.map(\.path) == [plain.lastPath, listed.lastPath], "by name")
        for (outcome, record) in zip(outcomes, [plain, listed]) {
            #expect(outcome.issues == record.issues)
            #expect(outcome.records == record.records)
            #expect(outcome.bytes == record.bytesRead)
        }
    }
}
