import CustodyCore
import Foundation
import Testing

/// `check`, `status` and `report compliance` count real-name violations the same way for the
/// same scope, and each names the scope it counts.
@Suite("Counting scope of check, status and the compliance report", .serialized)
struct CountingScopeTests {
    struct Counts: Equatable, CustomStringConvertible {
        var users: Int
        var events: Int
        var description: String { "\(users) users, \(events) events" }
    }

    func realName(_ json: [String: Any]) throws -> (Counts, scope: [String: Any]) {
        let realName = try #require(json["real_name"] as? [String: Any])
        let counts = Counts(
            users: try #require(realName["violating_users"] as? Int), events: try #require(realName["violating_events"] as? Int))
        return (counts, try #require(realName["scope"] as? [String: Any]))
    }

    func compare(_ fixture: StateFixture, asOf: String) throws {
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", asOf, "--format", "json"])
        let (checkCounts, checkScope) = try realName(CustodyProcess.json(check))
        #expect(checkScope["records"] as? String == "all_read")
        #expect(checkCounts.users > 0 && checkCounts.events >= checkCounts.users)
        let first = try #require(checkScope["first_day"] as? String)
        let last = try #require(checkScope["last_day"] as? String)
        #expect(check.stdout.isEmpty == false)

        let status = try fixture.custody("status", ["--format", "json"], asOf: asOf)
        let (statusCounts, statusScope) = try realName(CustodyProcess.json(status))
        #expect(statusCounts == checkCounts)
        #expect(statusScope["records"] as? String == "all_read")
        #expect(statusScope["first_day"] as? String == first && statusScope["last_day"] as? String == last)

        // The compliance report over the same days counts the same.
        let after = CivilDay(iso: last)!.adding(days: 1).description
        let out = fixture.dir.path("reports-\(UUID().uuidString)")
        let report = try CustodyProcess.run([
            "report", "compliance", "--config", fixture.config, "--as-of", after,
            "--period", "\(first)..\(last)", "--out", out,
        ])
        #expect(report.status == 0, "\(report.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/compliance-\(first)..\(last).json"))
        let (reportCounts, reportScope) = try realName(try #require(JSONSerialization.jsonObject(with: data) as? [String: Any]))
        #expect(reportCounts == checkCounts, "report \(reportCounts), check \(checkCounts)")
        #expect(reportScope["records"] as? String == "period")
        #expect(reportScope["first_day"] as? String == first && reportScope["last_day"] as? String == last)
        let md = try String(contentsOfFile: "\(out)/compliance-\(first)..\(last).md", encoding: .utf8)
        #expect(md.contains("counting publish events with a time in the period (\(first) – \(last))"))

        // The retention window: check and status count it apart, the compliance report over
        // the window's days agrees.
        let checkRealName = try #require(CustodyProcess.json(check)["real_name"] as? [String: Any])
        let checkWindow = try #require(checkRealName["in_retention_window"] as? [String: Any])
        let statusRealName = try #require(CustodyProcess.json(status)["real_name"] as? [String: Any])
        let statusWindow = try #require(statusRealName["in_retention_window"] as? [String: Any])
        let windowCounts = Counts(
            users: try #require(checkWindow["violating_users"] as? Int), events: try #require(checkWindow["violating_events"] as? Int))
        #expect(
            Counts(users: statusWindow["violating_users"] as? Int ?? -1, events: statusWindow["violating_events"] as? Int ?? -1)
                == windowCounts)
        let start = try #require(checkWindow["first_day"] as? String)
        let end = try #require(checkWindow["last_day"] as? String)
        let windowOut = fixture.dir.path("window-\(UUID().uuidString)")
        let windowReport = try CustodyProcess.run([
            "report", "compliance", "--config", fixture.config, "--as-of", asOf,
            "--period", "\(start)..\(end)", "--out", windowOut,
        ])
        #expect(windowReport.status == 0, "\(windowReport.stderr)")
        let windowData = try Data(contentsOf: URL(fileURLWithPath: "\(windowOut)/compliance-\(start)..\(end).json"))
        let (reportWindowCounts, _) = try realName(try #require(JSONSerialization.jsonObject(with: windowData) as? [String: Any]))
        #expect(reportWindowCounts == windowCounts, "report \(reportWindowCounts), check \(windowCounts)")

        // Text output names the scope too.
        let checkText = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", asOf])
        #expect(checkText.stdout.contains("Real name  all records read (\(first) … \(last))"))
        let statusText = try fixture.custody("status", asOf: asOf)
        #expect(statusText.stdout.contains("Real name  all records read (\(first) … \(last))"))
    }

    @Test func sampleLogs() throws {
        let fixture = try StateFixture.withSampleLogs()
        try compare(fixture, asOf: "2026-11-19")
        // All records read: 8 users, 9 events; of them in the window 2026-09-20 … 2026-11-18: 6 and 7.
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", "2026-11-19", "--format", "json"])
        let realName = try #require(CustodyProcess.json(check)["real_name"] as? [String: Any])
        #expect(realName["violating_users"] as? Int == 8 && realName["violating_events"] as? Int == 9)
        let window = try #require(realName["in_retention_window"] as? [String: Any])
        #expect(window["violating_users"] as? Int == 6 && window["violating_events"] as? Int == 7)
    }

    @Test func generatedLogs() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events(days: 80, users: 40, perDay: 30, seed: 11)), to: "app.jsonl")
        // 80 days of logs: the 60-day window leaves the first ones out.
        _ = try fixture.custody("run", asOf: "2027-01-20")
        try compare(fixture, asOf: "2027-01-20")
    }
}
