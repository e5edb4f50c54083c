import Foundation

extension CheckReport {
    /// The `custody.check.v1` document described in the contract.
    public var json: JSONValue { .object(jsonMembers(findings: .array(findings.map(\.json)))) }

    /// Writes `json.rendered()` to `emit` in pieces, a window of findings at a time: the same
    /// text, without the whole report as one value and one string (with a finding for each of
    /// hundreds of thousands of users, about a kilobyte each). With many findings, a window's
    /// are written on several threads, each into its own text, then appended in order: this
    /// runs after the last file was read, with the other cores idle.
    public func writeJSON(to emit: (String) -> Void) {
        let findings = findings
        let threads = Self.findingThreads(findings.count)
        JSONValue.writePretty(
            object: jsonMembers(findings: .array([])), streaming: "findings", count: findings.count,
            window: threads * 2_048,
            writeItems: { range, out in
                guard threads > 1 && range.count >= 2 * threads else {
                    Self.writeFindings(findings, range, into: &out)
                    return
                }
                var parts = [JSONText](repeating: JSONText(), count: threads)
                parts.withUnsafeMutableBufferPointer { parts in
                    // Each part is written by one thread only, and read after they all finished.
                    nonisolated(unsafe) let parts = parts
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        let lower = range.lowerBound + range.count * t / threads
                        let upper = range.lowerBound + range.count * (t + 1) / threads
                        Self.writeFindings(findings, lower..<upper, into: &parts[t])
                    }
                }
                for part in parts { out.append(part) }
            }, to: emit)
    }

    /// Findings `range` as items of the report's `findings` array.
    private static func writeFindings(_ findings: [Finding], _ range: Range<Int>, into out: inout JSONText) {
        // Each finding is written in place (a subscript of the array itself copied it, a retain
        // and a release for each of its strings).
        findings.withUnsafeBufferPointer { findings in
            for j in range {
                out.startItem(j)
                findings[j].write(into: &out, indent: 2)
            }
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
