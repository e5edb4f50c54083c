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

    public var compliant: Bool { !findings.contains { $0.severity == .error } }

    /// One file as the report needs it: its path as given and what went wrong reading it.
    public struct FileOutcome: Sendable {
        public var path: String
        public var issues: InputIssues

        public init(path: String, issues: InputIssues) {
            self.path = path
            self.issues = issues
        }
    }

    /// Assembles the report and its findings. `locate` names the file of an event location;
    /// by default `EventLocation.file` indexes `files`. `recordsPerDay` (days since the epoch →
    /// records still kept) lets the report name records kept past `maximum_days`.
    public static func build(policy: Policy, rule: RetentionRule, files: [FileOutcome], records: Int,
                             retention: RetentionResult, realName: RealNameResult,
                             recordsPerDay: [Int32: Int] = [:],
                             locate: ((EventLocation) -> String)? = nil) -> CheckReport {
        var findings: [Finding] = []
        if let finding = PolicyFindings.notInForce(policy: policy, rule: rule) { findings.append(finding) }
        for file in files {
            if let fault = file.issues.fault {
                findings.append(Finding(rule: .unreadableFile, severity: .error,
                                        message: "\(file.path): unreadable at byte \(fault.offset): \(fault.message)",
                                        file: file.path, offset: fault.offset))
            }
        }
        for file in files where file.issues.rejectedLines > 0 {
            let issues = file.issues
            let listed = issues.firstRejectedLines.map(String.init).joined(separator: ", ")
            let more = issues.rejectedLines > issues.firstRejectedLines.count ? ", …" : ""
            let cause = issues.firstRejectionCause.map { " (first: \($0))" } ?? ""
            findings.append(Finding(rule: .rejectedLines, severity: .warning,
                                    message: "\(file.path): \(issues.rejectedLines) rejected line\(issues.rejectedLines == 1 ? "" : "s") at line \(listed)\(more)\(cause)",
                                    file: file.path, line: issues.firstRejectedLines.first,
                                    count: issues.rejectedLines, lines: issues.firstRejectedLines))
        }
        for day in retention.missingDays {
            findings.append(Finding(rule: .missingDay, severity: .error,
                                    message: "no records on \(day) (\(policy.timeZoneIdentifier))", day: day))
        }
        if let finding = PolicyFindings.overRetained(policy: policy, asOf: rule.asOf, recordsPerDay: recordsPerDay) {
            findings.append(finding)
        }
        for user in realName.violatingUsers {
            let path = locate?(user.first) ?? (files.indices.contains(Int(user.first.file)) ? files[Int(user.first.file)].path : "?")
            let time = TimestampParser.formatUTC(user.first.millis)
            let status = user.verifiedAt.map { "verified at \(TimestampParser.formatUTC($0))" } ?? "never verified"
            findings.append(Finding(rule: .violatingUser, severity: .error,
                                    message: "user \(user.user) published \(user.events) time\(user.events == 1 ? "" : "s") before verifying (\(status)); first at \(path):\(user.first.line), \(time)",
                                    user: user.user, file: path, line: user.first.line, time: time, count: user.events))
        }
        let inputs = Inputs(files: files.count, records: records,
                            rejectedLines: files.reduce(0) { $0 + $1.issues.rejectedLines },
                            unreadableFiles: files.filter { $0.issues.fault != nil }.count)
        return CheckReport(policyID: policy.id, asOf: rule.asOf, since: rule.since, timeZone: policy.timeZoneIdentifier,
                           inputs: inputs, retention: retention, realName: realName, findings: findings)
    }
}
