/// The outcome of `custody check` with several `--policy` options: one `custody.check.v1`
/// report per policy, each under its own id and window, and the retention bounds they set
/// together. A single policy is reported as before, without this wrapper.
public struct CombinedCheckReport: Sendable {
    public static let schema = "custody.check.combined.v1"

    public var reports: [CheckReport]
    public var bounds: CombinedRetention

    public init(reports: [CheckReport], policies: [Policy]) {
        self.reports = reports
        self.bounds = CombinedRetention(policies)
    }

    /// Compliant only when every policy's report is, and the policies do not contradict.
    public var compliant: Bool { reports.allSatisfy(\.compliant) && !bounds.conflicting }

    public var json: JSONValue {
        .object([
            ("schema", .string(Self.schema)),
            ("policies", .array(reports.map { .string($0.policyID) })),
            (
                "retention_bounds",
                .object([
                    ("minimum_days", .int(bounds.minimumDays)),
                    ("minimum_policy", .string(bounds.minimumPolicy)),
                    ("maximum_days", bounds.maximumDays.map { .int($0) } ?? .null),
                    ("maximum_policy", bounds.maximumPolicy.map { .string($0) } ?? .null),
                    ("purge_after_days", bounds.purgeAfterDays.map { .int($0) } ?? .null),
                    ("conflicting", .bool(bounds.conflicting)),
                ])
            ),
            ("reports", .array(reports.map(\.json))),
            ("compliant", .bool(compliant)),
        ])
    }

    public func text() -> String {
        var out = reports.map { $0.text() }.joined(separator: "\n")
        out += "\nCombined   \(reports.count) policies: \(compliant ? "COMPLIANT" : "NOT COMPLIANT")\n"
        out += "           longest minimum \(bounds.minimumDays) days (\(bounds.minimumPolicy))"
        if let maximum = bounds.maximumDays, let owner = bounds.maximumPolicy {
            out +=
                ", strictest maximum \(maximum) days (\(owner)); purge deletes only records older than \(bounds.purgeAfterDays ?? maximum) days\n"
        } else {
            out += "; no policy sets a maximum\n"
        }
        if bounds.conflicting {
            out +=
                "           CONFLICT: \(bounds.minimumPolicy) requires \(bounds.minimumDays) days, \(bounds.maximumPolicy ?? "?") allows only \(bounds.maximumDays ?? 0)\n"
        }
        return out
    }
}
