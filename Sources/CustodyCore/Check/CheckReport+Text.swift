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

        // Each rule's findings by position: a report can hold one for every user who published
        // before verifying, and copying each rule's findings and all their messages to list
        // the first few took ~100 ms with 70,000 of them (perf).
        var byRule: [Finding.Rule: [Int]] = [:]
        for (index, finding) in findings.enumerated() { byRule[finding.rule, default: []].append(index) }
        for rule in Finding.Rule.allCases {
            guard let indices = byRule[rule] else { continue }
            let errors = indices.reduce(0) { $0 + (findings[$1].severity == .error ? 1 : 0) }
            out += "\n\(rule.title) (\(severityCount(count: indices.count, errors: errors, first: findings[indices[0]].severity)))\n"
            // Consecutive missing days read as one range: 59 days of a new deployment are one line.
            let lines =
                rule == .missingDay
                ? missingDayLines(indices.map { findings[$0] }) : indices.prefix(listLimit + 1).map { findings[$0].message }
            let count = rule == .missingDay ? lines.count : indices.count
            for line in lines.prefix(listLimit) {
                out += "  \(line)\n"
            }
            if count > listLimit {
                out += "  … and \(count - listLimit) more (use --format json for the full list)\n"
            }
        }
        return out
    }

    /// The scope of the real-name counts, for people.
    public var realNameScope: String {
        "all records read" + (recordDays.map { " (\($0.lowerBound) … \($0.upperBound))" } ?? "")
    }

    /// One line per run of consecutive missing days: "no records on DAY (ZONE)" for a single day
    /// (as the finding's message reads), "no records on FIRST … LAST (N days, ZONE)" for a run.
    func missingDayLines(_ findings: [Finding]) -> [String] {
        let days = findings.compactMap(\.day).sorted()
        guard days.count == findings.count else { return findings.map(\.message) }
        var lines: [String] = []
        var start = 0
        for index in days.indices where index == days.count - 1 || days[index + 1] != days[index].adding(days: 1) {
            lines.append(
                index == start
                    ? "no records on \(days[start]) (\(timeZone))"
                    : "no records on \(days[start]) … \(days[index]) (\(index - start + 1) days, \(timeZone))")
            start = index + 1
        }
        return lines
    }

    /// "3, errors" for a group of one severity; "3: 2 errors, 1 warning" when a rule's findings
    /// differ (rejected lines are an error only above `input.max_rejected_share`).
    func severityCount(_ group: [Finding]) -> String {
        severityCount(count: group.count, errors: group.filter { $0.severity == .error }.count, first: group[0].severity)
    }

    /// "N, errors" (or warnings) for a group of one severity, else "N: E errors, W warnings".
    func severityCount(count: Int, errors: Int, first: Severity) -> String {
        let warnings = count - errors
        if errors == 0 || warnings == 0 {
            return "\(count), \(first.rawValue)\(plural(count))"
        }
        return "\(count): \(errors) error\(plural(errors)), \(warnings) warning\(plural(warnings))"
    }

    private func plural(_ n: Int) -> String { n == 1 ? "" : "s" }
}
