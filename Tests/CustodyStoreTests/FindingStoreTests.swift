import CustodyCore
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A run's findings as rows of the state's `findings` table: every column as the finding has it,
/// NULL where it has none.
@Suite struct FindingStoreTests {
    @Test func everyColumnAsTheFindingHasIt() throws {
        let fixture = try ReadOnceTests.Fixture()
        let findings = (0..<500).map { i in
            Finding(
                rule: Finding.Rule.allCases[i % Finding.Rule.allCases.count], severity: i % 3 == 0 ? .warning : .error,
                message: i % 5 == 0 ? "用户 \"u\(i)\"\n" : "message \(i)",
                day: i % 2 == 0 ? CivilDay(daysSinceEpoch: Int32(20_000 + i)) : nil,
                user: i % 4 == 0 ? nil : "u\(i)", file: i % 7 == 0 ? nil : "logs/app-\(i).log.gz", line: i % 3 == 1 ? nil : i,
                time: i % 2 == 1 ? "2026-10-01T00:00:0\(i % 10).000Z" : nil, offset: i % 6 == 0 ? -i : nil,
                count: i % 8 == 0 ? nil : i * 3)
        }
        let rows = try fixture.database.pool.write { db -> [Row] in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            let runID = db.lastInsertedRowID
            try FindingStore.save(findings, runID: runID, db: db)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT run_id, rule, severity, message, day, user, file, line, time, byte_offset, count
                    FROM findings ORDER BY rowid
                    """)
        }
        #expect(rows.count == findings.count)
        for (row, f) in zip(rows, findings) {
            let texts: [String?] = [row[1], row[2], row[3], row[4], row[5], row[6], row[8]]
            let expectedTexts: [String?] = [f.rule.rawValue, f.severity.rawValue, f.message, f.day?.description, f.user, f.file, f.time]
            let numbers: [Int?] = [row[0], row[7], row[9], row[10]]
            let expectedNumbers: [Int?] = [1, f.line, f.offset, f.count]
            #expect(texts == expectedTexts && numbers == expectedNumbers, "\(row) for \(f)")
        }
    }
}
