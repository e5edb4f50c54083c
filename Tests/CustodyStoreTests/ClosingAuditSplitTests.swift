import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// The closing audit of `custody run` reads the later half of the state's users on another
/// connection (`StateAudit.report(usersBeside:)`): the same report, and no report at all when
/// the two reads do not add up to the users the state holds.
@Suite struct ClosingAuditSplitTests {
    /// 150 users on day 10 (every third publishes before verifying, even ones verify), then the
    /// first 100 verify on day 5 and 70 new ones appear.
    static func state() throws -> ReadOnceTests.Fixture {
        try stateAndWriter().fixture
    }

    /// `state()` and the writer that wrote it; with `prepared`, both parts are read and their
    /// users interned ahead (`StateWriter.prepare`, as `custody run` does) before either is committed.
    static func stateAndWriter(prepared: Bool = false) throws -> (fixture: ReadOnceTests.Fixture, writer: StateWriter) {
        let fixture = try ReadOnceTests.Fixture()
        let plans = try fixture.plan(try logs(fixture))
        let writer = try CoveredSpansTests.writer(fixture)
        if prepared {
            let parts = try plans.map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) }
            for part in parts { writer.prepare(part) }
            for part in parts { try writer.commit(part) }
        } else {
            for plan in plans { try writer.commit(Ingestion.read(plan, policy: fixture.policy, vault: fixture.vault)) }
        }
        return (fixture, writer)
    }

    /// The two files of `state()`, written into `fixture`'s logs.
    static func logs(_ fixture: ReadOnceTests.Fixture) throws -> [String] {
        let t = StateWriterUserRowsTests()
        let first = (0..<150).flatMap { i -> [String] in
            var lines: [String] = []
            if i % 3 == 0 { lines.append(t.line("u\(i)", day: 10, "post")) }
            if i % 2 == 0 { lines.append(t.line("u\(i)", day: 10, "verify_phone")) }
            lines.append(t.line("u\(i)", day: 10, "view"))
            return lines
        }
        let second = (0..<100).map { t.line("u\($0)", day: 5, "verify_id") } + (150..<220).map { t.line("u\($0)", day: 5, "view") }
        return [try t.log(fixture, "a.log.gz", first), try t.log(fixture, "b.log.gz", second)]
    }

    static func report(
        _ fixture: ReadOnceTests.Fixture, besideUsers: Int = 1,
        _ usersBeside: ((Int64) -> () throws -> UserRowColumns)?
    ) throws -> CheckReport {
        try StateAudit.report(
            database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
            since: nil, userBatch: 16, usersBeside: usersBeside, besideUsers: besideUsers)
    }

    /// How many rows the later read returned (-1: it was not asked for).
    final class Count { var rows = -1 }

    /// The later users read on another connection, as `custody run` does (from `shift` keys
    /// after the one asked for).
    static func beside(
        _ fixture: ReadOnceTests.Fixture, shift: Int64 = 0, read: Count = Count()
    ) -> (Int64) -> () throws -> UserRowColumns {
        { from in
            let database = fixture.database
            let later = Background(on: .reads) {
                try database.pool.read { db in try UserRowColumns(db, keys: (from + shift)...Int64.max) }
            }
            return {
                let columns = try later.wait()
                read.rows = columns.count
                return columns
            }
        }
    }

    @Test func theReportIsTheSameWithTheLaterUsersReadBeside() throws {
        let fixture = try Self.state()
        let whole = try Self.report(fixture, nil)
        #expect(whole.realName.usersSeen == 220)
        #expect(!whole.realName.violatingUsers.isEmpty)
        let read = Count()
        let split = try Self.report(fixture, Self.beside(fixture, read: read))
        #expect(split.json.rendered() == whole.json.rendered())
        // Keys 1...220: the later half is 111...220.
        #expect(read.rows == 110)
        // Too few users to split: read in one go.
        let unsplit = Count()
        #expect(try Self.report(fixture, besideUsers: 221, Self.beside(fixture, read: unsplit)).json.rendered() == whole.json.rendered())
        #expect(unsplit.rows == -1)
    }

    /// The audit tells at its start whether it reads the later half beside (`custody run` starts
    /// its checkpoint of the log on that): once, true exactly when it asks `usersBeside`.
    @Test(arguments: [1, 221])
    func theSplitIsToldOnce(besideUsers: Int) throws {
        let fixture = try Self.state()
        let read = Count()
        var told: [Bool] = []
        let report = try StateAudit.report(
            database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
            since: nil, userBatch: 16, usersBeside: Self.beside(fixture, read: read), besideUsers: besideUsers,
            splitDecided: { told.append($0) })
        #expect(told == [besideUsers == 1])
        #expect(read.rows == (besideUsers == 1 ? 110 : -1))
        #expect(report.json.rendered() == (try Self.report(fixture, nil)).json.rendered())
    }

    /// With the users held (`usersRegistry`), the later half is never read beside: told so.
    @Test func theSplitIsToldNotToHappenWithTheUsersHeld() throws {
        let (fixture, writer) = try Self.stateAndWriter()
        let read = Count()
        var told: [Bool] = []
        _ = try StateAudit.report(
            database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
            since: nil, userBatch: 16, usersBeside: Self.beside(fixture, read: read), besideUsers: 1,
            usersRegistry: { writer.takeRegistry() }, splitDecided: { told.append($0) })
        #expect(told == [false])
        #expect(read.rows == -1)
    }

    /// Fail closed: a later read that misses a row, or reads one twice, is no audit of the state.
    @Test(arguments: [1, -1] as [Int64])
    func halvesThatDoNotAddUpFailTheAudit(shift: Int64) throws {
        let fixture = try Self.state()
        #expect(throws: StoreError.self) { try Self.report(fixture, Self.beside(fixture, shift: shift)) }
    }
}
