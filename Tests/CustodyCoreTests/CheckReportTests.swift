import CustodyCore
import Foundation
import Testing

@Suite("CheckReport")
struct CheckReportTests {
    let asOf = CivilDay(iso: "2026-11-26")!

    func issues(rejected lines: [Int] = [], fault: ReadFault? = nil) -> InputIssues {
        var issues = InputIssues()
        for line in lines { issues.reject(line: line, cause: "invalid JSON") }
        issues.fault = fault
        return issues
    }

    /// A report with one finding of every kind: an unreadable file, rejected lines, two missing
    /// days and one violating user.
    func sampleReport() throws -> CheckReport {
        let policy = try loadPolicy()
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: nil)
        var present = Set((0..<60).map { rule.windowStart.adding(days: $0).daysSinceEpoch })
        present.remove(CivilDay(iso: "2026-10-03")!.daysSinceEpoch)
        present.remove(CivilDay(iso: "2026-10-05")!.daysSinceEpoch)
        let retention = rule.evaluate(daysWithRecords: present)
        var registry = RealNameRegistry()
        var pending = PendingPublishes()
        let t = TimestampParser.parse("2026-10-31T15:20:00Z")!
        pending.add(t)
        pending.add(t + 60_000)
        registry.merge(
            fileIndex: 2,
            activities: [
                UserFileActivity(
                    user: "u09001", verifiedAt: nil, pending: pending, firstPending: EventLocation(millis: t, file: 2, line: 4)),
                UserFileActivity(user: "u00001", verifiedAt: 1, pending: PendingPublishes(), firstPending: nil),
            ])
        let files = [
            CheckReport.FileOutcome(path: "logs/a.jsonl", issues: issues()),
            CheckReport.FileOutcome(path: "logs/b.jsonl.gz", issues: issues(fault: ReadFault(offset: 123, message: "CRC-32 mismatch"))),
            CheckReport.FileOutcome(path: "logs/c.jsonl", issues: issues(rejected: [3, 5, 8, 13, 21, 34, 55])),
        ]
        return CheckReport.build(
            policy: policy, rule: rule, files: files, records: 1000,
            retention: retention, realName: registry.result())
    }

    @Test func findingsAreAggregatedAndOrdered() throws {
        let report = try sampleReport()
        #expect(report.findings.map(\.rule) == [.unreadableFile, .rejectedLines, .missingDay, .missingDay, .violatingUser])
        #expect(report.findings.map(\.severity) == [.error, .warning, .error, .error, .error])
        #expect(!report.compliant)
        #expect(report.inputs == CheckReport.Inputs(files: 3, records: 1000, rejectedLines: 7, unreadableFiles: 1))

        let unreadable = report.findings[0]
        #expect(unreadable.file == "logs/b.jsonl.gz" && unreadable.offset == 123)
        #expect(unreadable.message.contains("logs/b.jsonl.gz") && unreadable.message.contains("123"))

        let rejected = report.findings[1]
        #expect(rejected.count == 7)
        #expect(rejected.lines == [3, 5, 8, 13, 21])
        #expect(rejected.line == 3)
        #expect(rejected.message.contains("7 rejected lines"))

        #expect(report.findings[2].day?.description == "2026-10-03")
        #expect(report.findings[3].day?.description == "2026-10-05")

        let violating = report.findings[4]
        #expect(violating.user == "u09001")
        #expect(violating.count == 2)
        #expect(violating.file == "logs/c.jsonl")
        #expect(violating.line == 4)
        #expect(violating.time == "2026-10-31T15:20:00.000Z")
        #expect(violating.message.contains("never verified"))
    }

    @Test func warningsAloneAreCompliant() throws {
        let policy = try loadPolicy()
        let rule = RetentionRule(minimumDays: 2, asOf: asOf, since: nil)
        let retention = rule.evaluate(daysWithRecords: [asOf.adding(days: -1).daysSinceEpoch, asOf.adding(days: -2).daysSinceEpoch])
        let report = CheckReport.build(
            policy: policy, rule: rule,
            files: [CheckReport.FileOutcome(path: "x", issues: issues(rejected: [1]), records: 2_000)],
            records: 2_000, retention: retention, realName: registryWithOneUser().result())
        #expect(report.findings.count == 1)
        #expect(report.compliant)
        #expect(report.text().contains(": COMPLIANT"))
    }

    @Test func locateNamesTheFileOfTheFirstViolation() throws {
        let policy = try loadPolicy()
        let rule = RetentionRule(minimumDays: 1, asOf: asOf, since: nil)
        var registry = RealNameRegistry()
        var pending = PendingPublishes()
        pending.add(5)
        registry.merge(
            fileIndex: 0,
            activities: [
                UserFileActivity(
                    user: "x", verifiedAt: nil, pending: pending,
                    firstPending: EventLocation(millis: 5, file: 0, line: 1))
            ])
        let report = CheckReport.build(
            policy: policy, rule: rule, files: [], records: 1,
            retention: rule.evaluate(daysWithRecords: []), realName: registry.result(),
            locate: { "vault:\($0)" })
        #expect(report.findings.last?.file == "vault:0")
    }

    @Test func jsonDocumentFollowsTheContract() throws {
        let report = try sampleReport()
        let text = report.json.rendered()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "custody.check.v1")
        #expect(object["policy"] as? String == "test-policy")
        #expect(object["as_of"] as? String == "2026-11-26")
        #expect(object["timezone"] as? String == "Asia/Shanghai")
        #expect(object["compliant"] as? Bool == false)
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["files"] as? Int == 3)
        #expect(inputs["records"] as? Int == 1000)
        #expect(inputs["rejected_lines"] as? Int == 7)
        #expect(inputs["unreadable_files"] as? Int == 1)
        let retention = try #require(object["retention"] as? [String: Any])
        #expect(retention["minimum_days"] as? Int == 60)
        #expect(retention["window_start"] as? String == "2026-09-27")
        #expect(retention["window_end"] as? String == "2026-11-25")
        #expect(retention["covered_days"] as? Int == 58)
        #expect(retention["missing_days"] as? [String] == ["2026-10-03", "2026-10-05"])
        #expect(retention["compliant"] as? Bool == false)
        let realName = try #require(object["real_name"] as? [String: Any])
        #expect(realName["users_seen"] as? Int == 2)
        #expect(realName["verified_users"] as? Int == 1)
        #expect(realName["violating_users"] as? Int == 1)
        #expect(realName["violating_events"] as? Int == 2)
        #expect(realName["compliant"] as? Bool == false)
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(
            findings.map { $0["rule"] as? String } == [
                "input.unreadable_file", "input.rejected_lines", "retention.missing_day", "retention.missing_day",
                "real_name.violating_user",
            ])
        #expect(findings[0]["offset"] as? Int == 123)
        #expect(findings[1]["lines"] as? [Int] == [3, 5, 8, 13, 21])
        #expect(findings[2]["day"] as? String == "2026-10-03")
        #expect(findings[4]["user"] as? String == "u09001")

        // Keys appear in the documented order.
        let order = [
            "\"schema\"", "\"policy\"", "\"as_of\"", "\"timezone\"", "\"inputs\"", "\"retention\"", "\"real_name\"",
            "\"findings\"", "\"compliant\": false\n}",
        ]
        let positions = order.map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        // Rendering is stable.
        #expect(try sampleReport().json.rendered() == text)
    }

    @Test func textReport() throws {
        let report = try sampleReport()
        let text = report.text()
        #expect(text.hasPrefix("custody check — policy test-policy, as of 2026-11-26 (Asia/Shanghai): NOT COMPLIANT\n"))
        #expect(text.contains("3 files, 1000 records, 7 rejected lines, 1 unreadable file\n"))
        #expect(text.contains("58 of 60 days covered, 2026-09-27 … 2026-11-25: 2 missing"))
        #expect(text.contains("2 users seen, 1 verified, 1 published before verifying (2 events)"))
        #expect(text.contains("Missing days (2, errors)"))
        #expect(text.contains("Rejected lines (1, warning)"))
        let truncated = report.text(listLimit: 1)
        #expect(truncated.contains("… and 1 more"))
        #expect(!truncated.contains("2026-10-05 (Asia/Shanghai)"))
        #expect(text.contains("2026-10-05 (Asia/Shanghai)"))
    }

    /// Runs of consecutive missing days are one text line each; JSON still lists every day.
    @Test func consecutiveMissingDaysReadAsRanges() throws {
        let policy = try loadPolicy()
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: nil)
        // Present: the window's last 5 days and its 10th day; missing: days 0–8, 10–54.
        var present = Set((55..<60).map { rule.windowStart.adding(days: $0).daysSinceEpoch })
        present.insert(rule.windowStart.adding(days: 9).daysSinceEpoch)
        let report = CheckReport.build(
            policy: policy, rule: rule, files: [CheckReport.FileOutcome(path: "a.jsonl", issues: issues())], records: 6,
            retention: rule.evaluate(daysWithRecords: present), realName: RealNameRegistry().result())
        #expect(report.findings.filter { $0.rule == .missingDay }.count == 54)
        let text = report.text()
        #expect(text.contains("Missing days (54, errors)\n"))
        #expect(text.contains("  no records on 2026-09-27 … 2026-10-05 (9 days, Asia/Shanghai)\n"), "\(text)")
        #expect(text.contains("  no records on 2026-10-07 … 2026-11-20 (45 days, Asia/Shanghai)\n"), "\(text)")
        #expect(!text.contains("… and"))
        #expect(report.json.rendered().contains("\"2026-10-20\""))
    }

    /// Records that carry a user, so that the real-name rule can be judged.
    func registryWithOneUser() -> RealNameRegistry {
        var registry = RealNameRegistry()
        registry.merge(
            fileIndex: 0, activities: [UserFileActivity(user: "u1", verifiedAt: nil, pending: PendingPublishes(), firstPending: nil)])
        return registry
    }
}
