import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// New users' rows are inserted many to a statement (`UserRowInserter`): every row must land
/// once, in key order, with its values and NULLs, whatever the count's remainder.
@Suite struct UserRowInserterTests {
    struct Expected: Equatable {
        var key: Int64
        var name: String
        var verifiedAt: Int64?
        var firstMillis: Int64?
        var firstSegment: Int64?
        var firstLine: Int64?
    }

    func stored(_ database: StateDatabase) throws -> [Expected] {
        try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                           first_unverified_publish_line FROM users ORDER BY id
                    """
            ).map { Expected(key: $0[0], name: $0[1], verifiedAt: $0[2], firstMillis: $0[3], firstSegment: $0[4], firstLine: $0[5]) }
        }
    }

    @Test(arguments: [0, 1, 2, 63, 64, 65, 64 * 3 + 37, 1000])
    func everyRowIsInsertedOnceWithItsValues(count: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-userrows-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try StateDatabase(directory: dir.path)
        // Names of varied lengths (empty, short, long, non-ASCII); values NULL in turn.
        let rows = (0..<count).map { i in
            Expected(
                key: Int64(10 + i), name: i % 7 == 0 ? "" : String(repeating: "ü", count: i % 5) + "user-\(i)",
                verifiedAt: i % 2 == 0 ? Int64(i) * 1000 : nil, firstMillis: i % 3 == 0 ? Int64(i) * 7 : nil,
                firstSegment: i % 3 == 0 ? Int64(i % 11) : nil, firstLine: i % 3 == 0 ? Int64(i + 1) : nil)
        }
        try database.pool.write { db in
            var inserter = UserRowInserter(db)
            for row in rows {
                try inserter.add(
                    key: row.key, name: row.name, verifiedAt: row.verifiedAt, firstMillis: row.firstMillis,
                    firstSegment: row.firstSegment, firstLine: row.firstLine)
            }
            try inserter.flush()
            // Flushed again with nothing pending: nothing more.
            try inserter.flush()
        }
        #expect(try stored(database) == rows)
    }

    /// Updating, the rows given are written whole (values, NULLs and the name given) and the
    /// others left, for any count's remainder.
    @Test(arguments: [1, 64, 64 * 2 + 21])
    func updatingReplacesTheRowsGiven(count: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-userrows-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try StateDatabase(directory: dir.path)
        let before = (0..<count + 5).map {
            Expected(key: Int64($0 + 1), name: "user-\($0)", verifiedAt: 5, firstMillis: 6, firstSegment: 7, firstLine: 8)
        }
        // Every other row changes, some values to NULL, and its name.
        let changed = before.enumerated().filter { $0.offset % 2 == 0 }.prefix(count).map { i, row in
            Expected(
                key: row.key, name: "renamed-\(i)", verifiedAt: i % 4 == 0 ? nil : Int64(i), firstMillis: Int64(i) * 3,
                firstSegment: i % 3 == 0 ? nil : 9, firstLine: Int64(i))
        }
        try database.pool.write { db in
            var inserter = UserRowInserter(db)
            for row in before {
                try inserter.add(
                    key: row.key, name: row.name, verifiedAt: row.verifiedAt, firstMillis: row.firstMillis,
                    firstSegment: row.firstSegment, firstLine: row.firstLine)
            }
            try inserter.flush()
            var updater = UserRowInserter(db, updating: true)
            for row in changed {
                try updater.add(
                    key: row.key, name: row.name, verifiedAt: row.verifiedAt, firstMillis: row.firstMillis,
                    firstSegment: row.firstSegment, firstLine: row.firstLine)
            }
            try updater.flush()
        }
        let byKey = Dictionary(uniqueKeysWithValues: changed.map { ($0.key, $0) })
        #expect(try stored(database) == before.map { byKey[$0.key] ?? $0 })
    }

    /// Appending (keys left to SQLite), rows after the table's highest key get exactly the given
    /// keys, names and values, whatever the count's remainder; into an empty table from 1.
    @Test(arguments: [(0, 1), (10, 1), (10, 64), (10, 65), (0, 64 * 3 + 37)])
    func appendedRowsGetTheirKeys(already: Int, count: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-userrows-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try StateDatabase(directory: dir.path)
        let rows = (0..<already + count).map { i in
            Expected(
                key: Int64(1 + i), name: i % 7 == 0 ? "" : String(repeating: "ü", count: i % 5) + "user-\(i)",
                verifiedAt: i % 2 == 0 ? Int64(i) * 1000 : nil, firstMillis: i % 3 == 0 ? Int64(i) * 7 : nil,
                firstSegment: i % 3 == 0 ? Int64(i % 11) : nil, firstLine: i % 3 == 0 ? Int64(i + 1) : nil)
        }
        for (part, appending) in [(rows.prefix(already), false), (rows.dropFirst(already), true)] {
            try database.pool.write { db in
                var inserter = UserRowInserter(db, appending: appending)
                for row in part {
                    try inserter.add(
                        key: row.key, name: row.name, verifiedAt: row.verifiedAt, firstMillis: row.firstMillis,
                        firstSegment: row.firstSegment, firstLine: row.firstLine)
                }
                try inserter.flush()
            }
        }
        #expect(try stored(database) == rows)
    }

    /// Appending rows whose keys do not follow the table's highest (a gap, or a key already
    /// taken), or one another, throws and leaves nothing: the keys SQLite gives are checked.
    @Test(arguments: [[12, 13], [10, 11], [11, 13], [11, 12, 12]] as [[Int64]])
    func appendedKeysOutOfStepThrow(keys: [Int64]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-userrows-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try StateDatabase(directory: dir.path)
        try database.pool.write { db in
            var inserter = UserRowInserter(db)
            for key in 1...10 as ClosedRange<Int64> {
                try inserter.add(key: key, name: "u\(key)", verifiedAt: nil, firstMillis: nil, firstSegment: nil, firstLine: nil)
            }
            try inserter.flush()
        }
        let before = try stored(database)
        #expect(throws: DatabaseError.self) {
            try database.pool.write { db in
                var inserter = UserRowInserter(db, appending: true)
                for key in keys {
                    try inserter.add(key: key, name: "n\(key)", verifiedAt: nil, firstMillis: nil, firstSegment: nil, firstLine: nil)
                }
                try inserter.flush()
            }
        }
        #expect(try stored(database) == before, "rolled back")
    }

    /// Rows given as batches built apart (`UserRowBatch`, as `GroupUserMerge` builds each
    /// range's), of any size and between single rows, are written like rows added one by one:
    /// plain, appending and updating.
    @Test(arguments: [false, true])
    func batchesAreWrittenLikeSingleRows(appending: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-userrows-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try StateDatabase(directory: dir.path)
        let sizes = [0, 1, 63, 1, 64, 65, 0, 200, 3]
        let rows = (0..<sizes.reduce(0, +) + 2).map { i in
            Expected(
                key: Int64(1 + i), name: String(repeating: "ü", count: i % 5) + "user-\(i)",
                verifiedAt: i % 2 == 0 ? Int64(i) * 1000 : nil, firstMillis: i % 3 == 0 ? Int64(i) * 7 : nil,
                firstSegment: i % 3 == 0 ? Int64(i % 11) : nil, firstLine: i % 3 == 0 ? Int64(i + 1) : nil)
        }
        func batch(_ rows: ArraySlice<Expected>) -> UserRowBatch {
            var batch = UserRowBatch()
            for row in rows {
                batch.add(
                    key: row.key, name: row.name, verifiedAt: row.verifiedAt, firstMillis: row.firstMillis,
                    firstSegment: row.firstSegment, firstLine: row.firstLine)
            }
            return batch
        }
        try database.pool.write { db in
            var inserter = UserRowInserter(db, appending: appending)
            var rest = rows[...]
            // A single row first and last; batches of every size between.
            try inserter.add(batch(rest.prefix(1)))
            rest = rest.dropFirst()
            for size in sizes {
                try inserter.add(batch(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            let last = rest.first!
            try inserter.add(
                key: last.key, name: last.name, verifiedAt: last.verifiedAt, firstMillis: last.firstMillis,
                firstSegment: last.firstSegment, firstLine: last.firstLine)
            try inserter.flush()
        }
        #expect(try stored(database) == rows)
        // Rewritten (updating) as batches: every row replaced by its changed copy.
        let changed = rows.map {
            Expected(key: $0.key, name: $0.name + "!", verifiedAt: 1, firstMillis: nil, firstSegment: nil, firstLine: nil)
        }
        try database.pool.write { db in
            var updater = UserRowInserter(db, updating: true)
            var rest = changed[...]
            for size in sizes + [rest.count] {
                try updater.add(batch(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            try updater.flush()
        }
        #expect(try stored(database) == changed)
    }

    /// Appending, a batch whose keys do not follow one another, or the rows before it, throws.
    @Test(arguments: [[2, 4], [3, 4]] as [[Int64]])
    func appendedBatchOutOfStepThrows(keys: [Int64]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-userrows-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try StateDatabase(directory: dir.path)
        #expect(throws: DatabaseError.self) {
            try database.pool.write { db in
                var inserter = UserRowInserter(db, appending: true)
                try inserter.add(key: 1, name: "u1", verifiedAt: nil, firstMillis: nil, firstSegment: nil, firstLine: nil)
                var batch = UserRowBatch()
                for key in keys {
                    batch.add(key: key, name: "u\(key)", verifiedAt: nil, firstMillis: nil, firstSegment: nil, firstLine: nil)
                }
                try inserter.add(batch)
                try inserter.flush()
            }
        }
        #expect(try stored(database).isEmpty, "rolled back")
    }

    /// A failing row fails the whole insert with SQLite's error (here a key already taken).
    @Test func aFailingRowThrows() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-userrows-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try StateDatabase(directory: dir.path)
        #expect(throws: DatabaseError.self) {
            try database.pool.write { db in
                var inserter = UserRowInserter(db)
                for i in 0..<70 {
                    try inserter.add(
                        key: Int64(i == 69 ? 5 : i), name: "u\(i)", verifiedAt: nil, firstMillis: nil, firstSegment: nil,
                        firstLine: nil)
                }
                try inserter.flush()
            }
        }
        #expect(try stored(database).isEmpty, "rolled back")
    }
}

/// The writer's users across batches: a first file's users all new, a second file's partly
/// known (updated in place when their earliest verification moves) and partly new.
@Suite struct StateWriterUserRowsTests {
    func log(_ fixture: ReadOnceTests.Fixture, _ name: String, _ lines: [String]) throws -> String {
        let path = fixture.dir.appendingPathComponent("logs/" + name).path
        try Data(GzipWriter.compress(Array(lines.map { $0 + "\n" }.joined().utf8))).write(to: URL(fileURLWithPath: path))
        return path
    }

    func line(_ user: String, day: Int, _ event: String) -> String {
        #"{"ts":"2026-10-\#(String(format: "%02d", day))T10:00:00+08:00","user":"\#(user)","event":"\#(event)"}"#
    }

    @Test func usersAcrossBatchesAndFiles() throws {
        let fixture = try ReadOnceTests.Fixture()
        // 150 users on day 10: even ones verify, every third publishes first.
        let first = (0..<150).flatMap { i -> [String] in
            var lines: [String] = []
            if i % 3 == 0 { lines.append(line("u\(i)", day: 10, "post")) }
            if i % 2 == 0 { lines.append(line("u\(i)", day: 10, "verify_phone")) }
            lines.append(line("u\(i)", day: 10, "view"))
            return lines
        }
        // Day 5 (earlier): the first 100 again, all verifying; then 70 new users.
        let second = (0..<100).map { line("u\($0)", day: 5, "verify_id") } + (150..<220).map { line("u\($0)", day: 5, "view") }
        let paths = [try log(fixture, "a.log.gz", first), try log(fixture, "b.log.gz", second)]
        let plans = try fixture.plan(paths)
        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        try writer.commit(Ingestion.read(plans[0], policy: fixture.policy, vault: fixture.vault))
        try writer.commit(Ingestion.read(plans[1], policy: fixture.policy, vault: fixture.vault))

        let rows = try fixture.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, user, verified_at_ms, first_unverified_publish_ms FROM users ORDER BY id")
        }
        #expect(rows.map { $0[0] as Int64 } == Array(1...220))
        #expect(Set(rows.prefix(150).map { $0[1] as String }) == Set((0..<150).map { "u\($0)" }))
        #expect(rows.suffix(70).map { $0[1] as String } == (150..<220).map { "u\($0)" })
        func millis(_ text: String) -> Int64? { Array(text.utf8).withUnsafeBufferPointer { TimestampParser.parseISO($0) } }
        let day5 = try #require(millis("2026-10-05T10:00:00+08:00"))
        let day10 = try #require(millis("2026-10-10T10:00:00+08:00"))
        for row in rows {
            let n = Int((row[1] as String).dropFirst())!
            let verified: Int64? = row[2]
            let pending: Int64? = row[3]
            #expect(verified == (n < 100 ? day5 : n < 150 && n % 2 == 0 ? day10 : nil), "u\(n)")
            // Who never publishes has no uncovered publish; who publishes and never verifies has.
            if n % 3 != 0 || n >= 150 { #expect(pending == nil, "u\(n)") }
            if n >= 100 && n < 150 && n % 3 == 0 && n % 2 != 0 { #expect(pending == day10, "u\(n)") }
        }

        // A new writer reads the same rows back and adds to them.
        let again = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        let third = try log(fixture, "c.log.gz", [line("u7", day: 3, "verify_id"), line("u500", day: 3, "view")])
        try again.commit(Ingestion.read(try fixture.plan([third])[0], policy: fixture.policy, vault: fixture.vault))
        let after = try fixture.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, user FROM users WHERE user IN ('u7', 'u500') ORDER BY id")
        }
        #expect(after.map { $0[1] as String } == ["u7", "u500"])
        #expect(after.last?[0] == 221 as Int64)
    }
}

/// Known users are rewritten in their keys' order whatever order a file names them in: placed
/// by key when they are many for the keys' range, sorted when few, and sorted when a key was
/// edited by hand outside `1...count`. Each user keeps their key and gets their new values.
@Suite struct StateWriterUpdateOrderTests {
    @Test(arguments: [(200, nil), (2, nil), (200, Int64(-5)), (200, Int64(1) << 40)] as [(Int, Int64?)])
    func knownUsersUpdatedInAnyOrder(updated: Int, editedKey: Int64?) throws {
        let fixture = try ReadOnceTests.Fixture()
        let t = StateWriterUserRowsTests()
        let a = try t.log(fixture, "a.log.gz", (0..<200).map { t.line("u\($0)", day: 10, "view") })
        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
            .commit(Ingestion.read(try fixture.plan([a])[0], policy: fixture.policy, vault: fixture.vault))
        if let editedKey {
            try fixture.database.pool.write { db in try db.execute(sql: "UPDATE users SET id = ? WHERE user = 'u3'", arguments: [editedKey])
            }
        }
        let keys = try fixture.database.pool.read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT user, id FROM users").map { ($0[0] as String, $0[1] as Int64) })
        }
        // Verifying on an earlier day, the last users first: against the keys' order.
        let b = try t.log(fixture, "b.log.gz", (0..<updated).reversed().map { t.line("u\($0 * (200 / updated))", day: 5, "verify_id") })
        let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        try writer.commit(Ingestion.read(try fixture.plan([b])[0], policy: fixture.policy, vault: fixture.vault))

        let rows = try fixture.database.pool.read { db in try Row.fetchAll(db, sql: "SELECT user, id, verified_at_ms FROM users") }
        #expect(rows.count == 200)
        let verifiedUsers = Set((0..<updated).map { "u\($0 * (200 / updated))" })
        for row in rows {
            let user: String = row[0]
            #expect(row[1] as Int64 == keys[user], "\(user) keeps its key")
            #expect(((row[2] as Int64?) != nil) == verifiedUsers.contains(user), "\(user)")
        }
    }
}

/// A state edited by hand whose only user has a key below 1: the next new user gets key 1, as
/// the writer counts (SQLite would have given the highest key plus one, 0): new users are then
/// inserted with their keys, and a later part's new users, whose keys follow again, appended.
@Suite struct StateWriterAppendTests {
    @Test func newUsersAfterKeysBelowOne() throws {
        let fixture = try ReadOnceTests.Fixture()
        let t = StateWriterUserRowsTests()
        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            let runID = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO users (id, user) VALUES (-1, 'old')")
            return runID
        }
        let a = try t.log(fixture, "a.log.gz", [t.line("old", day: 9, "view"), t.line("new1", day: 9, "view")])
        let b = try t.log(fixture, "b.log.gz", [t.line("new2", day: 8, "view"), t.line("new3", day: 8, "view")])
        let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        try writer.commit(Ingestion.read(try fixture.plan([a])[0], policy: fixture.policy, vault: fixture.vault))
        try writer.commit(Ingestion.read(try fixture.plan([b])[0], policy: fixture.policy, vault: fixture.vault))
        let rows = try fixture.database.pool.read { db in try Row.fetchAll(db, sql: "SELECT id, user FROM users ORDER BY id") }
        #expect(rows.map { $0[0] as Int64 } == [-1, 1, 2, 3])
        #expect(rows.map { $0[1] as String } == ["old", "new1", "new2", "new3"])
    }
}

/// A group that fails to commit puts the writer's rows in memory back: users new in one of its
/// parts and changed by a later part end without a row, known users with their old row.
@Suite struct StateWriterUndoTests {
    struct Refused: Error {}

    @Test func aFailedGroupLeavesTheRowsAsTheDatabaseHasThem() throws {
        let fixture = try ReadOnceTests.Fixture()
        let t = StateWriterUserRowsTests()
        let a = try t.log(fixture, "a.log.gz", [t.line("known", day: 9, "verify_phone")])
        let b = try t.log(fixture, "b.log.gz", [t.line("fresh", day: 8, "view"), t.line("known", day: 7, "verify_id")])
        let c = try t.log(fixture, "c.log.gz", [t.line("fresh", day: 6, "verify_id"), t.line("known", day: 5, "verify_id")])
        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        try writer.commit(Ingestion.read(try fixture.plan([a])[0], policy: fixture.policy, vault: fixture.vault))
        let group = try fixture.plan([b, c]).map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) }
        #expect(throws: Refused.self) { try writer.commit(parts: group) { throw Refused() } }

        // Committed again, the group is judged against the rows before it: "fresh" is new again
        // (key 2), "known" updated from its first verification.
        try writer.commit(parts: group)
        let rows = try fixture.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, user, verified_at_ms FROM users ORDER BY id")
        }
        func millis(_ day: Int) -> Int64? {
            Array("2026-10-0\(day)T10:00:00+08:00".utf8).withUnsafeBufferPointer { TimestampParser.parseISO($0) }
        }
        #expect(rows.map { $0[0] as Int64 } == [1, 2])
        #expect(rows.map { $0[1] as String } == ["known", "fresh"])
        #expect(rows.map { $0[2] as Int64? } == [millis(5), millis(6)])
    }
}
