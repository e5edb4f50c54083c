extension CheckReport {
    /// How many findings of one rule the text report lists before it only counts the rest.
    public static let textListLimit = 20

    /// A report for people: a summary, then findings grouped by rule, long lists truncated.
    public func text(listLimit: Int = CheckReport.textListLimit) -> String {
        var out = ""
        let verdict = compliant ? "COMPLIANT" : "NOT COMPLIANT"
        out += "custody check — policy \(policyID), as of \(asOf) (\(timeZone)): \(verdict)\n\n"
        out += "Inputs     \(inputs.files) file\(plural(inputs.files)), \(inputs.records) record\(plural(inputs.records)), "
        out +=
            "\(inputs.rejectedLines) rejected line\(plural(inputs.rejectedLines)), \(inputs.unreadableFiles) unreadable file\(plural(inputs.unreadableFiles))\n"
        if retention.minimumDays == 0 {
            out += "Retention  no minimum in this policy\n"
        } else {
            out +=
                "Retention  \(retention.coveredDays) of \(retention.minimumDays) days covered, \(retention.windowStart) … \(retention.windowEnd)"
            if retention.exemptDays > 0, let since { out += " (\(retention.exemptDays) before \(since) exempt)" }
            out += retention.compliant ? ": ok\n" : ": \(retention.missingDays.count) missing\n"
        }
        out +=
            "Real name  \(realNameScope): \(realName.usersSeen) user\(plural(realName.usersSeen)) seen, \(realName.verifiedUsers) verified"
        if realName.compliant {
            out += ": ok\n"
        } else {
            out +=
                ", \(realName.violatingUsers.count) published before verifying (\(realName.violatingEvents) event\(plural(realName.violatingEvents)))"
            if let window = realName.inRetentionWindow, !realName.violatingUsers.isEmpty {
                out += "; in the retention window \(window.users) (\(window.events) event\(plural(window.events)))"
            }
            if realName.anonymousPublishes > 0 {
                out += ", \(realName.anonymousPublishes) publish event\(plural(realName.anonymousPublishes)) without a user"
            }
            out += realName.notEvaluable != nil ? ": not evaluable\n" : "\n"
        }

        for rule in Finding.Rule.allCases {
            let group = findings.filter { $0.rule == rule }
            guard !group.isEmpty else { continue }
            out += "\n\(rule.title) (\(group.count), \(group[0].severity.rawValue)\(group.count == 1 ? "" : "s"))\n"
            for finding in group.prefix(listLimit) {
                out += "  \(finding.message)\n"
            }
            if group.count > listLimit {
                out += "  … and \(group.count - listLimit) more (use --format json for the full list)\n"
            }
        }
        return out
    }

    /// The scope of the real-name counts, for people.
    public var realNameScope: String {
        "all records read" + (recordDays.map { " (\($0.lowerBound) … \($0.upperBound))" } ?? "")
    }

    private func plural(_ n: Int) -> String { n == 1 ? "" : "s" }
}
