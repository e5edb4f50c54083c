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

    public init(paths: [String], policy: Policy, asOf: CivilDay, since: CivilDay? = nil,
                inputFormat: LogFormat = .auto, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) {
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
    public static func run(_ request: CheckRequest,
                           progress: (@Sendable (CheckProgress) -> Void)? = nil) async throws -> CheckReport {
        let files = try InputCollector.collect(request.paths)
        var merged = MergedAudit(fileCount: files.count)
        let policy = request.policy
        let format = request.inputFormat

        // With fewer files than cores, each file's decoding gets a thread of its own.
        let prefetch = files.count < request.parallelism
        // Registry rows count only for users the logs show (a user database holds everyone).
        var seen = Set<String>()
        await withTaskGroup(of: FileAudit.self) { group in
            var next = 0
            func startNext() {
                guard next < files.count else { return }
                let path = files[next]
                let index = Int32(next)
                group.addTask { FileAudit.scan(path: path, index: index, policy: policy, format: format, plan: RecordReader.Plan(prefetch: prefetch)) }
                next += 1
            }
            for _ in 0..<min(request.parallelism, files.count) { startNext() }
            while let audit = await group.next() {
                if !request.registry.isEmpty { for activity in audit.users { seen.insert(activity.user) } }
                merged.add(audit)
                progress?(CheckProgress(filesDone: merged.filesDone, filesTotal: files.count, records: merged.records))
                startNext()
            }
        }

        if !request.registry.isEmpty {
            // As one more input holding only verifications (never re-read: it has no publishes).
            merged.registry.merge(fileIndex: Int32(files.count), activities: RegistryFile.activities(request.registry.filter { seen.contains($0.user) }, policy: policy))
        }
        let rule = RetentionRule(minimumDays: policy.retention.minimumDays, asOf: request.asOf, since: request.since)
        let retention = rule.evaluate(daysWithRecords: Set(merged.dayCounts.keys))
        let realName = merged.registry.result { file, verifiedAt in
            FileAudit.recount(path: files[Int(file)], policy: policy, format: format, verifiedAt: verifiedAt)
        }
        let outcomes = zip(files, merged.issues).map { CheckReport.FileOutcome(path: $0, issues: $1) }
        return CheckReport.build(policy: policy, rule: rule, files: outcomes, records: merged.records,
                                 retention: retention, realName: realName)
    }
}

/// The running merge of per-file audits.
struct MergedAudit {
    var records = 0
    var dayCounts: [Int32: Int] = [:]
    var registry = RealNameRegistry()
    var issues: [InputIssues]
    var filesDone = 0

    init(fileCount: Int) { issues = Array(repeating: InputIssues(), count: fileCount) }

    mutating func add(_ audit: FileAudit) {
        records += audit.records
        for (day, count) in audit.dayCounts { dayCounts[day, default: 0] += count }
        registry.merge(fileIndex: audit.index, activities: audit.users)
        issues[Int(audit.index)] = audit.issues
        filesDone += 1
    }
}
