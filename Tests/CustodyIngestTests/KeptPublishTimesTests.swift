import CustodyCore
import CustodyTesting
import Foundation
import Testing

@testable import CustodyIngest

/// A user with more uncovered publish events than `PendingPublishes` keeps exactly leaves a
/// span; the scan keeps those events' times so the check settles the span without reading the
/// file again, with the counts a second read gives.
@Suite("Kept publish times")
struct KeptPublishTimesTests {
    let policy = try! loadPolicy()

    func line(_ ts: String, _ user: String, _ event: String) -> String {
        #"{"ts":"\#(ts)","user":"\#(user)","event":"\#(event)"}"#
    }

    /// `heavy` publishes 12 times (10:00–10:11), then verifies at 10:05:30 (a later line with an
    /// earlier time); `never` publishes 10 times over two days and never verifies; `light`
    /// publishes twice (kept exactly anyway).
    func writeFixture(_ dir: TemporaryDirectory) throws -> String {
        var lines: [String] = []
        for minute in 0..<12 { lines.append(line("2026-10-10T10:\(minute < 10 ? "0" : "")\(minute):00Z", "heavy", "post")) }
        for k in 0..<10 { lines.append(line("2026-10-\(k < 5 ? "10" : "11")T1\(k):00:00Z", "never", "comment")) }
        lines.append(line("2026-10-10T09:00:00Z", "light", "post"))
        lines.append(line("2026-10-10T09:30:00Z", "light", "upload"))
        lines.append(line("2026-10-10T10:05:30Z", "heavy", "verify_phone"))
        return try dir.write("spans.jsonl", lines.joined(separator: "\n"))
    }

    @Test func keptTimesGiveTheCountsOfASecondRead() throws {
        let dir = try TemporaryDirectory()
        let path = try writeFixture(dir)
        for audit in [
            FileAudit.scan(path: path, index: 0, policy: policy, format: .jsonl),
            ParallelFileScan.scan(path: path, index: 0, policy: policy, format: .jsonl, blockBytes: 100, parserThreads: 2),
        ] {
            // Users with pending events have their times, pruned to the file's own verification.
            #expect(audit.pendingTimes.names.sorted() == ["heavy", "light", "never"])
            #expect(audit.pendingTimes["light"]?.count == 2)
            #expect(audit.pendingTimes["heavy"]?.count == 6)
            #expect(audit.pendingTimes["never"]?.count == 10)
            let kept = KeptPublishTimes(times: audit.pendingTimes)
            var calendar = DayCalendar(timeZone: policy.timeZone)
            let oct10 = CivilDay(iso: "2026-10-10")!.daysSinceEpoch
            for v in [ms("2026-10-10T10:05:30Z"), ms("2026-10-10T10:02:00Z"), ms("2026-10-11T12:00:00Z"), Int64.max] {
                let targets = ["heavy": min(v, ms("2026-10-10T10:05:30Z")), "never": v]
                for window in [nil, oct10...oct10, (oct10 + 1)...(oct10 + 3)] as [ClosedRange<Int32>?] {
                    let reread = FileAudit.recount(path: path, policy: policy, format: .jsonl, verifiedAt: targets, onDays: window)
                    #expect(
                        kept.recount(verifiedAt: targets, onDays: window, calendar: &calendar) == reread,
                        "\(v) \(String(describing: window))")
                }
            }
            // A user without kept times: the file must be read again.
            #expect(kept.recount(verifiedAt: ["nobody": .max], calendar: &calendar) == nil)
            // Nor when only some of the users asked for have them.
            #expect(kept.recount(verifiedAt: ["heavy": .max, "nobody": .max], calendar: &calendar) == nil)
            #expect(kept.recount(verifiedAt: [:], calendar: &calendar) == [:])
        }
    }

    /// Kept times are bounded over the whole check: past the budget a file keeps none, and its
    /// spans are settled by reading it again.
    @Test func keptTimesStayWithinTheirBudget() throws {
        let dir = try TemporaryDirectory()
        let path = try writeFixture(dir)
        let audits = (0..<3).map { FileAudit.scan(path: path, index: Int32($0), policy: policy, format: .jsonl) }
        let cost = audits[0].pendingTimes.estimatedBytes
        #expect(cost > 3 * 96)
        var merged = MergedAudit(fileCount: 3)
        merged.keptBudget = 2 * cost + cost / 2
        for audit in audits { merged.add(audit) }
        #expect(merged.kept.map(\.times.isEmpty) == [false, false, true])
        #expect(merged.keptBytes == 2 * cost)
        var calendar = DayCalendar(timeZone: policy.timeZone)
        #expect(merged.kept[2].recount(verifiedAt: ["heavy": .max], calendar: &calendar) == nil)
        #expect(merged.kept[1].recount(verifiedAt: ["heavy": .max], calendar: &calendar) == ["heavy": 6])
    }

    /// `run` reads a file into the vault (bytes consumed) and stores spans in the state: the
    /// scan keeps no times for it, and finds the same users and spans.
    @Test func aScanIntoTheVaultKeepsNoTimes() throws {
        let dir = try TemporaryDirectory()
        let path = try writeFixture(dir)
        var copied = 0
        let plan = RecordReader.Plan(start: .start, completeLinesOnly: false, prefetch: false) { copied += $0.count }
        let intoVault = FileAudit.scan(path: path, index: 0, policy: policy, format: .jsonl, plan: plan)
        let checked = FileAudit.scan(path: path, index: 0, policy: policy, format: .jsonl)
        #expect(copied > 0)
        #expect(intoVault.pendingTimes.isEmpty && !checked.pendingTimes.isEmpty)
        #expect(intoVault.users.map(\.user) == checked.users.map(\.user))
        #expect(intoVault.users.map(\.pending.count) == checked.users.map(\.pending.count))
    }

    @Test func theCheckSettlesSpansFromKeptTimes() async throws {
        let dir = try TemporaryDirectory()
        let path = try writeFixture(dir)
        let request = CheckRequest(paths: [path], policy: policy, asOf: CivilDay(iso: "2026-10-20")!, parallelism: 2)
        let report = try await CheckRunner.run(request)
        let byUser = Dictionary(uniqueKeysWithValues: report.realName.violatingUsers.map { ($0.user, $0) })
        #expect(byUser["heavy"]?.events == 6)
        #expect(byUser["heavy"]?.first.line == 1)
        #expect(byUser["never"]?.events == 10)
        #expect(byUser["light"]?.events == 2)
    }

    /// Eight exact times in each of three files become a span when merged (more than sixteen):
    /// that span is settled from the kept times too.
    @Test func spansMadeByTheMergeAreSettledFromKeptTimes() async throws {
        let dir = try TemporaryDirectory()
        var paths: [String] = []
        for (name, hour) in [("a", "10"), ("b", "11"), ("c", "12")] {
            let lines = (0..<8).map { line("2026-10-10T\(hour):0\($0):00Z", "multi", "post") }
            paths.append(try dir.write("\(name).jsonl", lines.joined(separator: "\n")))
        }
        paths.append(try dir.write("d.jsonl", line("2026-10-10T11:03:30Z", "multi", "verify_phone")))
        for jobs in [1, 4] {
            let request = CheckRequest(paths: paths, policy: policy, asOf: CivilDay(iso: "2026-10-20")!, parallelism: jobs)
            let report = try await CheckRunner.run(request)
            let multi = try #require(report.realName.violatingUsers.first { $0.user == "multi" })
            // a's eight and b's 11:00–11:03.
            #expect(multi.events == 12)
            #expect(multi.first.line == 1)
        }
    }

    @Test func usersWithVeryManyPublishesAreLeftToASecondRead() throws {
        let dir = try TemporaryDirectory()
        let count = UserActivityTally.keptTimesLimit + PendingPublishes.exactLimit + 1
        var lines = (0..<count).map { line("2026-10-10T10:00:00.\(String(format: "%03d", $0 % 1000))Z", "busy", "post") }
        lines.append(line("2026-10-10T11:00:00Z", "some", "post"))
        for _ in 0..<9 { lines.append(line("2026-10-10T11:00:00Z", "some", "post")) }
        let path = try dir.write("busy.jsonl", lines.joined(separator: "\n"))
        let audit = FileAudit.scan(path: path, index: 0, policy: policy, format: .jsonl)
        #expect(audit.pendingTimes["busy"] == nil)
        #expect(audit.pendingTimes["some"]?.count == 10)
    }
}
