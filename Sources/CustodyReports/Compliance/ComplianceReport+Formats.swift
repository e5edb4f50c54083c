import CustodyCore
import Foundation

extension ComplianceReport {
    var title: String { "Compliance report \(period.label): retention and real-name registration" }

    /// Which violations the counts cover, for people.
    var realNameScope: String {
        "counting publish events with a time in the period (\(period.first) – \(min(period.last, asOf.adding(days: -1)))); `custody check` and `custody status` count all records read, and the retention window apart"
    }

    /// What the violation counts cannot show, for people: the rule could not be judged, or
    /// publishes carried no user. Empty when neither.
    var realNameCaveats: [String] {
        var lines: [String] = []
        if let notEvaluable {
            lines.append(
                "The real-name rule cannot be judged on what the state holds: \(notEvaluable). The counts below are not a finding of compliance."
            )
        }
        if anonymousPublishes > 0 {
            lines.append(
                "\(anonymousPublishes) publish event\(anonymousPublishes == 1 ? "" : "s") carried no user (over everything the state holds): nobody can be shown to have verified before publishing them."
            )
        }
        return lines
    }

    var usersNote: String {
        pseudonymised
            ? "Users are shown as keyed pseudonyms (HMAC-SHA256 with this state's key); pass --reveal-users to show ids."
            : "User ids are shown as logged."
    }

    public var json: JSONValue {
        .object([
            ("schema", .string("custody.compliance.v1")),
            (
                "period",
                .object([
                    ("label", .string(period.label)), ("start", .string(period.first.description)),
                    ("end", .string(period.last.description)),
                ])
            ),
            ("as_of", .string(asOf.description)), ("policy", .string(policyID)), ("timezone", .string(timeZone)),
            (
                "retention",
                .object([
                    ("minimum_days", .int(minimumDays)), ("days", .int(days.count)),
                    ("days_with_records", .int(days.count - missingDays.count)),
                    ("missing_days", .array(missingDays.map { .string($0.description) })),
                    ("early_deletions", .array(earlyDeletions.map { .string($0.description) })),
                    (
                        "by_day",
                        .array(
                            days.map {
                                .object([
                                    ("day", .string($0.day.description)), ("records", .int($0.records)),
                                    ("vault_copy", .bool($0.records > 0 && !$0.earlyDeletion)),
                                    ("violating_events", .int($0.violatingEvents)),
                                ])
                            })
                    ),
                ])
            ),
            (
                "real_name",
                .object([
                    // Unlike check and status (all records read), only publish events in the period count.
                    (
                        "scope",
                        .object([
                            ("records", .string("period")), ("first_day", .string(period.first.description)),
                            ("last_day", .string(min(period.last, asOf.adding(days: -1)).description)),
                        ])
                    ),
                    ("users_seen", .int(usersSeen)), ("verified_users", .int(verifiedUsers)),
                    ("violating_users", .int(users.count)), ("violating_events", .int(violatingEvents)),
                    ("anonymous_publishes", .int(anonymousPublishes)),
                    ("not_evaluable", notEvaluable.map { .string($0) } ?? .null),
                    ("by_event", .array(violationsByEvent.map { .object([("event", .string($0.event)), ("count", .int($0.count))]) })),
                    ("users_pseudonymised", .bool(pseudonymised)),
                    (
                        "users",
                        .array(
                            users.map {
                                .object([
                                    ("user", .string($0.name)), ("events", .int($0.events)),
                                    ("first_violation", .string($0.firstViolation)), ("verified_later", .bool($0.verified)),
                                ])
                            })
                    ),
                ])
            ),
        ])
    }

    public var csv: String {
        CSV.render(
            [["Day", "Records", "Vault copy", "Violating events"]]
                + days.map {
                    [
                        $0.day.description, String($0.records),
                        $0.records == 0 ? "no records" : $0.earlyDeletion ? "deleted early" : "kept", String($0.violatingEvents),
                    ]
                })
    }

    public var markdown: String {
        var md = "# \(title)\n\nPeriod \(period.first) – \(period.last) (\(timeZone)), as of \(asOf). Policy `\(policyID)`.\n\n"
        md += "## Retention\n\n"
        md +=
            "- \(days.count - missingDays.count) of \(days.count) days hold activity records (the policy asks for every one of the last \(minimumDays)).\n"
        md += "- Missing days: \(missingDays.isEmpty ? "none" : missingDays.map(\.description).joined(separator: ", ")).\n"
        md +=
            "- Early deletions (records ingested, vault copy gone): \(earlyDeletions.isEmpty ? "none" : earlyDeletions.map(\.description).joined(separator: ", ")).\n\n"
        md += "| Day | Records | Vault copy | Violating events |\n|---|---:|---|---:|\n"
        for d in days {
            md +=
                "| \(d.day) | \(d.records) | \(d.records == 0 ? "no records" : d.earlyDeletion ? "deleted early" : "kept") | \(d.violatingEvents) |\n"
        }
        md += "\n## Real-name registration\n\n"
        for caveat in realNameCaveats { md += "> **\(caveat)**\n\n" }
        md +=
            "- \(users.count) users published \(violatingEvents) times before verifying their real identity, \(realNameScope); \(verifiedUsers) of \(usersSeen) users are verified.\n\n"
        md += "| Event type | Violating events |\n|---|---:|\n"
        for e in violationsByEvent { md += "| \(e.event) | \(e.count) |\n" }
        if violationsByEvent.isEmpty { md += "| none | 0 |\n" }
        md += "\n\(usersNote)\n\n| User | Events | First violation | Verified later |\n|---|---:|---|---|\n"
        for u in users { md += "| \(u.name) | \(u.events) | \(u.firstViolation) | \(u.verified ? "yes" : "no") |\n" }
        return md
    }

    public var html: String {
        var page = HTMLPage(title: title)
        page.paragraph("Period \(period.first) – \(period.last) (\(timeZone)), as of \(asOf). Policy \(policyID).", className: "meta")
        page.heading("Retention")
        page.raw(
            "<ul class=\"summary\"><li><strong>\(days.count - missingDays.count) / \(days.count)</strong>days with records</li><li><strong>\(missingDays.count)</strong>missing days</li><li><strong>\(earlyDeletions.count)</strong>early deletions</li><li><strong>\(users.count)</strong>users published before verifying</li></ul>"
        )
        page.barChart(title: "Records per day", bars: days.map { ($0.day.description, $0.records) })
        page.table(
            caption: "Coverage day by day", headers: ["Day", "Records", "Vault copy", "Violating events"],
            rows: days.map {
                [
                    $0.day.description, String($0.records), $0.records == 0 ? "no records" : $0.earlyDeletion ? "deleted early" : "kept",
                    String($0.violatingEvents),
                ]
            })
        page.heading("Real-name registration")
        for caveat in realNameCaveats { page.paragraph(caveat, className: "banner") }
        page.paragraph(
            "\(users.count) users published \(violatingEvents) times before verifying their real identity, \(realNameScope.replacingOccurrences(of: "`", with: "")); \(verifiedUsers) of \(usersSeen) users are verified."
        )
        page.barChart(title: "Violating events by event type", bars: violationsByEvent.map { ($0.event, $0.count) })
        page.table(
            caption: "Violating events by event type", headers: ["Event type", "Violating events"],
            rows: violationsByEvent.map { [$0.event, String($0.count)] })
        page.paragraph(usersNote, className: "note")
        page.table(
            caption: "Users who published before verifying", headers: ["User", "Events", "First violation", "Verified later"],
            rows: users.map { [$0.name, String($0.events), $0.firstViolation, $0.verified ? "yes" : "no"] }, numericFrom: 1)
        return page.render()
    }
}
