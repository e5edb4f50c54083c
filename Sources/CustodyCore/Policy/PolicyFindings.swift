/// Findings about the policy itself rather than the logs: whether it was law during the window,
/// and whether records are kept past its maximum.
public enum PolicyFindings {
    /// A warning when the policy was in force on no day of the retention window (the as-of day
    /// alone when the policy sets no minimum). A repealed policy still runs: audits of the past
    /// need it, and the warning tells an auditor which rules they are reading.
    public static func notInForce(policy: Policy, rule: RetentionRule) -> Finding? {
        let (first, last) = rule.minimumDays > 0 ? (rule.windowStart, rule.windowEnd) : (rule.asOf, rule.asOf)
        let provenance = policy.provenance
        guard !provenance.isInForce(onAnyDayFrom: first, through: last) else { return nil }
        var why: [String] = []
        switch provenance.status {
        case .proposed?: why.append("only proposed")
        case .repealed?, .inForce?, nil: break
        }
        if let from = provenance.effectiveFrom, last < from { why.append("in force from \(from)") }
        if let repealed = provenance.repealedOn, first >= repealed { why.append("repealed on \(repealed)") }
        if let successor = provenance.supersededBy { why.append("superseded by \(successor)") }
        let span = first == last ? "on \(first)" : "on any day of the window \(first) … \(last)"
        let reason = why.isEmpty ? "" : " (\(why.joined(separator: "; ")))"
        return Finding(
            rule: .policyNotInForce, severity: .warning,
            message: "policy \(policy.id) was not in force \(span)\(reason)")
    }

    /// One finding when records are kept on days before `asOf - maximum_days`: an error when
    /// the maximum is the law's or the provider's own stated period, a warning when it is
    /// Custody's default or its basis is not stated. `recordsPerDay` maps days (since the epoch)
    /// to the records still kept on them.
    public static func overRetained(policy: Policy, asOf: CivilDay, recordsPerDay: [Int32: Int]) -> Finding? {
        guard let maximum = policy.retention.maximumDays else { return nil }
        let cutoff = asOf.adding(days: -maximum)
        var days = 0
        var records = 0
        var oldest: Int32?
        for (day, count) in recordsPerDay where day < cutoff.daysSinceEpoch && count > 0 {
            days += 1
            records += count
            oldest = min(oldest ?? day, day)
        }
        guard let oldest else { return nil }
        let basis = policy.retention.maximumBasis
        let severity: Severity = basis == .law || basis == .provider ? .error : .warning
        let oldestDay = CivilDay(daysSinceEpoch: oldest)
        let basisText = basis.map { ", \($0.phrase)" } ?? ""
        return Finding(
            rule: .overRetained, severity: severity,
            message:
                "\(records) record\(records == 1 ? "" : "s") on \(days) day\(days == 1 ? "" : "s") before \(cutoff) are kept past maximum_days \(maximum)\(basisText); oldest \(oldestDay) (custody purge proposes deleting them)",
            day: oldestDay, count: records)
    }
}
