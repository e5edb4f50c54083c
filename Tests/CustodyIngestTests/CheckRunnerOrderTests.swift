import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// Results never depend on the order in which files or lines are read.
@Suite("CheckRunner order independence")
struct CheckRunnerOrderTests {
    let policy = try! loadPolicy()
    let scenario = ActivityGenerator.Scenario(
        firstDay: CivilDay(iso: "2026-09-10")!, days: 70, users: 60, eventsPerDay: 90, seed: 42,
        lateVerifiers: 4, neverVerified: 3, silentDays: [CivilDay(iso: "2026-10-03")!, CivilDay(iso: "2026-11-01")!])
    let asOf = CivilDay(iso: "2026-11-19")!

    @Test func sameFilesAnyPathOrderAnyParallelism() async throws {
        let dir = try TemporaryDirectory()
        let events = ActivityGenerator(scenario).events()
        var rng = SplitMix64(seed: 1)
        let assignment = events.map { _ in Int.random(in: 0..<mixedLogFiles.count, using: &rng) }
        try writeLogs(events, files: mixedLogFiles, in: dir, assign: { i, _ in assignment[i] })
        // A few bad lines so rejected-line findings are part of the comparison too.
        try dir.write("app/z-bad.jsonl", "not json\n" + #"{"ts":"2026-10-10T05:55:36Z","user":"u00001","event":"view"}"# + "\n{oops\n")

        let baseline = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: 1)
        #expect(!baseline.compliant)
        #expect(baseline.retention.missingDays.map(\.description) == ["2026-10-03", "2026-11-01"])
        let reference = ReferenceAudit(events: events, policy: policy)
        #expect(baseline.realName.violatingUsers.count == reference.violations.count)
        #expect(reference.violations.count >= 5)
        #expect(baseline.inputs.rejectedLines == 2)
        let expected = baseline.json.rendered()

        let files = try InputCollector.collect([dir.path])
        for (round, parallelism) in [4, 4, 2, 3, 8, 1].enumerated() {
            var shuffler = SplitMix64(seed: UInt64(round))
            let paths = round % 2 == 0 ? files.shuffled(using: &shuffler) : [dir.path + "/nginx", dir.path + "/app", dir.path + "/worker"]
            let report = try await runCheck(paths, policy: policy, asOf: asOf, parallelism: parallelism)
            #expect(report.json.rendered() == expected, "round \(round), parallelism \(parallelism)")
            #expect(report.text() == baseline.text())
        }
    }

    @Test func shuffledLinesWithinFiles() async throws {
        let events = ActivityGenerator(scenario).events()
        var rng = SplitMix64(seed: 2)
        let assignment = events.map { _ in Int.random(in: 0..<mixedLogFiles.count, using: &rng) }
        var reports: [JSONValue] = []
        for shuffle in [nil, 1, 2, 3] as [UInt64?] {
            let dir = try TemporaryDirectory()
            try writeLogs(events, files: mixedLogFiles, in: dir, assign: { i, _ in assignment[i] }, shuffleSeed: shuffle)
            let report = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: shuffle == 2 ? 1 : 4)
            // Line numbers (and the messages quoting them) move with the lines; paths with the directory.
            let json = stripping(["line", "message", "file"], from: report.json)
            reports.append(json)
            // The first violation is still in the same file at the same time.
            for user in report.realName.violatingUsers {
                let first = try #require(report.findings.first { $0.user == user.user })
                #expect(first.file?.hasPrefix(dir.path) == true)
                #expect(first.time == TimestampParser.formatUTC(user.first.millis))
            }
        }
        for report in reports.dropFirst() {
            #expect(report.rendered() == reports[0].rendered())
        }
    }

    @Test func differentSplitsAcrossFiles() async throws {
        let events = ActivityGenerator(scenario).events()
        var summaries: [String] = []
        var violations: [[String: Int]] = []
        for seed in [UInt64(10), 11, 12] {
            let dir = try TemporaryDirectory()
            var rng = SplitMix64(seed: seed)
            let count = Int.random(in: 2...mixedLogFiles.count, using: &rng)
            let files = Array(mixedLogFiles.shuffled(using: &rng).prefix(count))
            let assignment = events.map { _ in Int.random(in: 0..<count, using: &rng) }
            try writeLogs(events, files: files, in: dir, assign: { i, _ in assignment[i] }, shuffleSeed: seed)
            let report = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: Int(seed % 4) + 1)
            let json = report.json
            let summary = JSONValue.object([
                ("retention", try #require(member(json, "retention"))),
                ("real_name", try #require(member(json, "real_name"))),
                ("records", .int(report.inputs.records)),
            ])
            summaries.append(summary.rendered())
            violations.append(Dictionary(uniqueKeysWithValues: report.realName.violatingUsers.map { ($0.user, $0.events) }))
        }
        #expect(Set(summaries).count == 1)
        #expect(violations.allSatisfy { $0 == violations[0] })
    }
}
