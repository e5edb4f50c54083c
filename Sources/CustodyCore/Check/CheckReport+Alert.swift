extension CheckReport {
    /// A few lines for an alert (cron mails whatever a job prints): the verdict, one line per
    /// rule with errors (how many, and the first of them), and the command that shows the rest.
    /// Empty when compliant, so a compliant scheduled run prints, and mails, nothing.
    ///
    /// - Parameter details: a command line the reader can paste to see every finding.
    public func alert(details: String) -> String {
        guard !compliant else { return "" }
        var out = "custody: NOT COMPLIANT — policy \(policyID), as of \(asOf) (\(timeZone))\n"
        let errors = findings.filter { $0.severity == .error }
        // Rules in the order reports list them; a rule added later still gets its line.
        var rules = Finding.Rule.allCases.filter { rule in errors.contains { $0.rule == rule } }
        for finding in errors where !rules.contains(finding.rule) { rules.append(finding.rule) }
        for rule in rules {
            let group = errors.filter { $0.rule == rule }
            let first = Self.shortened(group[0].message)
            out += "  \(rule.title): \(group.count)" + (group.count == 1 ? " — \(first)\n" : " (first: \(first))\n")
        }
        let warnings = findings.count - errors.count
        if warnings > 0 { out += "  and \(warnings) warning\(warnings == 1 ? "" : "s")\n" }
        out += "Details: \(details)\n"
        return out
    }

    /// Keeps one alert line readable in a mail client.
    static func shortened(_ message: String, limit: Int = 160) -> String {
        message.count <= limit ? message : String(message.prefix(limit - 1)) + "…"
    }
}
