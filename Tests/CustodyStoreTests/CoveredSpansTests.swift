import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A verification that moves earlier deletes the user's stored publish spans it covers
/// (`StateWriter`): whether a user may have spans is known from the spans a part of this run
/// stored, from the state's spans of users with a row, and from spans of users without one.
@Suite struct CoveredSpansTests {
    /// A gzip log of `(time on 2026-10-01 UTC, user, event)` lines; returns its path.
    static func log(_ fixture: ReadOnceTests.Fixture, _ name: String, _ lines: [(String, String, String)]) throws -> String {
        let text = lines.map { #"{"ts":"2026-10-01T\#($0.0):00Z","user":"\#($0.1)","event":"\#($0.2)"}"# + "\n" }
        let path = fixture.dir.appendingPathComponent("logs/" + name).path
        try Data(GzipWriter.compress(Array(text.joined().utf8))).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func writer(_ fixture: ReadOnceTests.Fixture) throws -> StateWriter {
        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        return try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
    }

    /// Commits each file as a part of its own, in the order given.
    static func commit(_ fixture: ReadOnceTests.Fixture, _ writer: StateWriter, _ paths: [String]) throws {
        for plan in try fixture.plan(paths) {
            try writer.commit(try Ingestion.read(plan, policy: fixture.policy, vault: fixture.vault, durable: false))
        }
    }

    static func spans(_ fixture: ReadOnceTests.Fixture) throws -> [String: Int] {
        try fixture.database.pool.read { db in
            var spans: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user, count(*) FROM pending_publishes GROUP BY user") { spans[row[0]] = row[1] }
            return spans
        }
    }

    /// `q`'s span, stored by the first part, is covered by the second part's earlier
    /// verification; `r`'s verification moves earlier too, but not before its publish.
    @Test func aSpanStoredEarlierInTheRunIsDeletedWhenCovered() throws {
        let fixture = try ReadOnceTests.Fixture()
        let writer = try Self.writer(fixture)
        let first = try Self.log(
            fixture, "a.log.gz",
            [("06:00", "q", "post"), ("09:00", "q", "verify_phone"), ("06:00", "r", "post"), ("09:00", "r", "verify_phone")])
        try Self.commit(fixture, writer, [first])
        #expect(try Self.spans(fixture) == ["q": 1, "r": 1])
        let second = try Self.log(fixture, "b.log.gz", [("05:00", "q", "verify_phone"), ("08:00", "r", "verify_phone")])
        try Self.commit(fixture, writer, [second])
        #expect(try Self.spans(fixture) == ["r": 1])
    }

    /// A span of a user the `users` table does not hold (a state edited by hand): the row the
    /// user gets in this run still knows the span may be there, and a later verification that
    /// covers it deletes it.
    @Test func aSpanOfAUserWithoutARowIsDeletedWhenCovered() throws {
        let fixture = try ReadOnceTests.Fixture()
        try Self.commit(fixture, try Self.writer(fixture), [try Self.log(fixture, "a.log.gz", [("06:00", "alice", "view")])])
        let publish = try #require(TimestampParser.parse("2026-10-01T07:00:00Z"))
        try fixture.database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO pending_publishes (user, segment_id, events, earliest_ms, latest_ms, exact_times_ms)
                    VALUES ('z', (SELECT min(id) FROM segments), 1, ?, ?, NULL)
                    """, arguments: [publish, publish])
        }
        let writer = try Self.writer(fixture)
        try Self.commit(fixture, writer, [try Self.log(fixture, "b.log.gz", [("10:00", "z", "verify_phone")])])
        #expect(try Self.spans(fixture) == ["z": 1], "a verification after the span covers nothing")
        try Self.commit(fixture, writer, [try Self.log(fixture, "c.log.gz", [("04:00", "z", "verify_phone")])])
        #expect(try Self.spans(fixture) == [:])
    }
}
