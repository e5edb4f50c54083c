import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A group's `users` rows are written once per user, as its last part leaves them
/// (`StateWriter.writeUsers`), and big parts that wait together are committed as one group
/// (`IngestionRun.groupSize`).
@Suite struct GroupUserWritesTests {
    /// Counts every write of a `users` row (an insert, or an update of an upsert) by key.
    static func countWrites(_ fixture: ReadOnceTests.Fixture) throws {
        try fixture.database.pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE user_writes (id INTEGER NOT NULL);
                    CREATE TRIGGER user_inserted AFTER INSERT ON users BEGIN INSERT INTO user_writes VALUES (new.id); END;
                    CREATE TRIGGER user_updated AFTER UPDATE ON users BEGIN INSERT INTO user_writes VALUES (new.id); END;
                    """)
        }
    }

    static func writes(_ fixture: ReadOnceTests.Fixture) throws -> [String: Int] {
        try fixture.database.pool.read { db in
            var writes: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT users.user, count(*) FROM user_writes JOIN users ON users.id = user_writes.id GROUP BY users.user")
            {
                writes[row[0]] = row[1]
            }
            return writes
        }
    }

    /// "k1" and "fresh" change in both parts of the group, "k2" only in the second; each is
    /// written once, with what the second part left, and the new users get the next keys.
    @Test func aUserChangedByEveryPartOfAGroupIsWrittenOnce() throws {
        let fixture = try ReadOnceTests.Fixture()
        let t = StateWriterUserRowsTests()
        let a = try t.log(fixture, "a.log.gz", [t.line("k1", day: 9, "verify_phone"), t.line("k2", day: 9, "verify_phone")])
        let b = try t.log(fixture, "b.log.gz", [t.line("fresh", day: 8, "view"), t.line("k1", day: 7, "verify_id")])
        let c = try t.log(
            fixture, "c.log.gz",
            [
                t.line("fresh", day: 6, "verify_id"), t.line("k1", day: 5, "verify_id"), t.line("k2", day: 4, "verify_id"),
                t.line("late", day: 6, "view"),
            ])
        let writer = try CoveredSpansTests.writer(fixture)
        try writer.commit(Ingestion.read(try fixture.plan([a])[0], policy: fixture.policy, vault: fixture.vault))
        try Self.countWrites(fixture)
        let group = try fixture.plan([b, c]).map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) }
        try writer.commit(parts: group)

        #expect(try Self.writes(fixture) == ["k1": 1, "k2": 1, "fresh": 1, "late": 1])
        let rows = try fixture.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, user, verified_at_ms FROM users ORDER BY id")
        }
        func millis(_ day: Int) -> Int64? {
            Array("2026-10-0\(day)T10:00:00+08:00".utf8).withUnsafeBufferPointer { TimestampParser.parseISO($0) }
        }
        #expect(rows.map { $0[0] as Int64 } == [1, 2, 3, 4])
        #expect(rows.map { $0[1] as String } == ["k1", "k2", "fresh", "late"])
        #expect(rows.map { $0[2] as Int64? } == [millis(5), millis(4), millis(6), nil])

        // A new writer reads the group's rows back as they were written.
        let again = try CoveredSpansTests.writer(fixture)
        let d = try t.log(fixture, "d.log.gz", [t.line("k1", day: 3, "verify_id"), t.line("later", day: 3, "view")])
        try again.commit(Ingestion.read(try fixture.plan([d])[0], policy: fixture.policy, vault: fixture.vault))
        #expect(try Self.writes(fixture) == ["k1": 2, "k2": 1, "fresh": 1, "late": 1, "later": 1])
    }

    /// A part's rows are changed in memory as it is merged: when the group fails part-way
    /// through a part (here a pending span refused after "k1" moved earlier and "n1" was
    /// created), the rows go back to what the state holds, and committing the part again writes
    /// what a writer that never failed writes.
    @Test func aGroupFailingPartWayThroughAPartLeavesTheRowsAsStored() throws {
        let t = StateWriterUserRowsTests()
        func rows(_ fixture: ReadOnceTests.Fixture) throws -> [[String]] {
            try fixture.database.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY id").map { row in row.databaseValues.map(\.description) }
            }
        }
        func commitBoth(_ fixture: ReadOnceTests.Fixture, refusing: Bool) throws {
            let a = try t.log(
                fixture, "a.log.gz",
                [t.line("k1", day: 9, "verify_phone"), t.line("k2", day: 9, "verify_phone"), t.line("k3", day: 9, "verify_phone")])
            let b = try t.log(
                fixture, "b.log.gz", [t.line("k1", day: 5, "verify_id"), t.line("n1", day: 5, "view"), t.line("k3", day: 4, "post")])
            let writer = try CoveredSpansTests.writer(fixture)
            try writer.commit(Ingestion.read(try fixture.plan([a])[0], policy: fixture.policy, vault: fixture.vault))
            let part = try Ingestion.read(try fixture.plan([b])[0], policy: fixture.policy, vault: fixture.vault)
            if refusing {
                try fixture.database.pool.write { db in
                    try db.execute(
                        sql: """
                            CREATE TRIGGER refuse BEFORE INSERT ON pending_publishes WHEN new.user = 'k3'
                            BEGIN SELECT RAISE(ABORT, 'refused'); END
                            """)
                }
                #expect(throws: (any Error).self) { try writer.commit(part) }
                try fixture.database.pool.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
            }
            try writer.commit(part)
        }
        let failed = try ReadOnceTests.Fixture()
        try commitBoth(failed, refusing: true)
        let clean = try ReadOnceTests.Fixture()
        try commitBoth(clean, refusing: false)
        #expect(try rows(failed) == rows(clean))
        let names = try failed.database.pool.read { db in try String.fetchAll(db, sql: "SELECT user FROM users ORDER BY id") }
        #expect(names == ["k1", "k2", "k3", "n1"])
    }

    /// Ids listed more than once (a user changed by several parts) come out once, in their
    /// keys' order: placed by key (negative keys too), and sorted when the keys are few for the
    /// span they cover, or far apart.
    @Test(
        arguments: [
            [0: 3, 1: 1, 2: 2, 3: 0],
            [0: 3, 1: -5, 2: 2, 3: 0],
            [0: 3, 1: 1 << 40, 2: 2, 3: 0],
            [0: 3, 1: -(1 << 62), 2: 2, 3: 1 << 62],
            [0: 1_003, 1: 1_001, 2: 1_002, 3: 1_000],
            [0: 3, 1: 1_000, 2: 2, 3: 0],
        ] as [[Int32: Int64]])
    func idsInKeyOrderEachOnce(keys: [Int32: Int64]) {
        let ids: [Int32] = [1, 0, 1, 3, 2, 0, 1]
        let ordered = StateWriter.byKey(ids, keys: ids.map { keys[$0]! })
        #expect(ordered == keys.keys.sorted { keys[$0]! < keys[$1]! })
        #expect(StateWriter.byKey([2, 2], keys: [2, 2]) == [2])
    }

    /// Big parts waiting together go into one group, up to the users' bound; small ones up to
    /// the group's parts.
    @Test func bigPartsWaitingTogetherAreOneGroup() {
        #expect(IngestionRun.groupSize(users: [400_000, 400_000], maxParts: 256) == 2)
        #expect(IngestionRun.groupSize(users: [600_000, 600_000, 5], maxParts: 256) == 2)
        #expect(IngestionRun.groupSize(users: [2_000_000, 5], maxParts: 256) == 1)
        #expect(IngestionRun.groupSize(users: Array(repeating: 3, count: 300), maxParts: 256) == 256)
        #expect(IngestionRun.groupSize(users: [], maxParts: 256) == 0)
    }

    /// A group due with one big part waits a little for the reads under way (half the run so
    /// far, at most a group's age); small parts, groups of several parts, and parts with no read
    /// under way do not wait.
    @Test func aLoneBigPartWaitsForReadsUnderWay() {
        let hold = { (users: Int, waiting: Int, underWay: Int, elapsed: Duration) in
            IngestionRun.bigPartHold(users: users, waiting: waiting, underWay: underWay, elapsed: elapsed)
        }
        #expect(hold(400_000, 1, 1, .milliseconds(500)) == .milliseconds(250))
        #expect(hold(400_000, 1, 3, .seconds(30)) == CommitGrouping().maxAge)
        #expect(hold(99_999, 1, 1, .milliseconds(500)) == nil)
        #expect(hold(400_000, 2, 1, .milliseconds(500)) == nil)
        #expect(hold(400_000, 1, 0, .milliseconds(500)) == nil)
    }
}
