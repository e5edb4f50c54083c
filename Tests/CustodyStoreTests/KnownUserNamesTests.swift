import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// The closing audit of `custody run` builds its registry on the state writer's index of names
/// (`KnownUserNames`) when they are the `users` rows' names in key order, and from the rows'
/// names otherwise: the same report either way.
@Suite struct KnownUserNamesTests {
    /// The audit's report, and whether its registry was built on `known` (not from the rows' names).
    static func audit(_ fixture: ReadOnceTests.Fixture, known: UserIndex?, split: Bool) throws -> (CheckReport, Bool?) {
        var onKnownNames: Bool?
        let report = try StateAudit.report(
            database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
            since: nil, userBatch: 16, usersBeside: split ? ClosingAuditSplitTests.beside(fixture) : nil, besideUsers: 1,
            knownUsers: known.map { index in { index } }, builtOnKnownNames: { onKnownNames = $0 })
        return (report, onKnownNames)
    }

    static func report(_ fixture: ReadOnceTests.Fixture, known: UserIndex?, split: Bool) throws -> CheckReport {
        try audit(fixture, known: known, split: split).0
    }

    static func storedNames(_ fixture: ReadOnceTests.Fixture) throws -> [String] {
        try fixture.database.pool.read { db in try String.fetchAll(db, sql: "SELECT user FROM users ORDER BY id") }
    }

    static func index(_ names: [String]) -> UserIndex {
        var index = UserIndex()
        _ = index.intern(count: names.count) { names[$0] }
        return index
    }

    /// How many rows `KnownUserNames` merged on `index` (nil: it found other names).
    static func merged(_ fixture: ReadOnceTests.Fixture, on index: UserIndex, split: Bool) throws -> Int? {
        var registry = RealNameRegistry(seenUsers: index)
        let later = split ? ClosingAuditSplitTests.beside(fixture)(111) : nil
        return try fixture.database.pool.read { db in
            try KnownUserNames.merge(into: &registry, db, keys: split ? Int64.min...110 : nil, later: later)
        }
    }

    /// Two files, the second with users new and known: the writer's ids follow the keys, its
    /// parts' users interned ahead of their commits or not.
    @Test(arguments: [false, true], [false, true])
    func theWritersNamesAreTheRowsInKeyOrder(split: Bool, prepared: Bool) throws {
        let (fixture, writer) = try ClosingAuditSplitTests.stateAndWriter(prepared: prepared)
        #expect(try Self.merged(fixture, on: writer.takeUserIndex(), split: split) == 220)
    }

    /// Users interned ahead of their part's commit (`StateWriter.prepare`): the same rows.
    @Test func preparedPartsWriteTheSameRows() throws {
        func rows(_ fixture: ReadOnceTests.Fixture) throws -> [[String]] {
            try fixture.database.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY id").map { row in row.databaseValues.map(\.description) }
            }
        }
        let prepared = try rows(ClosingAuditSplitTests.stateAndWriter(prepared: true).fixture)
        #expect(prepared.count == 220)
        #expect(prepared == (try rows(ClosingAuditSplitTests.stateAndWriter().fixture)))
    }

    @Test(arguments: [false, true])
    func theReportIsTheSameOnTheWritersNames(split: Bool) throws {
        let (fixture, writer) = try ClosingAuditSplitTests.stateAndWriter()
        let (whole, wholeOnKnownNames) = try Self.audit(fixture, known: nil, split: false)
        #expect(wholeOnKnownNames == false)
        #expect(whole.realName.usersSeen == 220)
        #expect(!whole.realName.violatingUsers.isEmpty)
        let (report, onKnownNames) = try Self.audit(fixture, known: writer.takeUserIndex(), split: split)
        // Built on the writer's names, not from the rows' (which would give the same report).
        #expect(onKnownNames == true)
        #expect(report.json.rendered() == whole.json.rendered())
    }

    /// Names that are not the rows' (two swapped in the first half read or in the later one, one
    /// renamed, one missing, one more): not used, and the report is the one built from the rows.
    @Test(arguments: 0..<5)
    func otherNamesAreNotUsed(change: Int) throws {
        let fixture = try ClosingAuditSplitTests.state()
        let whole = try Self.report(fixture, known: nil, split: false)
        var names = try Self.storedNames(fixture)
        #expect(try Self.merged(fixture, on: Self.index(names), split: true) == 220)
        switch change {
        case 0: names.swapAt(3, 200)
        case 1: names.swapAt(150, 200)
        case 2: names[150] = "someone else"
        case 3: names.removeLast()
        default: names.append("one more")
        }
        // One more name than rows: every row matches, but the counts differ (the audit's check).
        #expect(try Self.merged(fixture, on: Self.index(names), split: true) == (change == 4 ? 220 : nil))
        for split in [false, true] {
            let (report, onKnownNames) = try Self.audit(fixture, known: Self.index(names), split: split)
            #expect(onKnownNames == false)
            #expect(report.json.rendered() == whole.json.rendered())
        }
    }

    /// A row missing from the later read fails the audit on the writer's names too.
    @Test func halvesThatDoNotAddUpFailTheAudit() throws {
        let (fixture, writer) = try ClosingAuditSplitTests.stateAndWriter()
        #expect(throws: StoreError.self) {
            try StateAudit.report(
                database: fixture.database, vault: fixture.vault, policy: fixture.policy, asOf: CivilDay(iso: "2026-11-19")!,
                since: nil, usersBeside: ClosingAuditSplitTests.beside(fixture, shift: 1), besideUsers: 1,
                knownUsers: { writer.takeUserIndex() })
        }
    }
}
