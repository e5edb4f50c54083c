import CustodyCore
import Foundation

/// What `custody check` was asked to do.
public struct CheckRequest: Sendable {
    public var paths: [String]
    public var policy: Policy
    public var asOf: CivilDay
    public var since: CivilDay?
    public var inputFormat: LogFormat
    /// Verifications from the user database (`--registry`), counted like verification events.
    public var registry: [RegistryVerification] = []
    /// Files decoded at once; defaults to the number of cores.
    public var parallelism: Int
    /// Names to report instead of paths (standard input is read from a spooled copy).
    public var displayNames: [String: String] = [:]

    public init(
        paths: [String], policy: Policy, asOf: CivilDay, since: CivilDay? = nil,
        inputFormat: LogFormat = .auto, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.paths = paths
        self.policy = policy
        self.asOf = asOf
        self.since = since
        self.inputFormat = inputFormat
        self.parallelism = max(1, parallelism)
    }
}

/// Progress of a running check, for a terminal status line.
public struct CheckProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var records: Int
}

/// Runs a stateless check: reads every file (several at once), merges the per-file results, and
/// builds the report. The merge is order-independent, so the report is the same for any number
/// of workers and any completion order.
public enum CheckRunner {
    public static func run(
        _ request: CheckRequest,
        progress: (@Sendable (CheckProgress) -> Void)? = nil
    ) async throws -> CheckReport {
        try await run(request, progress: progress, helpers: DecodeHelpers())
    }

    /// `run` with the board through which idle workers help (tests watch it).
    static func run(
        _ request: CheckRequest, progress: (@Sendable (CheckProgress) -> Void)? = nil, helpers: DecodeHelpers
    ) async throws -> CheckReport {
        let gathered = try InputCollector.gather(request.paths)
        let files = gathered.files
        // Fail closed: a verdict on no input at all would say "compliant" about nothing.
        if files.isEmpty { throw NothingToAudit(paths: request.paths, skipped: gathered.findings.count) }
        var merged = MergedAudit(fileCount: files.count)
        let policy = request.policy
        let format = request.inputFormat

        // With fewer files than cores, each file's decoding gets a thread of its own; otherwise
        // each worker reads whole files, and one with none left helps another's (`DecodeHelpers`).
        let prefetch = files.count < request.parallelism
        // Registry rows count only for users the logs show (a user database holds everyone).
        var seen = Set<String>()
        await withTaskGroup(of: WorkerResult.self) { group in
            var next = 0
            func startNext() {
                guard next < files.count else { return }
                let path = files[next]
                let index = Int32(next)
                let fileBytes = Int(gathered.statuses[next].size)
                group.addTask {
                    var plan = RecordReader.Plan(prefetch: prefetch)
                    // Announced as the read starts, not when it is queued: with more jobs than
                    // cores, a queued read would keep a helper waiting for a file no thread opens.
                    if !prefetch { plan.helpers = helpers.expectRead(fileBytes: fileBytes) }
                    return .audited(FileAudit.scan(path: path, index: index, policy: policy, format: format, plan: plan))
                }
                next += 1
            }
            func help() {
                group.addTask { .helped(helpers.helpOne()) }
            }
            for _ in 0..<min(request.parallelism, files.count) { startNext() }
            while let result = await group.next() {
                switch result {
                case .audited(let audit):
                    if !request.registry.isEmpty { for activity in audit.users { seen.insert(activity.user) } }
                    merged.add(audit)
                    progress?(CheckProgress(filesDone: merged.filesDone, filesTotal: files.count, records: merged.records))
                    if next < files.count { startNext() } else if !prefetch { help() }
                    BackgroundRelease.release(consume audit)
                case .helped(let helped):
                    // Another file may still be read without help (with more than two workers).
                    if helped { help() }
                }
            }
        }

        if !request.registry.isEmpty {
            // As one more input holding only verifications (never re-read: it has no publishes).
            merged.registry.merge(
                fileIndex: Int32(files.count),
                activities: RegistryFile.activities(request.registry.filter { seen.contains($0.user) }, policy: policy))
        }
        let rule = RetentionRule(minimumDays: policy.retention.minimumDays, asOf: request.asOf, since: request.since)
        let retention = rule.evaluate(daysWithRecords: Set(merged.dayCounts.keys))
        // Spans of publish events are settled from the times the scan kept, else by re-reading.
        let settled = settle(merged, window: rule.windowDays, files: files, policy: policy, format: format)
        var realName = settled.result
        realName.inRetentionWindow = settled.inWindow
        let outcomes = files.indices.map {
            CheckReport.FileOutcome(
                path: request.displayNames[files[$0]] ?? files[$0], issues: merged.issues[$0], records: merged.fileRecords[$0],
                bytes: merged.fileBytes[$0])
        }
        let report = CheckReport.build(
            policy: policy, rule: rule, files: outcomes, records: merged.records,
            retention: retention, realName: realName, recordsPerDay: merged.dayCounts, inputFindings: gathered.findings,
            recordDays: CheckReport.span(ofDays: merged.dayCounts.keys))
        BackgroundRelease.release(consume merged)
        return report
    }
}

extension CheckRunner {
    /// The real-name rule over every record read, and (with a retention window) over the
    /// window's days only. The two are settled at once on two threads: each reads the merged
    /// registry and the kept times and re-reads files on its own, and each took ~25 ms after the
    /// last file with 70,000 users who published before verifying, with the other core idle.
    static func settle(
        _ merged: MergedAudit, window: ClosedRange<Int32>?, files: [String], policy: Policy, format: LogFormat
    ) -> (result: RealNameResult, inWindow: ViolationCount?) {
        nonisolated(unsafe) var result: RealNameResult?
        nonisolated(unsafe) var inWindow: ViolationCount?
        DispatchQueue.concurrentPerform(iterations: window == nil ? 1 : 2) { part in
            var calendar = DayCalendar(timeZone: policy.timeZone)
            if part == 0 {
                result = merged.registry.result { file, verifiedAt in
                    merged.kept[Int(file)].recount(verifiedAt: verifiedAt, calendar: &calendar)
                        ?? FileAudit.recount(path: files[Int(file)], policy: policy, format: format, verifiedAt: verifiedAt)
                }
            } else if let window {
                var keptCalendar = calendar
                inWindow = merged.registry.violations(onDays: window, day: { calendar.day(ofMillis: $0) }) { file, verifiedAt in
                    merged.kept[Int(file)].recount(verifiedAt: verifiedAt, onDays: window, calendar: &keptCalendar)
                        ?? FileAudit.recount(path: files[Int(file)], policy: policy, format: format, verifiedAt: verifiedAt, onDays: window)
                }
            }
        }
        return (result!, inWindow)
    }
}

/// What one of the check's tasks did: read a file, or helped another worker read one.
private enum WorkerResult: Sendable {
    case audited(FileAudit)
    /// Whether it decoded the rest of a file (`DecodeHelpers.helpOne`).
    case helped(Bool)
}

/// The running merge of per-file audits.
struct MergedAudit {
    var records = 0
    var dayCounts: [Int32: Int] = [:]
    var registry = RealNameRegistry()
    var issues: [InputIssues]
    var fileRecords: [Int]
    var fileBytes: [Int]
    /// Per file, the publish times its scan kept (`FileAudit.pendingTimes`).
    var kept: [KeptPublishTimes]
    /// Estimated bytes held in `kept`, against `keptBudget`.
    var keptBytes = 0
    /// Above this, a file's kept times are dropped and its spans settled by reading it again:
    /// kept times grow with every (file, user with uncovered publishes), so many files of users
    /// who never verify would otherwise hold gigabytes until the check ends.
    var keptBudget = MergedAudit.defaultKeptBudget
    static let defaultKeptBudget = 64 << 20
    var filesDone = 0

    init(fileCount: Int) {
        kept = Array(repeating: KeptPublishTimes(), count: fileCount)
        issues = Array(repeating: InputIssues(), count: fileCount)
        fileRecords = Array(repeating: 0, count: fileCount)
        fileBytes = Array(repeating: 0, count: fileCount)
    }

    mutating func add(_ audit: FileAudit) {
        records += audit.records
        for (day, count) in audit.dayCounts { dayCounts[day, default: 0] += count }
        registry.merge(fileIndex: audit.index, activities: audit.users, distinctUsers: true)
        issues[Int(audit.index)] = audit.issues
        fileRecords[Int(audit.index)] = audit.records
        fileBytes[Int(audit.index)] = audit.end.bytes
        let cost = audit.pendingTimes.estimatedBytes
        if keptBytes + cost <= keptBudget {
            kept[Int(audit.index)] = KeptPublishTimes(times: audit.pendingTimes)
            keptBytes += cost
        }
        filesDone += 1
    }
}

/// One file's kept publish times (see `FileAudit.pendingTimes`), for settling spans without
/// reading the file again.
struct KeptPublishTimes {
    var times = PublishTimes()

    /// What `FileAudit.recount` would find in the file, from the kept times; nil when a user's
    /// times were not kept (the file is then read again). Publish events the scan did not keep
    /// came after a verification in the file, so after every target time (none is later than
    /// the file's own) and never count.
    func recount(
        verifiedAt targets: [String: Int64], onDays window: ClosedRange<Int32>? = nil, calendar: inout DayCalendar
    )
        -> [String: Int]?
    {
        guard let found = times.times(of: targets) else { return nil }
        var counts: [String: Int] = [:]
        for (user, (v, kept)) in found {
            var count = 0
            for t in kept where t < v {
                if let window, !window.contains(calendar.day(ofMillis: t)) { continue }
                count += 1
            }
            counts[user] = count
        }
        return counts
    }
}

/// `custody check` found no log file to read (an empty directory, or only hidden files).
public struct NothingToAudit: Error, CustomStringConvertible, Sendable {
    public var paths: [String]
    /// Special files and links that were skipped.
    public var skipped: Int

    public var description: String {
        let named = paths.map { EscapedText.escape($0) }.joined(separator: ", ")
        let skippedNote =
            skipped > 0 ? " (\(skipped) special file\(skipped == 1 ? "" : "s") or link\(skipped == 1 ? "" : "s") skipped)" : ""
        return "nothing to audit: no log file in \(named)\(skippedNote)"
    }
}
