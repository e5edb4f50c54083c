import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// Each shipped policy's window on generated activity logs (SampleLogs-style JSON lines).
@Suite struct PolicyLibraryTests {
    static let asOf = CivilDay(year: 2026, month: 11, day: 20)!

    /// Writes `days` days of honest activity ending the day before `asOf`, in a zone `offset`
    /// seconds east of UTC, and returns the directory.
    static func logs(days: Int, endingBefore asOf: CivilDay = asOf, offset: Int, in dir: TemporaryDirectory) throws -> String {
        let scenario = ActivityGenerator.Scenario(
            firstDay: asOf.adding(days: -days), days: days, users: 12,
            eventsPerDay: 6, seed: 11, utcOffsetSeconds: offset)
        let renderer = LogLineRenderer(format: .jsonl, utcOffsetSeconds: offset)
        let lines = ActivityGenerator(scenario).events().enumerated().map { renderer.line($0.element, sequence: $0.offset) }
        try dir.write("logs/app.jsonl", lines.joined(separator: "\n") + "\n")
        return dir.path("logs")
    }

    static func check(_ logs: String, policy: String, asOf: CivilDay = asOf) throws -> (CustodyProcess.Result, [String: Any]) {
        let path = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/\(policy).yaml").path
        let result = try CustodyProcess.run(["check", logs, "--policy", path, "--as-of", asOf.description, "--format", "json"])
        return (result, try CustodyProcess.json(result))
    }

    static func rules(_ json: [String: Any]) -> [String] {
        (json["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
    }

    struct Minimum: Sendable, CustomTestStringConvertible {
        var policy: String
        var days: Int
        var offset: Int
        var testDescription: String { "\(policy): \(days) days" }
    }

    static let minimums = [
        Minimum(policy: "cn-apps", days: 60, offset: 8 * 3600),
        Minimum(policy: "cn-csl-2017-network-logs", days: 184, offset: 8 * 3600),
        Minimum(policy: "in-certin-2022-logs", days: 180, offset: 19_800),
        Minimum(policy: "vn-decree53-2022-logs", days: 366, offset: 7 * 3600),
        Minimum(policy: "ru-149fz-ori-metadata", days: 366, offset: 3 * 3600),
    ]

    /// Exactly the law's minimum of days is compliant; one day fewer leaves the window's first
    /// day missing.
    @Test(arguments: minimums)
    func windowIsTheMinimum(_ c: Minimum) throws {
        let full = try TemporaryDirectory()
        let (ok, okJSON) = try Self.check(try Self.logs(days: c.days, offset: c.offset, in: full), policy: c.policy)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let retention = try #require(okJSON["retention"] as? [String: Any])
        #expect(retention["minimum_days"] as? Int == c.days)
        #expect(retention["window_start"] as? String == Self.asOf.adding(days: -c.days).description)
        #expect(retention["covered_days"] as? Int == c.days)
        #expect(Self.rules(okJSON).isEmpty, "\(Self.rules(okJSON))")

        let short = try TemporaryDirectory()
        let (bad, badJSON) = try Self.check(try Self.logs(days: c.days - 1, offset: c.offset, in: short), policy: c.policy)
        #expect(bad.status == 1)
        let missing = try #require(badJSON["retention"] as? [String: Any])["missing_days"] as? [String]
        #expect(missing == [Self.asOf.adding(days: -c.days).description])
    }

    @Test func gdprMaximumIsAnErrorAndTheStatedPeriodPasses() throws {
        let old = try TemporaryDirectory()
        let (over, json) = try Self.check(try Self.logs(days: 100, offset: 0, in: old), policy: "eu-gdpr-storage-limitation")
        #expect(over.status == 1)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding["rule"] as? String == "retention.over_retained")
        #expect(finding["severity"] as? String == "error")
        #expect(finding["day"] as? String == Self.asOf.adding(days: -100).description)
        #expect(
            (finding["message"] as? String)?.contains(
                "before \(Self.asOf.adding(days: -90)) are kept past maximum_days 90, stated by the provider") == true)
        #expect((json["retention"] as? [String: Any])?["minimum_days"] as? Int == 0)

        let within = try TemporaryDirectory()
        let (ok, okJSON) = try Self.check(try Self.logs(days: 90, offset: 0, in: within), policy: "eu-gdpr-storage-limitation")
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(Self.rules(okJSON).isEmpty)
        let gdpr = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/eu-gdpr-storage-limitation.yaml").path
        let text = try CustodyProcess.run(["check", within.path("logs"), "--policy", gdpr, "--as-of", Self.asOf.description])
        #expect(text.stdout.contains("Retention  no minimum in this policy"), "\(text.stdout)")
    }

    @Test func gdprPurgeProposesDeletingWhatIsKeptTooLong() throws {
        let fixture = try StateFixture()
        let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/eu-gdpr-storage-limitation.yaml").path
        try fixture.dir.write("custody.yaml", "sources:\n  - path: logs\npolicy: \(policy)\nstate_directory: state\n")
        // One file wholly older than the 90 days, one recent.
        let renderer = LogLineRenderer(format: .jsonl, utcOffsetSeconds: 0)
        for (name, first, days) in [("old.jsonl", -130, 20), ("new.jsonl", -30, 30)] {
            let events = ActivityGenerator(
                .init(
                    firstDay: Self.asOf.adding(days: first), days: days, users: 8, eventsPerDay: 5,
                    seed: 2, utcOffsetSeconds: 0)
            ).events()
            try fixture.append(events.enumerated().map { renderer.line($0.element, sequence: $0.offset) + "\n" }.joined(), to: name)
        }
        let run = try fixture.custody("run", ["--format", "json"], asOf: Self.asOf.description)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(Self.rules(try CustodyProcess.json(run)) == ["retention.over_retained"])

        let dry = try fixture.custody("purge", asOf: Self.asOf.description)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("1 object"), "\(dry.stdout)")
        #expect(dry.stdout.contains("would delete"), "\(dry.stdout)")

        let applied = try fixture.custody("purge", ["--apply"], asOf: Self.asOf.description)
        #expect(applied.stdout.contains("deleted"), "\(applied.stdout)")
        let after = try fixture.custody("run", ["--format", "json"], asOf: Self.asOf.description)
        #expect(after.status == 0, "\(after.stdout)")
        #expect(Self.rules(try CustodyProcess.json(after)).isEmpty)
    }

    @Test func repealedPolicyStillRunsWithAWarning() throws {
        let dir = try TemporaryDirectory()
        let logs = try Self.logs(days: 61, offset: 8 * 3600, in: dir)
        let (today, json) = try Self.check(logs, policy: "cn-cac-2016-apps")
        #expect(today.status == 0, "a warning does not fail the check")
        let finding = try #require((json["findings"] as? [[String: Any]])?.first)
        #expect(finding["rule"] as? String == "policy.not_in_force")
        #expect(finding["severity"] as? String == "warning")
        #expect((finding["message"] as? String)?.contains("repealed on 2022-08-01; superseded by cn-apps") == true)
        #expect(today.stdout.contains("\"covered_days\": 60"), "the rules still ran")

        let (current, currentJSON) = try Self.check(logs, policy: "cn-apps")
        #expect(current.status == 0)
        #expect(Self.rules(currentJSON).isEmpty)

        // An audit of 2021 under the 2016 Provisions: they were law then.
        let past = try TemporaryDirectory()
        let pastDay = CivilDay(year: 2021, month: 6, day: 1)!
        let (audit, auditJSON) = try Self.check(
            try Self.logs(days: 60, endingBefore: pastDay, offset: 8 * 3600, in: past),
            policy: "cn-cac-2016-apps", asOf: pastDay)
        #expect(audit.status == 0)
        #expect(Self.rules(auditJSON).isEmpty)
        // The same window under today's policy: cn-apps was not yet in force.
        let (early, earlyJSON) = try Self.check(past.path("logs"), policy: "cn-apps", asOf: pastDay)
        #expect(early.status == 0)
        #expect(Self.rules(earlyJSON) == ["policy.not_in_force"])
    }

    @Test func textReportShowsTheWarning() throws {
        let dir = try TemporaryDirectory()
        let logs = try Self.logs(days: 61, offset: 8 * 3600, in: dir)
        let path = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-cac-2016-apps.yaml").path
        let result = try CustodyProcess.run(["check", logs, "--policy", path, "--as-of", Self.asOf.description])
        #expect(result.stdout.contains("Policy not in force during the window (1, warning)"), "\(result.stdout)")
    }
}
