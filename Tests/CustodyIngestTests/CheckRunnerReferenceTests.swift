import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// The streaming check against the naive in-memory oracle, on generated logs.
@Suite("CheckRunner against ReferenceAudit")
struct CheckRunnerReferenceTests {
    let policy = try! loadPolicy()
    let asOf = CivilDay(iso: "2026-11-19")!

    /// Compares everything the oracle knows with the report.
    func compare(
        _ report: CheckReport, _ events: [ActivityEvent], since: CivilDay? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let reference = ReferenceAudit(events: events, policy: policy)
        #expect(report.inputs.records == reference.records, sourceLocation: sourceLocation)
        #expect(report.inputs.rejectedLines == 0, sourceLocation: sourceLocation)
        #expect(report.inputs.unreadableFiles == 0, sourceLocation: sourceLocation)
        #expect(report.realName.usersSeen == reference.usersSeen, sourceLocation: sourceLocation)
        #expect(report.realName.verifiedUsers == reference.verifiedUsers, sourceLocation: sourceLocation)
        let violations = Dictionary(uniqueKeysWithValues: report.realName.violatingUsers.map { ($0.user, $0.events) })
        #expect(violations == reference.violations, sourceLocation: sourceLocation)
        #expect(report.realName.violatingEvents == reference.violations.values.reduce(0, +), sourceLocation: sourceLocation)
        #expect(report.findings.filter { $0.rule == .violatingUser }.count == reference.violations.count, sourceLocation: sourceLocation)

        let rule = RetentionRule(minimumDays: policy.retention.minimumDays, asOf: asOf, since: since)
        let window = (0..<policy.retention.minimumDays).map { rule.windowStart.adding(days: $0) }
        let covered = window.filter { reference.daysWithRecords.contains($0) }
        let missing = window.filter { day in !reference.daysWithRecords.contains(day) && (since.map { day >= $0 } ?? true) }
        #expect(report.retention.coveredDays == covered.count, sourceLocation: sourceLocation)
        #expect(report.retention.missingDays == missing, sourceLocation: sourceLocation)
        #expect(report.compliant == (reference.violations.isEmpty && missing.isEmpty), sourceLocation: sourceLocation)

        // The first violating event is the user's earliest publish before verifying (to the
        // second: the combined format has no milliseconds).
        var verification: [String: Int64] = [:]
        for e in events where e.user != nil && policy.role(ofEvent: e.event) == .acceptedVerification {
            verification[e.user!] = min(verification[e.user!] ?? .max, e.millis)
        }
        for user in report.realName.violatingUsers {
            let v = verification[user.user] ?? .max
            let first = events.filter { $0.user == user.user && policy.role(ofEvent: $0.event) == .publish && $0.millis < v }
                .map(\.millis).min()
            #expect(first.map { $0 / 1000 } == user.first.millis / 1000, "\(user.user)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func generatedLogsMatchTheOracle(seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed &* 7919)
        let silent = Set(
            (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                CivilDay(iso: "2026-09-10")!.adding(days: Int.random(in: 5..<70, using: &rng))
            })
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(iso: "2026-09-10")!, days: 70, users: Int.random(in: 20...120, using: &rng),
            eventsPerDay: Int.random(in: 40...160, using: &rng), seed: seed, lateVerifiers: Int.random(in: 0...5, using: &rng),
            neverVerified: Int.random(in: 0...5, using: &rng), silentDays: silent)
        let events = ActivityGenerator(scenario).events()
        let dir = try TemporaryDirectory()
        let files = Array(mixedLogFiles.shuffled(using: &rng).prefix(Int.random(in: 1...mixedLogFiles.count, using: &rng)))
        let assignment = events.map { _ in Int.random(in: 0..<files.count, using: &rng) }
        try writeLogs(events, files: files, in: dir, assign: { i, _ in assignment[i] }, shuffleSeed: seed % 2 == 0 ? seed : nil)
        let report = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: Int(seed % 4) + 1)
        compare(report, events)
    }

    /// User ids of every length the per-file tally stores differently: up to eight bytes (kept as
    /// one word), nine to 64 (copied into its queue) and longer (applied past the queue), all
    /// interleaved in the same files.
    @Test func userIdsOfEveryStoredLength() async throws {
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(iso: "2026-09-10")!, days: 70, users: 120, eventsPerDay: 150, seed: 31,
            lateVerifiers: 6, neverVerified: 4)
        let lengths = [3, 7, 8, 9, 16, 63, 64, 65, 200]
        var renamed: [String: String] = [:]
        let events = ActivityGenerator(scenario).events().map { e -> ActivityEvent in
            guard let user = e.user else { return e }
            let name =
                renamed[user]
                ?? {
                    let n = renamed.count
                    let id = String(format: "%03d", n) + String(repeating: "x", count: lengths[n % lengths.count] - 3)
                    renamed[user] = id
                    return id
                }()
            return ActivityEvent(millis: e.millis, user: name, event: e.event)
        }
        #expect(Set(renamed.values.map(\.count)) == Set(lengths))
        let dir = try TemporaryDirectory()
        try writeLogs(events, files: Array(mixedLogFiles.prefix(3)), in: dir, assign: { i, _ in i % 3 })
        let report = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: 2)
        compare(report, events)
        #expect(!report.realName.violatingUsers.isEmpty)
    }

    /// More users than the per-file tables start with, so every one of them grows mid-file
    /// (the tally's verification times start with room for 1,024 users).
    @Test func usersBeyondTheTablesFirstCapacity() async throws {
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(iso: "2026-09-10")!, days: 70, users: 5000, eventsPerDay: 600, seed: 53,
            lateVerifiers: 40, neverVerified: 30)
        let events = ActivityGenerator(scenario).events()
        let dir = try TemporaryDirectory()
        try writeLogs(events, files: Array(mixedLogFiles.prefix(2)), in: dir, assign: { i, _ in i % 2 })
        let report = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: 2)
        #expect(report.realName.usersSeen > 2048)
        compare(report, events)
        #expect(!report.realName.violatingUsers.isEmpty)
    }

    @Test func sinceExemptsEarlyDays() async throws {
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(iso: "2026-10-20")!, days: 30, users: 30, eventsPerDay: 60, seed: 77,
            silentDays: [CivilDay(iso: "2026-11-05")!])
        let events = ActivityGenerator(scenario).events()
        let dir = try TemporaryDirectory()
        try writeLogs(events, files: Array(mixedLogFiles.prefix(3)), in: dir, assign: { i, _ in i % 3 })
        let since = CivilDay(iso: "2026-10-20")!
        let report = try await runCheck([dir.path], policy: policy, asOf: asOf, since: since, parallelism: 2)
        compare(report, events, since: since)
        #expect(report.retention.missingDays.map(\.description) == ["2026-11-05"])
        #expect(report.retention.exemptDays == 30)  // 2026-09-20 … 2026-10-19
    }

    /// Users whose publish events straddle their verification in another file: the registry
    /// cannot keep the times exactly and must re-read the files to count.
    static func plantedRecountEvents() -> [ActivityEvent] {
        func at(_ s: String) -> Int64 { ms(s) }
        var events: [ActivityEvent] = []
        // zz_recount: 10 posts before and 10 after verifying, all in one file; verification elsewhere.
        events.append(ActivityEvent(millis: at("2026-10-20T01:00:00Z"), user: "zz_recount", event: "register"))
        for i in 0..<10 {
            events.append(ActivityEvent(millis: at("2026-10-20T02:00:00Z") + Int64(i) * 60_000, user: "zz_recount", event: "post"))
            events.append(ActivityEvent(millis: at("2026-10-20T04:00:00Z") + Int64(i) * 60_000, user: "zz_recount", event: "comment"))
        }
        events.append(ActivityEvent(millis: at("2026-10-20T03:00:00Z"), user: "zz_recount", event: "verify_phone"))
        // A publish at exactly the verification time is not violating.
        events.append(ActivityEvent(millis: at("2026-10-20T03:00:00Z"), user: "zz_recount", event: "upload"))
        // zz_spread: three files of 3 + 3 messages around the verification, which is in a fourth.
        for f in 0..<3 {
            for i in 0..<3 {
                events.append(
                    ActivityEvent(millis: at("2026-10-25T10:00:00Z") + Int64(f * 10 + i) * 1000, user: "zz_spread", event: "message"))
                events.append(
                    ActivityEvent(millis: at("2026-10-25T12:00:00Z") + Int64(f * 10 + i) * 1000, user: "zz_spread", event: "message"))
            }
        }
        events.append(ActivityEvent(millis: at("2026-10-25T11:00:00Z"), user: "zz_spread", event: "verify_id"))
        // zz_email: verifies only by a method the policy does not accept.
        events.append(ActivityEvent(millis: at("2026-10-26T10:00:00Z"), user: "zz_email", event: "verify_email"))
        events.append(ActivityEvent(millis: at("2026-10-26T11:00:00Z"), user: "zz_email", event: "post"))
        return events
    }

    /// Where each planted event goes: the publishes and the verification of each user in different files.
    static let plantedFiles: [LogFileSpec] = [
        LogFileSpec(name: "planted/a-posts.jsonl", format: .jsonl),
        LogFileSpec(name: "planted/b-verify.log", format: .combined),
        LogFileSpec(name: "planted/c0.logfmt", format: .logfmt),
        LogFileSpec(name: "planted/c1.jsonl.gz", format: .jsonl, gzip: true, membersEvery: 2),
        LogFileSpec(name: "planted/c2.log.gz", format: .combined, gzip: true),
        LogFileSpec(name: "planted/d-verify.jsonl", format: .jsonl),
    ]

    static func plantedFile(_ e: ActivityEvent, spreadIndex: Int) -> Int {
        switch (e.user, e.event) {
        case ("zz_recount", "verify_phone"), ("zz_recount", "register"): return 1
        case ("zz_recount", _): return 0
        case ("zz_spread", "verify_id"): return 5
        case ("zz_spread", _): return 2 + spreadIndex % 3
        default: return 5
        }
    }

    func writePlanted(_ dir: TemporaryDirectory, shuffleSeed: UInt64? = nil) throws -> [ActivityEvent] {
        let planted = Self.plantedRecountEvents()
        var spread = 0
        var files: [Int] = []
        for e in planted {
            files.append(Self.plantedFile(e, spreadIndex: e.user == "zz_spread" && e.event == "message" ? spread / 2 : 0))
            if e.user == "zz_spread" && e.event == "message" { spread += 1 }
        }
        try writeLogs(planted, files: Self.plantedFiles, in: dir, assign: { i, _ in files[i] }, shuffleSeed: shuffleSeed)
        return planted
    }

    @Test func recountPathIsTakenAndAgreesWithTheOracle() async throws {
        let dir = try TemporaryDirectory()
        let planted = try writePlanted(dir)
        let paths = try InputCollector.collect([dir.path])

        // The per-file summaries alone cannot settle zz_recount: a recount is needed.
        var registry = RealNameRegistry()
        for (i, path) in paths.enumerated() {
            let audit = FileAudit.scan(path: path, index: Int32(i), policy: policy, format: .auto)
            registry.merge(fileIndex: audit.index, activities: audit.users)
        }
        let recounts = registry.recountsNeeded()
        #expect(recounts.contains { $0.user == "zz_recount" && paths[Int($0.file)].hasSuffix("planted/a-posts.jsonl") })

        for parallelism in [1, 2, 4] {
            let report = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: parallelism)
            let violations = Dictionary(uniqueKeysWithValues: report.realName.violatingUsers.map { ($0.user, $0.events) })
            #expect(violations == ["zz_recount": 10, "zz_spread": 9, "zz_email": 1], "parallelism \(parallelism)")
            let finding = try #require(report.findings.first { $0.user == "zz_recount" })
            #expect(finding.file?.hasSuffix("planted/a-posts.jsonl") == true)
            #expect(finding.line == 1)
            #expect(finding.time == "2026-10-20T02:00:00.000Z")
            #expect(finding.count == 10)
            #expect(report.realName.usersSeen == 3)
            #expect(report.realName.verifiedUsers == 2)
            #expect(ReferenceAudit(events: planted, policy: policy).violations == violations)
        }
    }

    @Test(arguments: [UInt64(21), 22, 23])
    func plantedRecountsAmongGeneratedLogs(seed: UInt64) async throws {
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(iso: "2026-09-10")!, days: 70, users: 50, eventsPerDay: 80, seed: seed,
            lateVerifiers: 2, neverVerified: 2)
        let generated = ActivityGenerator(scenario).events()
        let dir = try TemporaryDirectory()
        var rng = SplitMix64(seed: seed)
        let assignment = generated.map { _ in Int.random(in: 0..<mixedLogFiles.count, using: &rng) }
        try writeLogs(generated, files: mixedLogFiles, in: dir, assign: { i, _ in assignment[i] }, shuffleSeed: seed)
        let planted = try writePlanted(dir, shuffleSeed: seed)
        let report = try await runCheck([dir.path], policy: policy, asOf: asOf, parallelism: Int(seed % 3) + 1)
        compare(report, generated + planted)
        #expect(report.realName.violatingUsers.first { $0.user == "zz_recount" }?.events == 10)
    }
}
