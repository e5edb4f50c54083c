import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A run's plans are held until it ends (10,000 small files: 10,000 plans), so what each one
/// keeps is memory the whole run holds: a file's fingerprinted prefix is kept at its own length
/// while it is matched, and only its length once planned.
@Suite struct PlanFootprintTests {
    /// A short file's prefix holds its bytes, not room for `fingerprintLength`.
    @Test func aShortFilesPrefixIsKeptAtItsOwnLength() throws {
        let fixture = try ReadOnceTests.Fixture()
        let path = try fixture.log("a.log.gz", user: "alice", lines: 3)
        let decoded = try decodedLength(path)
        #expect(decoded < 400)
        let fromPath = try #require(try FileIdentity.read(path: path))
        let file = try #require(try WholeFile.read(path: path))
        let whole = try #require(try FileIdentity.read(file))
        for identity in [fromPath, whole] {
            #expect(identity.prefix.count == decoded)
            #expect(identity.prefixLength == decoded)
            #expect(identity.prefix.capacity < FileIdentity.fingerprintLength, "capacity \(identity.prefix.capacity)")
        }
    }

    /// A plan keeps its identity's fingerprint and length, not the prefix's bytes; the file's
    /// row records the length the fingerprint covers, as before.
    @Test func aPlanKeepsTheFingerprintsLengthAndItsRowRecordsIt() throws {
        let fixture = try ReadOnceTests.Fixture()
        let short = try fixture.log("short.log.gz", user: "alice", lines: 3)
        let long = try fixture.log("long.log.gz", user: "bob", lines: 200)
        let plans = try fixture.plan([long, short])
        #expect(plans.count == 2)
        for plan in plans { #expect(plan.identity.prefix.isEmpty) }
        let lengths = Dictionary(uniqueKeysWithValues: plans.map { ($0.path, $0.identity.prefixLength) })
        #expect(lengths[short] == (try decodedLength(short)))
        #expect(lengths[long] == FileIdentity.fingerprintLength)

        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        try writer.commit(parts: plans.map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) })
        let rows = try fixture.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT last_path, fingerprint_length, fingerprint FROM log_files")
        }
        #expect(rows.count == 2)
        for row in rows {
            let path: String = row[0]
            let expected = try #require(try FileIdentity.read(path: path))
            #expect(row[1] == expected.prefixLength, "\(path)")
            #expect(row[2] == expected.fingerprint, "\(path)")
        }

        // Planned again, both are known and unchanged: matched by what the rows recorded.
        #expect(try fixture.plan([long, short]).isEmpty)
    }

    private func decodedLength(_ path: String) throws -> Int {
        let source = try DecodedSources.open(path: path)
        var total = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while case let n = source.read(into: buffer), n > 0 { total += n }
        return total
    }
}
