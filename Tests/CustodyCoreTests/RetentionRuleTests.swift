import CustodyCore
import Testing

@Suite("RetentionRule")
struct RetentionRuleTests {
    let asOf = CivilDay(iso: "2026-11-26")!

    func days(_ range: ClosedRange<Int>, from start: CivilDay) -> Set<Int32> {
        Set(range.map { start.adding(days: $0).daysSinceEpoch })
    }

    @Test func windowIsTheMinimumDaysBeforeAsOf() {
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: nil)
        #expect(rule.windowStart.description == "2026-09-27")
        #expect(rule.windowEnd.description == "2026-11-25")
        let result = rule.evaluate(daysWithRecords: [])
        #expect(result.coveredDays == 0)
        #expect(result.missingDays.count == 60)
        #expect(result.missingDays.first?.description == "2026-09-27")
        #expect(result.missingDays.last?.description == "2026-11-25")
        #expect(!result.compliant)
    }

    @Test func fullCoverageIsCompliant() {
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: nil)
        let result = rule.evaluate(daysWithRecords: days(0...59, from: rule.windowStart))
        #expect(result.coveredDays == 60)
        #expect(result.missingDays.isEmpty)
        #expect(result.exemptDays == 0)
        #expect(result.compliant)
        #expect(result.minimumDays == 60)
        #expect(result.windowStart == rule.windowStart && result.windowEnd == rule.windowEnd)
    }

    @Test func missingDaysAreListedInOrderAndExtraDaysIgnored() throws {
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: nil)
        var present = days(0...59, from: rule.windowStart)
        let gaps = ["2026-11-25", "2026-10-03", "2026-09-27"].map { CivilDay(iso: $0)! }
        for gap in gaps { present.remove(gap.daysSinceEpoch) }
        // Days outside the window (including as-of itself) count for nothing.
        present.formUnion([asOf.daysSinceEpoch, asOf.adding(days: 5).daysSinceEpoch, rule.windowStart.adding(days: -1).daysSinceEpoch])
        let result = rule.evaluate(daysWithRecords: present)
        #expect(result.missingDays.map(\.description) == ["2026-09-27", "2026-10-03", "2026-11-25"])
        #expect(result.coveredDays == 57)
        #expect(!result.compliant)
    }

    @Test func onlyTheAsOfDayIsNotEnough() {
        let rule = RetentionRule(minimumDays: 1, asOf: asOf, since: nil)
        #expect(!rule.evaluate(daysWithRecords: [asOf.daysSinceEpoch]).compliant)
        #expect(rule.evaluate(daysWithRecords: [asOf.adding(days: -1).daysSinceEpoch]).compliant)
    }

    @Test func daysBeforeSinceAreExempt() throws {
        let since = try #require(CivilDay(iso: "2026-11-01"))
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: since)
        // Records from since onwards, except 2026-11-10; one stray record before since.
        var present = Set((0..<25).map { since.adding(days: $0).daysSinceEpoch })
        present.remove(CivilDay(iso: "2026-11-10")!.daysSinceEpoch)
        present.insert(CivilDay(iso: "2026-10-15")!.daysSinceEpoch)
        let result = rule.evaluate(daysWithRecords: present)
        #expect(result.missingDays.map(\.description) == ["2026-11-10"])
        #expect(result.coveredDays == 25)  // 24 from since on + the stray day before it
        #expect(result.exemptDays == 60 - 25 - 1)  // 2026-09-27 … 2026-10-31 minus the stray day
        #expect(result.coveredDays + result.exemptDays + result.missingDays.count == 60)
    }

    @Test func sinceDayItselfIsNotExempt() throws {
        let since = try #require(CivilDay(iso: "2026-11-20"))
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: since)
        let present = days(1...5, from: since)  // since itself has no record
        let result = rule.evaluate(daysWithRecords: present)
        #expect(result.missingDays == [since])
        #expect(result.exemptDays == 54)
    }

    @Test func sinceAfterTheWindowExemptsEverything() {
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: asOf.adding(days: 10))
        let result = rule.evaluate(daysWithRecords: [])
        #expect(result.compliant)
        #expect(result.exemptDays == 60)
        #expect(result.coveredDays == 0)
    }

    @Test func sinceBeforeTheWindowChangesNothing() {
        let with = RetentionRule(minimumDays: 60, asOf: asOf, since: asOf.adding(days: -400))
        let without = RetentionRule(minimumDays: 60, asOf: asOf, since: nil)
        let present = days(0...30, from: without.windowStart)
        #expect(with.evaluate(daysWithRecords: present) == without.evaluate(daysWithRecords: present))
    }
}
