import CustodyTesting
import Foundation
import Testing

@testable import CustodyCore

/// What a check does after its last file is read — settling the real-name rule, building the
/// findings and writing them — is done without the general-purpose paths it once took (String
/// sorting, findings as JSON values, interpolated times). Each shortcut is held here to the plain
/// form it replaced.
@Suite("Report tail")
struct ReportTailTests {
    /// The interpolated form `formatUTC` had before it wrote its digits in place.
    static func plainUTC(_ millis: Int64) -> String {
        let seconds = Int64((Double(millis) / 1000).rounded(.down))
        let ms = Int(millis - seconds * 1000)
        let days = Int64((Double(seconds) / 86_400).rounded(.down))
        let rem = Int(seconds - days * 86_400)
        let (y, m, d) = CivilDay.civilFromDays(Int(days))
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2)).\(pad(ms, 3))Z"
    }

    @Test func timesAreWrittenAsTheInterpolatedFormWroteThem() {
        var rng = SplitMix64(seed: 7)
        // Year 0 to 9999 is written in place; before and after, the plain form is kept.
        let yearZero: Int64 = -62_167_219_200_000
        let afterYear9999: Int64 = 253_402_300_800_000
        var samples: [Int64] = [0, -1, 1, 999, 1000, yearZero, yearZero - 1, afterYear9999 - 1, afterYear9999, 951_782_400_000]
        for _ in 0..<20_000 {
            samples.append(Int64.random(in: (yearZero - 86_400_000 * 800)...(afterYear9999 + 86_400_000 * 800), using: &rng))
        }
        for millis in samples {
            #expect(TimestampParser.formatUTC(millis) == Self.plainUTC(millis), "\(millis)")
        }
    }

    @Test func daysAreWrittenAsTheInterpolatedFormWroteThem() {
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        for days in Array(stride(from: -800_000, through: 3_000_000, by: 337)) + [-719_528, -719_529, 2_932_896, 2_932_897] {
            let (y, m, d) = CivilDay.civilFromDays(days)
            #expect(CivilDay(daysSinceEpoch: Int32(days)).description == "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))", "\(days)")
        }
    }

    /// Every member a finding can carry, alone and together, with text that needs escapes:
    /// written in place, the same bytes as the finding rendered as a JSON value.
    @Test func findingsWrittenInPlaceAreTheirRenderedValues() throws {
        let policy = try loadPolicy()
        let rule = RetentionRule(minimumDays: 60, asOf: CivilDay(iso: "2026-11-26")!, since: nil)
        var findings: [Finding] = []
        var rng = SplitMix64(seed: 3)
        let texts = ["plain", "a \"quoted\"\nline\\", "用户\u{1}\t", ""]
        for i in 0..<300 {
            func some<T>(_ value: T) -> T? { Int.random(in: 0..<2, using: &rng) == 0 ? value : nil }
            findings.append(
                Finding(
                    rule: Finding.Rule.allCases[i % Finding.Rule.allCases.count], severity: i % 2 == 0 ? .error : .warning,
                    message: texts[i % texts.count], day: some(CivilDay(daysSinceEpoch: Int32(i * 97 - 9_000))),
                    user: some(texts[(i + 1) % texts.count]), file: some(texts[(i + 2) % texts.count]),
                    line: some(Int.random(in: 0...Int.max, using: &rng)), time: some(TimestampParser.formatUTC(Int64(i) * 1_234_567)),
                    offset: some(i % 3 == 0 ? -i : i), count: some(i), lines: some(Array(0..<(i % 4)))))
        }
        let report = CheckReport.build(
            policy: policy, rule: rule, files: [CheckReport.FileOutcome(path: "a.jsonl", issues: InputIssues())], records: 1,
            retention: rule.evaluate(daysWithRecords: []),
            realName: RealNameResult(usersSeen: 0, verifiedUsers: 0, violatingUsers: [], violatingEvents: 0),
            inputFindings: findings)
        var text = ""
        report.writeJSON { text += $0 }
        #expect(text == report.json.rendered())
        #expect(text.contains("\"offset\": -3"))
        #expect(text.contains("\"lines\": []"))
    }

    /// Violating users come out ordered as `String`'s `<` orders their names, whether every
    /// name is ASCII (sorted by bytes) or not (sorted as strings): names sharing long prefixes,
    /// names that are prefixes of others, control characters and NUL bytes.
    @Test(arguments: [false, true])
    func violatingUsersOrderedByName(withNonASCII: Bool) {
        var rng = SplitMix64(seed: withNonASCII ? 11 : 12)
        var names = Set<String>()
        let alphabet: [Character] = ["a", "b", "A", "-", "0", "9", "\u{0}", "\u{1}", "\r", "\n", "~", " "]
        while names.count < 3_000 {
            let prefix = ["", "user-", "user-00000", "u"][Int.random(in: 0..<4, using: &rng)]
            let tail = String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            names.insert(prefix + tail)
        }
        if withNonASCII { names.formUnion(["é", "e\u{301}x", "用户", "user-é"]) }
        var registry = RealNameRegistry()
        let t: Int64 = 1_800_000_000_000
        var pending = PendingPublishes()
        pending.add(t)
        registry.merge(
            fileIndex: 0,
            activities: names.shuffled(using: &rng).map {
                UserFileActivity(user: $0, verifiedAt: nil, pending: pending, firstPending: EventLocation(millis: t, file: 0, line: 1))
            })
        let ordered = registry.result().violatingUsers.map(\.user)
        #expect(ordered.count == names.count)
        #expect(ordered == names.sorted())
    }

    /// Violations on the days of a window, with spans that need recounts: the same users and
    /// events as counted straight from the events.
    @Test(arguments: 1...6)
    func violationsInAWindowAreCountedAsDefined(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        // A day is 100 ms here; the window is days 20 to 39.
        let day: (Int64) -> Int32 = { Int32($0 / 100) }
        let window: ClosedRange<Int32> = 20...39
        var logs: [UserFileLog] = []
        for u in 0..<150 {
            for f in 0..<3 where Int.random(in: 0..<3, using: &rng) > 0 {
                // Many publishes in one file become a span (too many to keep exactly).
                let many = Int.random(in: 0..<4, using: &rng) == 0
                let publishes = (0..<Int.random(in: 0...(many ? 40 : 3), using: &rng)).map { _ in Int64.random(in: 0..<6_000, using: &rng) }
                let verifications = Int.random(in: 0..<2, using: &rng) == 0 ? [Int64.random(in: 0..<6_000, using: &rng)] : []
                logs.append(
                    UserFileLog(
                        user: u % 2 == 0 ? "u\(u)" : "long-user-name-\(u)", file: Int32(f), publishes: publishes,
                        verifications: verifications))
            }
        }
        let oracle = RealNameOracle(logs: logs)
        var expected: [String: Int] = [:]
        for log in logs {
            let v = oracle.verification(of: log.user) ?? .max
            let n = log.publishes.filter { $0 < v && window.contains(day($0)) }.count
            if n > 0 { expected[log.user, default: 0] += n }
        }
        var registry = RealNameRegistry()
        for f: Int32 in [2, 0, 1] { registry.merge(fileIndex: f, activities: logs.filter { $0.file == f }.map(\.activity)) }
        var recounts = 0
        let count = registry.violations(onDays: window, day: day) { file, targets in
            recounts += 1
            var found: [String: Int] = [:]
            for (user, v) in targets {
                found[user] =
                    logs.filter { $0.file == file && $0.user == user }.flatMap(\.publishes).filter {
                        $0 < v && window.contains(day($0))
                    }.count
            }
            return found
        }
        #expect(count == ViolationCount(users: expected.count, events: expected.values.reduce(0, +)))
        #expect(recounts > 0)
    }

    /// Enough users who published before verifying for their findings to be built and written
    /// on several threads: the findings are those a plain loop makes, in the users' order, and
    /// the JSON written a window at a time is the report rendered whole.
    @Test func manyViolatingUsersBuiltAndWrittenOnSeveralThreads() throws {
        let policy = try loadPolicy()
        let rule = RetentionRule(minimumDays: 60, asOf: CivilDay(iso: "2026-11-26")!, since: nil)
        let count = 3 * CheckReport.violatingUsersPerThread + 17
        #expect(CheckReport.findingThreads(count) > 1 || ProcessInfo.processInfo.activeProcessorCount == 1)
        var rng = SplitMix64(seed: 21)
        let t: Int64 = 1_790_000_000_000
        let users = (0..<count).map { i in
            ViolatingUser(
                user: i % 97 == 0 ? "u\(i)\"\u{1}" : "u\(i)", events: 1 + i % 3,
                first: EventLocation(millis: t + Int64.random(in: 0..<5_000_000_000, using: &rng), file: Int32(i % 3), line: i + 1),
                verifiedAt: i % 4 == 0 ? t + 6_000_000_000 : nil)
        }
        let files = ["logs/a.jsonl", "logs/b\u{1}.jsonl.gz", "logs/c.log"].map {
            CheckReport.FileOutcome(path: $0, issues: InputIssues(), records: 1)
        }
        let report = CheckReport.build(
            policy: policy, rule: rule, files: files, records: count,
            retention: rule.evaluate(daysWithRecords: []),
            realName: RealNameResult(usersSeen: count, verifiedUsers: count / 4, violatingUsers: users, violatingEvents: 2 * count))
        let made = report.findings.filter { $0.rule == .violatingUser }
        #expect(made.count == count)
        // The report's other findings come first, as they are without these users.
        let others = CheckReport.build(
            policy: policy, rule: rule, files: files, records: count,
            retention: rule.evaluate(daysWithRecords: []),
            realName: RealNameResult(usersSeen: count, verifiedUsers: count / 4, violatingUsers: [], violatingEvents: 2 * count)
        ).findings
        #expect(!others.isEmpty)
        #expect(Array(report.findings.prefix(others.count)) == others)
        #expect(report.findings.count == others.count + count)
        for (user, finding) in zip(users, made) {
            let path = files[Int(user.first.file)].path
            let status = user.verifiedAt.map { "verified at \(Self.plainUTC($0))" } ?? "never verified"
            let message =
                "user \(user.user) published \(user.events) time\(user.events == 1 ? "" : "s") before verifying (\(status)); first at \(EscapedText.escape(path)):\(user.first.line), \(Self.plainUTC(user.first.millis))"
            guard
                finding
                    == Finding(
                        rule: .violatingUser, severity: .error, message: message, user: user.user, file: path,
                        line: user.first.line, time: Self.plainUTC(user.first.millis), count: user.events)
            else {
                Issue.record("finding for \(user.user) differs: \(finding)")
                return
            }
        }
        let (text, pieces) = report.writtenJSON()
        #expect(text == report.json.rendered())
        #expect(pieces > 1)
        // The text lists the first of them and counts the rest.
        let limit = CheckReport.textListLimit
        let listed = made.prefix(limit).map { "  \($0.message)\n" }.joined()
        #expect(
            report.text().contains(
                "\n\(Finding.Rule.violatingUser.title) (\(count), errors)\n\(listed)  … and \(count - limit) more (use --format json for the full list)\n"
            ))
    }
}
