/// A policy in plain words for `custody policy show`: what each rule asks, who set its numbers,
/// which texts it cites, and whether it is law today.
public enum PolicyDescription {
    public static func text(_ policy: Policy, file: String? = nil) -> String {
        let p = policy.provenance
        var out = "\(policy.id) — \(policy.title)\n"
        if let file { out += "file          \(file)\n" }
        out += "jurisdiction  \(policy.jurisdiction); calendar days in \(policy.timeZoneIdentifier)\n"
        out += "status        \(statusLine(p))\n"
        if let confidence = p.confidence { out += "confidence    \(confidence.rawValue) (how sure the citations and numbers are)\n" }

        out += "\nRules\n"
        let r = policy.retention
        if r.minimumDays > 0 {
            let period = r.minimumPeriod.map { " (the law says \"\($0)\")" } ?? ""
            out += "  retention   every calendar day of the last \(r.minimumDays) days holds records\(period)"
            out += " — \(basisWords(r.minimumBasis))\n"
            out += citations(policy, "retention.minimum_days")
        } else {
            out += "  retention   no minimum: the policy sets none\n"
        }
        if let location = r.storageLocation {
            out += "  location    records kept \(location) — not checked by Custody\n"
        }
        if let maximum = r.maximumDays {
            let severity = r.maximumBasis == .law || r.maximumBasis == .provider ? "an error" : "a warning"
            out += "  maximum     records older than \(maximum) days are over-retained (\(severity); custody purge proposes deleting them)"
            out += " — \(basisWords(r.maximumBasis))\n"
            out += citations(policy, "retention.maximum_days")
        }
        let n = policy.realName
        if n.publishEvents.isEmpty && n.acceptedMethods.isEmpty {
            out += "  real name   no real-name rule\n"
        } else {
            let methods = n.acceptedMethods.isEmpty ? "no accepted method" : n.acceptedMethods.joined(separator: " or ")
            let events = n.publishEvents.isEmpty ? "nothing" : n.publishEvents.joined(separator: ", ")
            out += "  real name   users verify their real identity (\(methods)) before they publish (\(events))\n"
            out += citations(policy, "real_name")
        }
        if let hold = policy.preservation {
            let renewals =
                hold.renewals == 0
                ? "not renewable" : "renewable \(times(hold.renewals)) for \(hold.renewalDays) days (at most \(hold.longestDays) days)"
            out += "  preservation  a preservation request holds records \(hold.holdDays) days, \(renewals)\n"
            out += citations(policy, "preservation")
        }

        out += "\nSources\n"
        if p.sources.isEmpty { out += "  none given (custody policy lint warns)\n" }
        for (index, source) in p.sources.enumerated() {
            out += "  \(index + 1). \(source.citation)\n"
        }
        if let notes = p.notes {
            out += "\nNotes\n  \(notes)\n"
        }
        return out
    }

    static func statusLine(_ p: Policy.Provenance) -> String {
        var parts: [String] = []
        switch p.status {
        case .inForce?: parts.append("in force" + (p.effectiveFrom.map { " since \($0)" } ?? ""))
        case .repealed?:
            parts.append("REPEALED" + (p.repealedOn.map { " on \($0)" } ?? ""))
            if let from = p.effectiveFrom { parts.append("in force from \(from)") }
        case .proposed?: parts.append("PROPOSED, not law" + (p.effectiveFrom.map { "; would apply from \($0)" } ?? ""))
        case nil: parts.append("not stated" + (p.effectiveFrom.map { "; from \($0)" } ?? ""))
        }
        if p.status != .repealed, let repealed = p.repealedOn { parts.append("repealed on \(repealed)") }
        if let successor = p.supersededBy { parts.append("superseded by \(successor)") }
        return parts.joined(separator: "; ")
    }

    static func basisWords(_ basis: RetentionBasis?) -> String {
        basis?.phrase ?? "basis not stated"
    }

    private static func citations(_ policy: Policy, _ rule: String) -> String {
        policy.provenance.sources.filter { $0.supports.contains(rule) }
            .map { "              cites \($0.title)\($0.article.map { ", \($0)" } ?? "")\n" }
            .joined()
    }

    private static func times(_ n: Int) -> String { n == 1 ? "once" : "\(n) times" }
}
