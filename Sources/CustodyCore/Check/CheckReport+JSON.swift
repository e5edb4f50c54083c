extension CheckReport {
    /// The `custody.check.v1` document described in the contract.
    public var json: JSONValue { .object(jsonMembers(findings: .array(findings.map(\.json)))) }

    /// Writes `json.rendered()` to `emit` in pieces, one finding at a time: the same text,
    /// without the whole report as one value and one string (with a finding for each of
    /// hundreds of thousands of users, about a kilobyte each).
    public func writeJSON(to emit: (String) -> Void) {
        // Each finding is written in place (a subscript of the array itself copied it, a retain
        // and a release for each of its strings).
        findings.withUnsafeBufferPointer { findings in
            JSONValue.writePretty(
                object: jsonMembers(findings: .array([])), streaming: "findings", count: findings.count,
                writeItem: { findings[$0].write(into: &$1, indent: 2) }, to: emit)
        }
    }

    private func jsonMembers(findings: JSONValue) -> [(String, JSONValue)] {
        [
            ("schema", .string("custody.check.v1")),
            ("policy", .string(policyID)),
            ("as_of", .string(asOf.description)),
            ("since", since.map { .string($0.description) } ?? .null),
            ("timezone", .string(timeZone)),
            (
                "inputs",
                .object([
                    ("files", .int(inputs.files)),
                    ("records", .int(inputs.records)),
                    ("rejected_lines", .int(inputs.rejectedLines)),
                    ("unreadable_files", .int(inputs.unreadableFiles)),
                ])
            ),
            (
                "retention",
                .object([
                    ("minimum_days", .int(retention.minimumDays)),
                    ("window_start", .string(retention.windowStart.description)),
                    ("window_end", .string(retention.windowEnd.description)),
                    ("covered_days", .int(retention.coveredDays)),
                    ("exempt_days", .int(retention.exemptDays)),
                    ("missing_days", .array(retention.missingDays.map { .string($0.description) })),
                    ("compliant", .bool(retention.compliant)),
                ])
            ),
            (
                "real_name",
                .object([
                    // What the counts below cover: every record read, whatever its day.
                    (
                        "scope",
                        .object([
                            ("records", .string("all_read")),
                            ("first_day", recordDays.map { .string($0.lowerBound.description) } ?? .null),
                            ("last_day", recordDays.map { .string($0.upperBound.description) } ?? .null),
                        ])
                    ),
                    ("users_seen", .int(realName.usersSeen)),
                    ("verified_users", .int(realName.verifiedUsers)),
                    ("violating_users", .int(realName.violatingUsers.count)),
                    ("violating_events", .int(realName.violatingEvents)),
                    (
                        "in_retention_window",
                        realName.inRetentionWindow.map { window in
                            .object([
                                ("first_day", .string(retention.windowStart.description)),
                                ("last_day", .string(retention.windowEnd.description)),
                                ("violating_users", .int(window.users)), ("violating_events", .int(window.events)),
                            ])
                        } ?? .null
                    ),
                    ("anonymous_publishes", .int(realName.anonymousPublishes)),
                    ("not_evaluable", realName.notEvaluable.map { .string($0) } ?? .null),
                    ("compliant", .bool(realName.compliant)),
                ])
            ),
            ("findings", findings),
            ("compliant", .bool(compliant)),
        ]
    }
}
