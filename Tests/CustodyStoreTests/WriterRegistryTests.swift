import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// `custody run`'s closing audit takes the state's users as its writer holds them
/// (`StateWriter.takeRegistry`, `StateAudit.report(usersRegistry:)`), not read back: the same
/// report as from the rows, only when the writer holds a row for every user it knows, and no
/// report when the table does not hold as many users or a sampled row is not the one held.
@Suite struct WriterRegistryTests {
    static func audit(_ fixture: ReadOnceTests.Fixture, registry: HeldUsers?) throws -> CheckReport {
        try StateAudit.report(
            database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
            since: nil, userBatch: 16, usersBeside: nil, usersRegistry: { registry })
    }

    /// Two files, the second with users new and known, some verifying earlier and some
    /// publishing before verifying; their users interned ahead of the commits or not.
    @Test(arguments: [false, true])
    func theWritersRegistryAuditsAsTheRowsDo(prepared: Bool) throws {
        let (fixture, writer) = try ClosingAuditSplitTests.stateAndWriter(prepared: prepared)
        let registry = try #require(writer.takeRegistry())
        #expect(registry.registry.usersSeen == 220)
        let fromWriter = try Self.audit(fixture, registry: registry)
        let fromRows = try Self.audit(fixture, registry: nil)
        #expect(!fromRows.realName.violatingUsers.isEmpty)
        #expect(fromWriter.json.rendered() == fromRows.json.rendered())
    }

    /// A known state loaded by a new writer (the rows it reads at its start) and changed by one
    /// more file: the registry is the table's as it ends.
    @Test func aWriterOnAStateItLoadedHoldsItsRows() throws {
        let (fixture, _) = try ClosingAuditSplitTests.stateAndWriter()
        let t = StateWriterUserRowsTests()
        let writer = try CoveredSpansTests.writer(fixture)
        let more = try t.log(fixture, "c.log.gz", [t.line("u3", day: 4, "verify_id"), t.line("new", day: 4, "post")])
        try writer.commit(Ingestion.read(try fixture.plan([more])[0], policy: fixture.policy, vault: fixture.vault))
        let registry = try #require(writer.takeRegistry())
        #expect(registry.registry.usersSeen == 221)
        #expect(try Self.audit(fixture, registry: registry).json.rendered() == Self.audit(fixture, registry: nil).json.rendered())
    }

    /// The two files of `stateAndWriter`, read, and a writer with neither committed.
    static func unwritten() throws -> (ReadOnceTests.Fixture, StateWriter, [IngestedPart]) {
        let fixture = try ReadOnceTests.Fixture()
        let plans = try fixture.plan(try ClosingAuditSplitTests.logs(fixture))
        let parts = try plans.map { try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault) }
        return (fixture, try CoveredSpansTests.writer(fixture), parts)
    }

    /// Built while the last group's rows are written (`registryAhead`): the same report.
    @Test func aRegistryBuiltAheadAuditsAsTheRowsDo() throws {
        let (fixture, writer, parts) = try Self.unwritten()
        try writer.commit(parts[0])
        try writer.commit(parts: [parts[1]], registryAhead: true)
        let registry = try #require(writer.takeRegistry())
        #expect(writer.tookRegistryBuiltAhead)
        #expect(registry.registry.usersSeen == 220)
        #expect(try Self.audit(fixture, registry: registry).json.rendered() == Self.audit(fixture, registry: nil).json.rendered())
        // Handed over once.
        #expect(writer.takeRegistry() == nil)
    }

    /// A commit after the one that built ahead: the registry is the rows as they end.
    @Test func aCommitAfterTheBuildIsInTheRegistry() throws {
        let (fixture, writer, parts) = try Self.unwritten()
        try writer.commit(parts: [parts[0]], registryAhead: true)
        try writer.commit(parts[1])
        let registry = try #require(writer.takeRegistry())
        #expect(!writer.tookRegistryBuiltAhead)
        #expect(registry.registry.usersSeen == 220)
        #expect(try Self.audit(fixture, registry: registry).json.rendered() == Self.audit(fixture, registry: nil).json.rendered())
    }

    /// A last commit that fails (after its registry was started): the registry is the rows as
    /// the database still has them. Here the failed file would have had u105, who published
    /// before verifying, verify first.
    @Test func aFailedCommitIsNotInTheRegistry() throws {
        struct SyncFailed: Error {}
        let (fixture, writer, parts) = try Self.unwritten()
        try writer.commit(parts: parts)
        let t = StateWriterUserRowsTests()
        let more = try t.log(fixture, "c.log.gz", [t.line("u105", day: 4, "verify_id")])
        let part = try Ingestion.read(try fixture.plan([more])[0], policy: fixture.policy, vault: fixture.vault)
        #expect(throws: SyncFailed.self) {
            try writer.commit(parts: [part], beforeCommit: { throw SyncFailed() }, registryAhead: true)
        }
        let registry = try #require(writer.takeRegistry())
        #expect(!writer.tookRegistryBuiltAhead)
        let report = try Self.audit(fixture, registry: registry)
        #expect(report.realName.violatingUsers.contains { $0.user == "u105" })
        #expect(report.json.rendered() == (try Self.audit(fixture, registry: nil)).json.rendered())
    }

    /// A user the writer knows without a row (here: a part interned ahead and never committed)
    /// leaves the audit to the rows.
    @Test func aUserWithoutARowLeavesTheAuditToTheRows() throws {
        let (fixture, writer) = try ClosingAuditSplitTests.stateAndWriter()
        let t = StateWriterUserRowsTests()
        let more = try t.log(fixture, "c.log.gz", [t.line("never-committed", day: 4, "view")])
        writer.prepare(try Ingestion.read(try fixture.plan([more])[0], policy: fixture.policy, vault: fixture.vault))
        #expect(writer.takeRegistry() == nil)
        // The writer's names are still there for the audit's read of the rows (`KnownUserNames`),
        // which finds them not the rows' (one more than the table holds) and hashes the names.
        var onKnownNames: Bool?
        let known = try StateAudit.report(
            database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
            since: nil, userBatch: 16, usersBeside: nil, knownUsers: { writer.takeUserIndex() },
            builtOnKnownNames: { onKnownNames = $0 }, usersRegistry: { writer.takeRegistry() })
        #expect(onKnownNames == false)
        #expect(known.realName.usersSeen == 220)
        #expect(known.json.rendered() == (try Self.audit(fixture, registry: nil)).json.rendered())
    }

    /// A state whose writer left it with every user it knows: the audit of the rows takes the
    /// writer's names (`KnownUserNames`) when it has no registry to take.
    @Test func theWritersNamesServeTheReadOfTheRows() throws {
        let (fixture, writer) = try ClosingAuditSplitTests.stateAndWriter()
        var onKnownNames: Bool?
        _ = try StateAudit.report(
            database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
            since: nil, userBatch: 16, usersBeside: nil, knownUsers: { writer.takeUserIndex() },
            builtOnKnownNames: { onKnownNames = $0 }, usersRegistry: { nil })
        #expect(onKnownNames == true)
    }

    /// Fail closed: users held that are not the table's judge nothing: a row more or one fewer,
    /// or one whose name or values differ (every row of a state this small is compared).
    @Test(arguments: [
        "INSERT INTO users (user) VALUES ('stranger')", "DELETE FROM users WHERE id = (SELECT max(id) FROM users)",
        "UPDATE users SET verified_at_ms = NULL WHERE id = 1", "UPDATE users SET verified_at_ms = verified_at_ms - 1 WHERE id = 2",
        "UPDATE users SET user = 'u1x' WHERE id = 2", "UPDATE users SET first_unverified_publish_line = 7 WHERE id = 220",
        "UPDATE users SET first_unverified_publish_ms = 5, first_unverified_publish_segment = 1, first_unverified_publish_line = 3 WHERE id = 2",
    ])
    func aTableWithOtherUsersFailsTheAudit(edit: String) throws {
        let (fixture, writer) = try ClosingAuditSplitTests.stateAndWriter()
        let registry = try #require(writer.takeRegistry())
        #expect(registry.rows.sample.count == 220)
        #expect(try Self.audit(fixture, registry: registry).realName.usersSeen == 220)
        try fixture.database.pool.write { db in
            try db.execute(sql: edit)
            #expect(db.changesCount == 1)
        }
        #expect(throws: StoreError.self) { try Self.audit(fixture, registry: registry) }
    }

    /// Rows are rewritten whole with the names the writer holds: a stored name that is not UTF-8
    /// (never one custody wrote) would be rewritten changed, so the writer refuses the state.
    @Test func aNameThatIsNotUTF8IsRefused() throws {
        let (fixture, _) = try ClosingAuditSplitTests.stateAndWriter()
        try fixture.database.pool.write { db in try db.execute(sql: "INSERT INTO users (user) VALUES (CAST(X'75FF' AS TEXT))") }
        #expect(throws: StoreError.self) { try CoveredSpansTests.writer(fixture) }
    }

    /// Of many users, `sampleSize` rows, one in each stretch, each a row the writer holds.
    @Test func aSampleOfManyUsersIsSpreadOverThem() throws {
        for count in [0, 1, HeldRows.sampleSize, HeldRows.sampleSize + 1, 10 * HeldRows.sampleSize + 7] {
            let positions = HeldRows.samplePositions(count: count)
            #expect(positions.count == min(count, HeldRows.sampleSize))
            #expect(positions == positions.sorted() && Set(positions).count == positions.count)
            #expect(positions.allSatisfy { (0..<count).contains($0) })
            if count > HeldRows.sampleSize {
                for (i, position) in positions.enumerated() {
                    #expect((i * count / HeldRows.sampleSize..<(i + 1) * count / HeldRows.sampleSize).contains(position))
                }
            }
        }
    }
}
