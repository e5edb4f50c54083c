/// The outcome of `custody check`: what was read, the retention and real-name results, and the
/// findings. Built by `CheckReport.build`, rendered by `json` and `text`.
public struct CheckReport: Sendable, Equatable {
    public struct Inputs: Sendable, Equatable {
        public var files: Int
        public var records: Int
        public var rejectedLines: Int
        public var unreadableFiles: Int

        public init(files: Int, records: Int, rejectedLines: Int, unreadableFiles: Int) {
            self.files = files
            self.records = records
            self.rejectedLines = rejectedLines
            self.unreadableFiles = unreadableFiles
        }
    }

    public var policyID: String
    public var asOf: CivilDay
    public var since: CivilDay?
    public var timeZone: String
    public var inputs: Inputs
    public var retention: RetentionResult
    public var realName: RealNameResult
    public var findings: [Finding]
    /// The first and last calendar day with records among everything read: the scope the
    /// real-name counts cover (all records read, not only the retention window).
    public var recordDays: ClosedRange<CivilDay>?

    public var compliant: Bool { !findings.contains { $0.severity == .error } }

    /// One file as the report needs it: its path as given, what went wrong reading it, and how
    /// much of it was read.
    public struct FileOutcome: Sendable {
        public var path: String
        public var issues: InputIssues
        /// Records read from the file (nil: not known, never judged unrecognised for it).
        public var records: Int?
        /// Decoded bytes read from the file.
        public var bytes: Int

        public init(path: String, issues: InputIssues, records: Int? = nil, bytes: Int = 0) {
            self.path = path
            self.issues = issues
            self.records = records
            self.bytes = bytes
        }

        /// Why no verdict can rest on this file, if none can: no record was read from lines
        /// that were there, or over a quarter of its bytes are not text.
        func unrecognised() -> String? {
            if let records, records == 0, issues.rejectedLines > 0 {
                return
                    "no record read; all \(issues.rejectedLines) line\(issues.rejectedLines == 1 ? "" : "s") rejected (first: \(issues.firstRejectionCause ?? "?"))"
            }
            if bytes > 0, issues.nonTextBytes * 4 > bytes {
                return "\(issues.nonTextBytes) of its \(bytes) bytes are not text (a binary or damaged compressed file?)"
            }
            return nil
        }
    }

    /// Assembles the report and its findings. `locate` names the file of an event location's
    /// file index (`EventLocation.file`); by default that index is one into `files`. `recordsPerDay` (days since the epoch →
    /// records still kept) lets the report name records kept past `maximum_days`.
    public static func build(
        policy: Policy, rule: RetentionRule, files: [FileOutcome], records: Int,
        retention: RetentionResult, realName: RealNameResult,
        recordsPerDay: [Int32: Int] = [:],
        inputFindings: [Finding] = [], recordDays: ClosedRange<CivilDay>? = nil,
        locate: ((Int32) -> String)? = nil
    ) -> CheckReport {
        var findings = inputFindings
        if let finding = PolicyFindings.notInForce(policy: policy, rule: rule) { findings.append(finding) }
        for file in files {
            if let fault = file.issues.fault {
                findings.append(
                    Finding(
                        rule: .unreadableFile, severity: .error,
                        message: "\(shown(file.path)): unreadable at byte \(fault.offset): \(fault.message)",
                        file: file.path, offset: fault.offset))
            }
        }
        for file in files {
            if let why = file.unrecognised() {
                findings.append(
                    Finding(
                        rule: .unrecognisedFile, severity: .error,
                        message: "\(shown(file.path)): not recognised as a log: \(why)", file: file.path))
            }
        }
        for file in files where file.issues.rejectedLines > 0 {
            let issues = file.issues
            let listed = issues.firstRejectedLines.map(String.init).joined(separator: ", ")
            let more = issues.rejectedLines > issues.firstRejectedLines.count ? ", …" : ""
            let cause = issues.firstRejectionCause.map { " (first: \($0))" } ?? ""
            // Above the policy's share, too much of the file was not understood to trust a verdict.
            let lines = issues.rejectedLines + (file.records ?? 0)
            let share = Double(issues.rejectedLines) / Double(max(lines, 1))
            let tooMany = file.records != nil && share > policy.input.maxRejectedShare
            let over =
                tooMany ? "; \(percent(share)) of its lines, above input.max_rejected_share \(percent(policy.input.maxRejectedShare))" : ""
            findings.append(
                Finding(
                    rule: .rejectedLines, severity: tooMany ? .error : .warning,
                    message:
                        "\(shown(file.path)): \(issues.rejectedLines) rejected line\(issues.rejectedLines == 1 ? "" : "s") at line \(listed)\(more)\(cause)\(over)",
                    file: file.path, line: issues.firstRejectedLines.first,
                    count: issues.rejectedLines, lines: issues.firstRejectedLines))
        }
        for day in retention.missingDays {
            findings.append(
                Finding(
                    rule: .missingDay, severity: .error,
                    message: "no records on \(day) (\(policy.timeZoneIdentifier))", day: day))
        }
        if let finding = PolicyFindings.overRetained(policy: policy, asOf: rule.asOf, recordsPerDay: recordsPerDay) {
            findings.append(finding)
        }
        var realName = realName
        realName.anonymousPublishes = files.reduce(0) { $0 + $1.issues.anonymousPublishes }
        realName.notEvaluable = notEvaluable(policy: policy, records: records, realName: realName)
        if let why = realName.notEvaluable {
            findings.append(Finding(rule: .notEvaluable, severity: .error, message: "the real-name rule cannot be judged: \(why)"))
        }
        for file in files where file.issues.anonymousPublishes > 0 {
            let issues = file.issues
            let listed = issues.firstAnonymousPublishLines.map(String.init).joined(separator: ", ")
            let more = issues.anonymousPublishes > issues.firstAnonymousPublishLines.count ? ", …" : ""
            findings.append(
                Finding(
                    rule: .anonymousPublish, severity: .error,
                    message:
                        "\(shown(file.path)): \(issues.anonymousPublishes) publish event\(issues.anonymousPublishes == 1 ? "" : "s") without a user at line \(listed)\(more)",
                    file: file.path, line: issues.firstAnonymousPublishLines.first,
                    count: issues.anonymousPublishes, lines: issues.firstAnonymousPublishLines))
        }
        findings = violatingUserFindings(after: findings, realName.violatingUsers) { file in
            locate?(file) ?? (files.indices.contains(Int(file)) ? files[Int(file)].path : "?")
        }
        let inputs = Inputs(
            files: files.count, records: records,
            rejectedLines: files.reduce(0) { $0 + $1.issues.rejectedLines },
            unreadableFiles: files.filter { $0.issues.fault != nil }.count)
        return CheckReport(
            policyID: policy.id, asOf: rule.asOf, since: rule.since, timeZone: policy.timeZoneIdentifier,
            inputs: inputs, retention: retention, realName: realName, findings: findings, recordDays: recordDays)
    }

    /// Why the real-name rule cannot be judged on what was read, or nil when it can.
    static func notEvaluable(policy: Policy, records: Int, realName: RealNameResult) -> String? {
        // A policy with no publish events (a log-retention law only) has no real-name rule to judge.
        guard !policy.realName.publishEvents.isEmpty else { return nil }
        if records > 0 && realName.usersSeen == 0 {
            return "none of the \(records) records carries a user (fields.user: \(policy.fields.user.joined(separator: ", ")))"
        }
        let publishes = realName.violatingEvents + realName.anonymousPublishes
        if publishes > 0 && realName.verifiedUsers == 0 {
            let events = policy.realName.verificationEvents.keys.sorted().joined(separator: ", ")
            return
                "\(publishes) publish events were read but no accepted verification event (\(events.isEmpty ? "none configured" : events)) ever was"
        }
        return nil
    }

    /// The first and last day among `days` (days since 1970-01-01), or nil for none.
    public static func span<S: Sequence>(ofDays days: S) -> ClosedRange<CivilDay>? where S.Element == Int32 {
        var low = Int32.max
        var high = Int32.min
        for day in days {
            low = min(low, day)
            high = max(high, day)
        }
        return low <= high ? CivilDay(daysSinceEpoch: low)...CivilDay(daysSinceEpoch: high) : nil
    }

    /// A name as it may be printed: control characters and bytes that are not text escaped.
    static func shown(_ name: String) -> String { EscapedText.escape(name) }

    private static func percent(_ share: Double) -> String {
        let value = share * 100
        return value >= 1 ? "\(Int(value.rounded()))%" : "\((value * 1000).rounded() / 1000)%"
    }
}
