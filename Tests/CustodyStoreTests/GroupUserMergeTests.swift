import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A group's users are merged range of ids by range (`GroupUserMerge`), on the committing
/// thread or beside it: whatever the ranges and the thread, the state written is what one pass
/// over the parts writes, and a failure part-way leaves the rows as stored.
@Suite struct GroupUserMergeTests {
    /// How a writer merges: ids per range, and from how many users the last group's merge runs
    /// on another thread (0: always).
    struct Mode: CustomTestStringConvertible, Sendable {
        var width: Int
        var besideFrom: Int
        var testDescription: String { "ranges of \(width), beside from \(besideFrom) users" }
    }

    static let modes = [
        Mode(width: 1 << 15, besideFrom: 100_000),  // one range, on the committing thread (as a run with few users)
        Mode(width: 1, besideFrom: 100_000),  // a range per user, on the committing thread
        Mode(width: 1, besideFrom: 0),  // a range per user, beside
        Mode(width: 7, besideFrom: 0),  // ranges cutting across the parts' users, beside
    ]

    let t = StateWriterUserRowsTests()

    func writer(_ fixture: ReadOnceTests.Fixture, _ mode: Mode) throws -> StateWriter {
        let writer = try CoveredSpansTests.writer(fixture)
        writer.mergeRangeWidth = mode.width
        writer.mergeBesideFromUsers = mode.besideFrom
        return writer
    }

    /// Three files: the first alone, then two as one group (the run's last: `registryAhead`),
    /// with users new in each, verifications moving earlier (covering spans), publishes before
    /// verifying (pending spans), and users only seen.
    func logs(_ fixture: ReadOnceTests.Fixture) throws -> (first: String, group: [String]) {
        /// A log of `users`, in that order: each viewed on `viewDay`, then the events `more` gives it.
        func log(_ name: String, _ users: [Int], viewDay: Int, _ more: (Int) -> [(day: Int, event: String)]) throws -> String {
            try t.log(
                fixture, name,
                users.flatMap { i in [t.line("u\(i)", day: viewDay, "view")] + more(i).map { t.line("u\(i)", day: $0.day, $0.event) } })
        }
        let a = try log("a.log.gz", Array(0..<40), viewDay: 12) { i in
            (i % 3 == 0 ? [(8, "post")] : []) + (i % 2 == 0 ? [(9, "verify_phone")] : [])
        }
        let b = try log("b.log.gz", (0..<60).reversed(), viewDay: 13) { i in
            (i % 4 == 0 ? [(5, "verify_id")] : []) + (i >= 40 && i % 2 == 1 ? [(6, "post")] : [])
        }
        let c = try log("c.log.gz", Array(10..<70), viewDay: 14) { i in
            (i % 5 == 0 ? [(3, "verify_id")] : []) + (i % 7 == 0 ? [(2, "post")] : [])
        }
        return (a, [b, c])
    }

    func state(_ fixture: ReadOnceTests.Fixture) throws -> (users: [[String]], spans: [[String]]) {
        try fixture.database.pool.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY id").map { $0.databaseValues.map(\.description) },
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT user, segment_id, events, earliest_ms, latest_ms, exact_times_ms FROM pending_publishes
                        ORDER BY user, segment_id
                        """
                ).map { $0.databaseValues.map(\.description) }
            )
        }
    }

    /// Commits the first file, then the other two as the run's last group, then one more file
    /// with a writer opened afresh (new users' keys follow the group's).
    func commitAll(_ fixture: ReadOnceTests.Fixture, _ mode: Mode) throws {
        let (first, group) = try logs(fixture)
        let writer = try writer(fixture, mode)
        try writer.commit(Ingestion.read(try fixture.plan([first])[0], policy: fixture.policy, vault: fixture.vault))
        // Beside only for the run's last group (`registryAhead`), and with users enough.
        #expect(!writer.mergedBeside)
        let parts = try fixture.plan(group).map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) }
        try writer.commit(parts: parts, registryAhead: true)
        #expect(writer.mergedBeside == (mode.besideFrom <= parts.reduce(0) { $0 + $1.audit.users.count }))
        let d = try t.log(fixture, "d.log.gz", [t.line("u3", day: 1, "verify_id"), t.line("late", day: 1, "post")])
        try self.writer(fixture, mode).commit(Ingestion.read(try fixture.plan([d])[0], policy: fixture.policy, vault: fixture.vault))
    }

    @Test(arguments: modes)
    func byRangesOrBesideTheStateIsWhatOnePassWrites(mode: Mode) throws {
        let reference = try ReadOnceTests.Fixture()
        try commitAll(reference, Self.modes[0])
        let fixture = try ReadOnceTests.Fixture()
        try commitAll(fixture, mode)
        let expected = try state(reference)
        let found = try state(fixture)
        #expect(found.users == expected.users)
        #expect(found.spans == expected.spans)
        // The data reaches every path: users created and rewritten, spans inserted and covered.
        #expect(expected.users.count == 71)
        #expect(!expected.spans.isEmpty)
        // New users' keys in the order they were first seen: b lists its users backwards.
        let names = try fixture.database.pool.read { db in try String.fetchAll(db, sql: "SELECT user FROM users ORDER BY id") }
        #expect(names == (0..<40).map { "u\($0)" } + (40..<60).reversed().map { "u\($0)" } + (60..<70).map { "u\($0)" } + ["late"])
    }

    /// How a group's commit fails: a pending span refused for a user of a middle range (after
    /// earlier ranges were written, while later ones may still be merged beside), or once every
    /// range is written (`beforeCommit`: the vault objects could not be made durable).
    enum Failure: CaseIterable, Sendable { case span, beforeCommit }

    /// The group's rows go back to what the state holds, and committing it again writes what a
    /// writer that never failed writes.
    @Test(arguments: modes, Failure.allCases)
    func aGroupFailingPartWayLeavesTheRowsAsStored(mode: Mode, failure: Failure) throws {
        struct Refused: Error {}
        func commitGroup(_ fixture: ReadOnceTests.Fixture, refusing: Bool) throws {
            let (first, group) = try logs(fixture)
            let writer = try writer(fixture, mode)
            try writer.commit(Ingestion.read(try fixture.plan([first])[0], policy: fixture.policy, vault: fixture.vault))
            let parts = try fixture.plan(group).map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) }
            if refusing && failure == .span {
                // u21 (id 21) publishes in c before any verification: a span in range 21 of 70
                // (ranges of 1), 3 of 10 (ranges of 7).
                try fixture.database.pool.write { db in
                    try db.execute(
                        sql: """
                            CREATE TRIGGER refuse BEFORE INSERT ON pending_publishes WHEN new.user = 'u21'
                            BEGIN SELECT RAISE(ABORT, 'refused'); END
                            """)
                }
                #expect(throws: (any Error).self) { try writer.commit(parts: parts, registryAhead: true) }
                try fixture.database.pool.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
            } else if refusing {
                #expect(throws: Refused.self) { try writer.commit(parts: parts, beforeCommit: { throw Refused() }, registryAhead: true) }
            }
            try writer.commit(parts: parts, registryAhead: true)
        }
        let failed = try ReadOnceTests.Fixture()
        try commitGroup(failed, refusing: true)
        let clean = try ReadOnceTests.Fixture()
        try commitGroup(clean, refusing: false)
        let expected = try state(clean)
        let found = try state(failed)
        #expect(found.users == expected.users)
        #expect(found.spans == expected.spans)
    }

    /// Beside, the merge stays at most two ranges ahead of the writer (the rows it builds wait
    /// in memory until written), however slow the writer; each range's rows are built once.
    @Test func besideTheMergeWaitsForTheWriter() {
        let count = 40
        var rows = [StateWriter.UserRow?](repeating: nil, count: count)
        var flags = [Bool](repeating: false, count: count)
        let names = (0..<count).map { "u\($0)" }
        // New users are interned in the order a part lists them: their ids follow that order.
        let part = GroupUserMerge.Part(
            activities: (0..<count).map { i in
                UserFileActivity(user: names[i], verifiedAt: Int64(i) * 10, pending: PendingPublishes(), firstPending: nil)
            },
            ids: (0..<Int32(count)).map { $0 }, segmentID: 1)
        var built: [Int64] = []
        rows.withUnsafeMutableBufferPointer { rows in
            flags.withUnsafeMutableBufferPointer { flags in
                let merge = GroupUserMerge(
                    parts: [part], names: names, userCount: count, width: 3, rows: rows, mayHaveSpans: flags, nextStoredID: 1)
                merge.start(on: WorkerPool.merges)
                for range in 0..<merge.rangeCount {
                    merge.mergeHere(range: range)
                    merge.waitFor(range: range)
                    // A slow writer: the merge could run ahead meanwhile.
                    usleep(2_000)
                    var written = merge.take(range: range)
                    built += written.created.rows.map(\.key)
                    merge.release(range: range, &written)
                }
                merge.waitUntilDone()
                #expect(merge.mostAheadOfWriter <= 2)
                #expect(merge.nextStoredID == Int64(count) + 1)
            }
        }
        // Every range's new rows built once, in key order, and the keys follow the ids.
        #expect(built == (1...Int64(count)).map { $0 })
        #expect(rows.map { $0?.storedID } == (1...Int64(count)).map { $0 })
        #expect(rows.map { $0?.verifiedAt } == (0..<count).map { Int64($0) * 10 })
    }
}
