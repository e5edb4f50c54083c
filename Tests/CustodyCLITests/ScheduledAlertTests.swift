import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// The shipped scheduling must make non-compliance visible: cron mails whatever a job prints,
/// so the exact command line of `contrib/custody.cron` must print a short summary when the logs
/// are not compliant and nothing at all when they are; the systemd unit must fail.
@Suite struct ScheduledAlertTests {
    static let contrib = CustodyProcess.repositoryRoot.appendingPathComponent("contrib")

    /// The command of the job line of `contrib/custody.cron` (after five time fields and the user).
    static func cronCommand() throws -> String {
        let text = try String(contentsOf: contrib.appendingPathComponent("custody.cron"), encoding: .utf8)
        let jobs = text.split(separator: "\n").filter { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#") && !trimmed.contains("=")
        }
        let job = try #require(jobs.count == 1 ? jobs[0] : nil, "one job line in custody.cron, found \(jobs.count)")
        let fields = job.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: true)
        try #require(fields.count == 7, "expected 'm h dom mon dow user command': \(job)")
        return String(fields[6])
    }

    /// Runs the cron command through `sh -c` as cron would, with the built `custody` first on
    /// `PATH` and the fixture's configuration in place of `/etc/custody/custody.yaml`.
    static func runCronLine(_ fixture: StateFixture) throws -> CustodyProcess.Result {
        let command = try cronCommand()
        #expect(command.contains("/etc/custody/custody.yaml"))
        let local = command.replacingOccurrences(of: "/etc/custody/custody.yaml", with: fixture.config)
        let bin = CustodyProcess.executable.deletingLastPathComponent().path
        return try CustodyProcess.run(
            ["PATH=\(bin):/usr/bin:/bin", "/bin/sh", "-c", local], in: fixture.dir.url,
            program: URL(fileURLWithPath: "/usr/bin/env"))
    }

    /// Today in the shipped policy's zone, as `custody run` without `--as-of` sees it.
    static func today() -> CivilDay {
        var calendar = DayCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        return calendar.day(of: Date())
    }

    @Test func cronLineMailsNothingWhenCompliant() throws {
        let fixture = try StateFixture()
        // Every day of the window before today, every publisher verified first, no anonymous events.
        let events = ActivityGenerator(
            .init(
                firstDay: Self.today().adding(days: -66), days: 66, users: 20, eventsPerDay: 30,
                seed: 17, anonymousPercent: 0)
        ).events()
        try fixture.append(StateFixture.lines(events), to: "app.jsonl")

        let result = try Self.runCronLine(fixture)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.isEmpty, "a compliant run must print nothing (cron would mail it): \(result.stdout)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let metrics = try String(contentsOfFile: fixture.dir.path("custody.prom"), encoding: .utf8)
        #expect(metrics.contains("custody_compliant 1\n"))
    }

    @Test func cronLineMailsAShortSummaryWhenNotCompliant() throws {
        let fixture = try StateFixture()
        // A few days only (retention fails) and one user who posts before verifying.
        let events = ActivityGenerator(
            .init(
                firstDay: Self.today().adding(days: -5), days: 4, users: 10, eventsPerDay: 30,
                seed: 3, lateVerifiers: 1, anonymousPercent: 0)
        ).events()
        try fixture.append(StateFixture.lines(events), to: "app.jsonl")

        let result = try Self.runCronLine(fixture)
        #expect(result.status == 1, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("custody: NOT COMPLIANT") == true, "\(result.stdout)")
        #expect(result.stdout.contains("Missing days: "))
        #expect(result.stdout.contains("Users who published before verifying their real identity: 1 — user u"))
        #expect(lines.last == "Details: custody status --config \(fixture.config)")
        #expect(lines.count <= 8, "an alert is a few lines, not the report: \(result.stdout)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let metrics = try String(contentsOfFile: fixture.dir.path("custody.prom"), encoding: .utf8)
        #expect(metrics.contains("custody_compliant 0\n"))

        // The command it names works and shows the details.
        let details = try CustodyProcess.run(["status", "--config", fixture.config], in: fixture.dir.url)
        #expect(details.status == 1)
        #expect(details.stdout.contains("NOT COMPLIANT") || details.stdout.contains("not compliant"), "\(details.stdout)")
    }

    @Test func alertCannotBeCombinedWithJSON() throws {
        let fixture = try StateFixture()
        let result = try fixture.custody("run", ["--alert", "--format", "json"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--alert"))
    }

    /// Exit 1 fails the timer's unit (no `SuccessExitStatus=1`), which starts the shipped hook.
    @Test func systemdRunUnitFailsWhenNotCompliantAndNamesItsHook() throws {
        let unit = try String(contentsOf: Self.contrib.appendingPathComponent("custody.service"), encoding: .utf8)
        let settings = unit.split(separator: "\n").filter { !$0.hasPrefix("#") }
        let success = settings.filter { $0.hasPrefix("SuccessExitStatus=") }
            .flatMap { $0.dropFirst("SuccessExitStatus=".count).split(separator: " ") }
        #expect(!success.contains("1"), "exit 1 (not compliant) must fail the unit")
        #expect(settings.contains { $0.hasPrefix("ExecStart=") && $0.contains(" run ") && $0.contains("--alert") })
        let hook = try #require(settings.first { $0.hasPrefix("OnFailure=") }).dropFirst("OnFailure=".count)
        #expect(hook == "custody-alert@%n.service")
        let hookUnit = try String(contentsOf: Self.contrib.appendingPathComponent("custody-alert@.service"), encoding: .utf8)
        #expect(hookUnit.contains("ExecStart="))
    }
}
