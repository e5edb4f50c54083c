import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// `--policy a.yaml --policy b.yaml`: each policy's window audited and reported under its own id.
@Suite struct CombinedPoliciesTests {
    let asOf = PolicyLibraryTests.asOf
    func path(_ id: String) -> String { CustodyProcess.repositoryRoot.appendingPathComponent("Policies/\(id).yaml").path }

    @Test func eachPolicyIsReportedUnderItsOwnId() throws {
        let dir = try TemporaryDirectory()
        let logs = try PolicyLibraryTests.logs(days: 100, offset: 8 * 3600, in: dir)
        let result = try CustodyProcess.run([
            "check", logs, "--policy", path("cn-apps"), "--policy", path("cn-csl-2017-network-logs"),
            "--as-of", asOf.description, "--format", "json",
        ])
        #expect(result.status == 1, "\(result.stderr)")
        let json = try CustodyProcess.json(result)
        #expect(json["schema"] as? String == "custody.check.combined.v1")
        #expect(json["policies"] as? [String] == ["cn-apps", "cn-csl-2017-network-logs"])
        let reports = try #require(json["reports"] as? [[String: Any]])
        #expect(reports.map { $0["schema"] as? String } == ["custody.check.v1", "custody.check.v1"])
        #expect(reports.map { $0["policy"] as? String } == ["cn-apps", "cn-csl-2017-network-logs"])
        // 100 days of logs: the 60-day window is covered, the 184-day one misses 84 days.
        #expect(reports[0]["compliant"] as? Bool == true)
        #expect(((reports[1]["retention"] as? [String: Any])?["missing_days"] as? [String])?.count == 84)
        let bounds = try #require(json["retention_bounds"] as? [String: Any])
        #expect(bounds["minimum_days"] as? Int == 184)
        #expect(bounds["maximum_days"] as? Int == 180)
        #expect(bounds["maximum_policy"] as? String == "cn-apps")
        #expect(bounds["purge_after_days"] as? Int == 184)
        #expect(bounds["conflicting"] as? Bool == true)
        #expect(json["compliant"] as? Bool == false)
    }

    @Test func singlePolicyOutputIsUnchanged() throws {
        let dir = try TemporaryDirectory()
        let logs = try PolicyLibraryTests.logs(days: 61, offset: 8 * 3600, in: dir)
        let result = try CustodyProcess.run(["check", logs, "--policy", path("cn-apps"), "--as-of", asOf.description, "--format", "json"])
        let json = try CustodyProcess.json(result)
        #expect(json["schema"] as? String == "custody.check.v1")
        #expect(json["reports"] == nil)
    }

    @Test func purgeKeepsWhatAnotherPolicysMinimumRequires() throws {
        let fixture = try StateFixture()
        try fixture.dir.write(
            "custody.yaml", "sources:\n  - path: logs\npolicy: \(path("eu-gdpr-storage-limitation"))\nstate_directory: state\n")
        let renderer = LogLineRenderer(format: .jsonl, utcOffsetSeconds: 0)
        let events = ActivityGenerator(
            .init(
                firstDay: asOf.adding(days: -130), days: 20, users: 8, eventsPerDay: 5,
                seed: 2, utcOffsetSeconds: 0)
        ).events()
        try fixture.append(events.enumerated().map { renderer.line($0.element, sequence: $0.offset) + "\n" }.joined(), to: "old.jsonl")
        _ = try fixture.custody("run", asOf: asOf.description)
        let alone = try fixture.custody("purge", asOf: asOf.description)
        #expect(alone.stdout.contains("(90 days): 1 object"), "\(alone.stdout)")
        // With the Cybersecurity Law's 184 days as well, the 110-day-old object must stay.
        let combined = try fixture.custody("purge", ["--policy", path("cn-csl-2017-network-logs")], asOf: asOf.description)
        #expect(combined.status == 0, "\(combined.stderr)")
        #expect(combined.stdout.contains("(184 days): 0 objects"), "\(combined.stdout)")
        #expect(combined.stderr.contains("requires 184 days"), "\(combined.stderr)")
    }
}
