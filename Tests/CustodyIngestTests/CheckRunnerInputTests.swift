import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// Bad input is never fatal: it is counted and reported, and the rest is checked.
@Suite("CheckRunner with bad input")
struct CheckRunnerInputTests {
    let policy = try! loadPolicy()
    let asOf = CivilDay(iso: "2026-10-12")!

    func jsonl(_ ts: String, _ user: String, _ event: String) -> String {
        #"{"ts":"\#(ts)","user":"\#(user)","event":"\#(event)"}"#
    }

    @Test func truncatedGzipIsUnreadableButItsRecordsCount() async throws {
        let dir = try TemporaryDirectory()
        // Poorly compressible padding, so the cut lands well inside the compressed stream.
        let padded = (0..<3_000).map { i in
            #"{"ts":"2026-10-10T0\#(i % 10):00:00+08:00","user":"u\#(i % 50)","event":"view","pad":"\#(randomHexLines(count: 1, seed: UInt64(i))[0])"}"#
        }
        let whole = try fileBytes(try dir.writeGzip("src/full.gz", lines: padded))
        let cut = whole.count * 3 / 5
        let bad = try dir.write("logs/b-cut.jsonl.gz", Array(whole[0..<cut]))
        try dir.write("logs/a.jsonl", jsonl("2026-10-11T12:00:00+08:00", "u1", "post") + "\n")
        let report = try await runCheck([dir.path("logs")], policy: policy, asOf: asOf, parallelism: 2)
        #expect(report.inputs.files == 2)
        #expect(report.inputs.unreadableFiles == 1)
        #expect(report.inputs.records > 1 && report.inputs.records < 3_001)
        #expect(!report.compliant)
        let finding = try #require(report.findings.first { $0.rule == .unreadableFile })
        #expect(finding.severity == .error)
        #expect(finding.file == bad)
        let offset = try #require(finding.offset)
        #expect(offset > 0 && offset <= cut)
        #expect(finding.message.contains(bad))
        // The retention days of the records before the fault still count.
        #expect(report.retention.missingDays.allSatisfy { $0 < CivilDay(iso: "2026-10-10")! })
    }

    @Test func rejectedLinesAreWarningsWithLineNumbers() async throws {
        let dir = try TemporaryDirectory()
        var lines = (1...20).map { jsonl("2026-10-11T12:00:00+08:00", "u\($0)", "view") }
        for n in [3, 7, 8, 12, 15, 19] { lines[n - 1] = "broken line \(n)" }
        lines.insert("", at: 10)  // an empty line is ignored, but counts for numbering
        let path = try dir.write("a.jsonl", lines.joined(separator: "\n") + "\n")
        // A lenient share: 6 of 20 lines are below it.
        let lenient = try loadPolicy(
            policyYAML.replacingOccurrences(of: "  minimum_days: 60", with: "  minimum_days: 1")
                + "\ninput:\n  max_rejected_share: 0.5\n")
        let report = try await runCheck([path], policy: lenient, asOf: asOf, parallelism: 1)
        #expect(report.inputs.rejectedLines == 6)
        #expect(report.inputs.records == 14)
        #expect(report.compliant)
        let finding = try #require(report.findings.first)
        #expect(report.findings.count == 1)
        #expect(finding.rule == .rejectedLines)
        #expect(finding.severity == .warning)
        #expect(finding.count == 6)
        #expect(finding.lines == [3, 7, 8, 13, 16])
        #expect(finding.file == path)
    }

    @Test func singleFileWithPrefetchingMatchesSequential() async throws {
        let dir = try TemporaryDirectory()
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(iso: "2026-09-01")!, days: 40, users: 40, eventsPerDay: 400,
            seed: 9, lateVerifiers: 2, neverVerified: 1)
        let events = ActivityGenerator(scenario).events()
        try writeLogs(
            events, files: [LogFileSpec(name: "one.jsonl.gz", format: .jsonl, gzip: true, membersEvery: 1_000)],
            in: dir, assign: { _, _ in 0 })
        let sequential = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: 1)
        let prefetched = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: 4)
        #expect(prefetched.json.rendered() == sequential.json.rendered())
        #expect(sequential.inputs.records == events.count)
    }

    @Test func noFilesInADirectoryIsNothingToAudit() async throws {
        let dir = try TemporaryDirectory()
        await #expect(throws: NothingToAudit.self) { try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: 2) }
    }

    @Test func missingInputPathThrows() async throws {
        let dir = try TemporaryDirectory()
        await #expect(throws: InputCollector.MissingInput.self) {
            _ = try await runCheck([dir.path("absent")], policy: policy, asOf: asOf, parallelism: 1)
        }
    }
}
