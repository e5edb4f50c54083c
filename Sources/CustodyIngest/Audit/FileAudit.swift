import CustodyCore

/// Everything the check needs from one file; small (grows with the file's users and days).
public struct FileAudit: Sendable {
    public var path: String
    /// Position of the file in the sorted input list.
    public var index: Int32
    public var records: Int
    /// Records per calendar day (days since 1970-01-01 in the policy's zone).
    public var dayCounts: [Int32: Int]
    public var issues: InputIssues
    public var users: [UserFileActivity]
    public var compressed: Bool
    public var bytesRead: Int
    /// Where reading stopped in the decoded content (bytes and lines).
    public var end: LineReader.Position
    /// Earliest and latest record time read, in Unix milliseconds.
    public var timeRange: ClosedRange<Int64>?
    /// The exact times of the publish events behind each `users` entry with pending events,
    /// also when those are only a count and a span (users with very many are left out), so that
    /// settling a span needs no second read of the file (`KeptPublishTimes`). A span can also
    /// arise when several files' exact times are merged.
    public var pendingTimes = PublishTimes()

    /// Reads and audits one file, or the part of it that `plan` names.
    public static func scan(
        path: String, index: Int32, policy: Policy, format: LogFormat,
        plan: RecordReader.Plan = RecordReader.Plan()
    ) -> FileAudit {
        // Fewer files than cores: parse this one on several threads.
        if plan.prefetch && plan.start == .start && !plan.completeLinesOnly && plan.consumed == nil && plan.contents == nil {
            return ParallelFileScan.scan(path: path, index: index, policy: policy, format: format)
        }
        // Kept publish times serve a check's recounts; `run` (bytes consumed into the vault) has none.
        var sink = AuditSink(
            counts: RecordCounts(policy: policy), users: UserActivityTally(file: index, keepsPublishTimes: plan.consumed == nil))
        let outcome = RecordReader.read(path: path, policy: policy, format: format, plan: plan, into: &sink)
        let activities = sink.users.finish()
        var issues = outcome.issues
        issues.anonymousPublishes = sink.anonymous.anonymousPublishes
        issues.firstAnonymousPublishLines = sink.anonymous.firstAnonymousPublishLines
        var audit = FileAudit(
            path: path, index: index, records: outcome.records, dayCounts: sink.counts.finishDays(),
            issues: issues, users: activities, compressed: outcome.compressed, bytesRead: outcome.bytesRead,
            end: outcome.end, timeRange: sink.counts.timeRange)
        audit.pendingTimes = sink.users.pendingTimes
        return audit
    }

    /// Counts, in one file, each listed user's publish events strictly before their verification
    /// time. Used only for the rare users `RealNameRegistry.recountsNeeded` names.
    /// With `onDays`, only events on those days (days since 1970-01-01 in the policy's zone) count.
    public static func recount(
        path: String, policy: Policy, format: LogFormat,
        verifiedAt targets: [String: Int64], onDays window: ClosedRange<Int32>? = nil
    ) -> [String: Int] {
        var calendar = DayCalendar(timeZone: policy.timeZone)
        let roles = EventRoleTable(policy: policy)
        let wanted = ByteInterner()
        var limits: [Int64] = []
        var names: [String] = []
        for (user, v) in targets.sorted(by: { $0.key < $1.key }) {
            var bytes = EscapedText.unescape(user)
            _ = bytes.withUnsafeMutableBufferPointer { wanted.intern(UnsafeBufferPointer($0)) }
            limits.append(v)
            names.append(user)
        }
        var counts = Array(repeating: 0, count: names.count)
        _ = RecordReader.read(path: path, policy: policy, format: format) { record, _ in
            guard let user = record.user, let event = record.event, let id = wanted.find(user) else { return }
            guard record.millis < limits[Int(id)] && roles.role(of: event) == .publish else { return }
            if let window, !window.contains(calendar.day(ofMillis: record.millis)) { return }
            counts[Int(id)] += 1
        }
        return Dictionary(uniqueKeysWithValues: zip(names, counts))
    }
}

/// What the single pass counts per record: days, the time range, anonymous publishes and the
/// per-user tally. A sink rather than a closure so that it is inlined into the line loop.
private struct AuditSink: RecordSink {
    var counts: RecordCounts
    let users: UserActivityTally
    var anonymous = InputIssues()

    @inline(__always)
    mutating func take(_ record: ParsedLine, line: Int) {
        let role = counts.count(record)
        guard let user = record.user else {
            // Whoever publishes must be identified: a publish without a user is a violation.
            if role == .publish { anonymous.anonymousPublish(line: line) }
            return
        }
        users.add(user: user, prefix: record.userPrefix, role: role, millis: record.millis, line: line)
    }
}

/// Per-day record counts without a dictionary update per record: lines arrive mostly in day order.
struct DayTally {
    private var counts: [Int32: Int] = [:]
    private var current: Int32 = .min
    private var run = 0

    @inline(__always)
    mutating func add(_ day: Int32) {
        if day == current {
            run += 1
        } else {
            flush()
            current = day
            run = 1
        }
    }

    private mutating func flush() {
        if run > 0 { counts[current, default: 0] += run }
        run = 0
    }

    mutating func finish() -> [Int32: Int] {
        flush()
        return counts
    }
}
