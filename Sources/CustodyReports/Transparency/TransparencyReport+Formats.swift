import CustodyCore
import CustodyDisclosure
import Foundation

extension TransparencyReport {
    static let outcomeHeaders = ["Rejected", "No data", "Content disclosed", "Non-content disclosed", "Pending, withdrawn or preserved", "Total", "% with some data produced"]

    static func percent(_ value: Double) -> String { String(format: "%.1f", value) }

    func outcomeCells(_ o: Outcomes) -> [String] {
        [o.rejected, o.noData, o.contentDisclosed, o.nonContentDisclosed, o.other, o.total].map(String.init) + [Self.percent(o.percentSomeData)]
    }

    var title: String { "Transparency report \(period.label): government requests for user data" }

    var withheldNote: String {
        "Requests under a non-disclosure order that had not ended on \(asOf) are left out of every table above and counted only in a band of \(bandWidth): \(withheldBand). They will appear in full once the order ends."
    }

    var retentionNote: String {
        guard let keptSpan else { return "No activity records were kept for this period." }
        return "Activity records were kept for \(daysWithRecords) of the \(daysInPeriod) days from \(keptSpan.lowerBound) to \(keptSpan.upperBound)"
            + (missingDays.isEmpty ? "; no day is missing." : "; missing: \(missingDays.map(\.description).joined(separator: ", ")).")
    }

    var realNameNote: String {
        "Users who published before verifying their real identity: \(violatingUsers) of \(usersSeen) (\(violatingEvents) events); \(verifiedUsers) users verified."
    }

    var ledgerNote: String {
        guard let ledgerHead, let ledgerSeq, let ledgerTime else { return "The ledger was empty when this report was built." }
        return "Built from ledger entry \(ledgerSeq) (recorded \(ledgerTime)), SHA-256 \(ledgerHead). Anyone holding the ledger can check this report against it."
            + (signingKeyID.map { " The JSON edition is signed with Ed25519 key \($0): check it with custody report verify and the published public key." } ?? "")
    }

    // MARK: JSON

    public var json: JSONValue {
        func outcomeJSON(_ o: Outcomes) -> JSONValue {
            .object([("rejected", .int(o.rejected)), ("no_data", .int(o.noData)), ("content_disclosed", .int(o.contentDisclosed)),
                     ("non_content_disclosed", .int(o.nonContentDisclosed)), ("other", .int(o.other)), ("total", .int(o.total)),
                     ("some_data_produced", .int(o.someDataProduced)), ("percent_some_data_produced", .double((o.percentSomeData * 10).rounded() / 10))])
        }
        func groups(_ gs: [Group]) -> JSONValue {
            .array(gs.map { .object([("key", .string($0.key)), ("label", .string($0.label)), ("requests", .int($0.requests)),
                                     ("accounts_specified", .int($0.accountsSpecified)), ("outcomes", outcomeJSON($0.outcomes))]) })
        }
        return .object([
            ("schema", .string("custody.transparency.v1")),
            ("period", .object([("label", .string(period.label)), ("start", .string(period.first.description)), ("end", .string(period.last.description))])),
            ("as_of", .string(asOf.description)),
            ("policy", .string(policyID)),
            ("requests", .object([
                ("total", .int(totalRequests)), ("stored_data", .int(storedDataRequests)), ("preservation", .int(preservationRequests)),
                ("emergency", .int(emergencyRequests)), ("content", .int(contentRequests)), ("non_content_only", .int(nonContentOnlyRequests)),
                ("cross_border", .int(crossBorderRequests)), ("overdue", .int(overdueRequests)),
                ("median_days_to_decision", medianDaysToDecision.map { .double($0) } ?? .null),
            ])),
            ("accounts", .object([("specified", .int(accountsSpecified)), ("affected", .int(accountsAffected))])),
            ("outcomes", outcomeJSON(outcomes)),
            ("by_jurisdiction", groups(byJurisdiction)),
            ("by_authority", groups(byAuthority)),
            ("by_process_type", groups(byProcessType)),
            ("by_legal_basis", groups(byLegalBasis)),
            ("nondisclosure", .object([("band", .string(withheldBand)), ("band_width", .int(bandWidth)), ("note", .string(withheldNote))])),
            ("retention", .object([("span_start", keptSpan.map { .string($0.lowerBound.description) } ?? .null),
                                   ("span_end", keptSpan.map { .string($0.upperBound.description) } ?? .null),
                                   ("days_in_span", .int(daysInPeriod)), ("days_with_records", .int(daysWithRecords)),
                                   ("missing_days", .array(missingDays.map { .string($0.description) }))])),
            ("real_name", .object([("users_seen", .int(usersSeen)), ("verified_users", .int(verifiedUsers)),
                                   ("violating_users", .int(violatingUsers)), ("violating_events", .int(violatingEvents))])),
            ("ledger", .object([("seq", ledgerSeq.map { .int(Int($0)) } ?? .null), ("head_sha256", ledgerHead.map { .string($0) } ?? .null),
                                ("recorded_at", ledgerTime.map { .string($0) } ?? .null)])),
        ])
    }

    // MARK: CSV (the columns of Google's user-data-requests CSV)

    public var csv: String {
        var rows = [["Period Ending", "Country", "CLDR Territory Code", "Legal Process", "User Data Requests",
                     "Percentage of requests where some data produced", "Users/Accounts Specified"]]
        for row in byJurisdictionAndProcess {
            rows.append([period.last.description, Territories.name(row.code), row.code, row.process.title, String(row.group.requests),
                         Self.percent(row.group.outcomes.percentSomeData), String(row.group.accountsSpecified)])
        }
        return CSV.render(rows)
    }

    // MARK: Markdown

    public var markdown: String {
        var md = "# \(title)\n\n"
        md += "Period \(period.first) – \(period.last), as of \(asOf). Policy `\(policyID)`.\n\n"
        md += "## Summary\n\n"
        md += "| | |\n|---|---|\n"
        for (k, v) in summaryPairs { md += "| \(k) | \(v) |\n" }
        md += "\n## Outcomes by legal process\n\n"
        md += table(["Legal process"] + Self.outcomeHeaders, byProcessType.map { [$0.label] + outcomeCells($0.outcomes) } + [["All requests"] + outcomeCells(outcomes)])
        md += "\n## Requests by jurisdiction\n\n"
        md += table(["Jurisdiction", "Code", "Requests", "Accounts specified", "% with some data produced"],
                    byJurisdiction.map { [$0.label, $0.key, String($0.requests), String($0.accountsSpecified), Self.percent($0.outcomes.percentSomeData)] })
        md += "\n## Requests by authority\n\n"
        md += table(["Authority", "Requests", "Accounts specified"], byAuthority.map { [$0.label, String($0.requests), String($0.accountsSpecified)] })
        md += "\n## Requests by legal basis\n\n"
        md += table(["Legal basis", "Requests"], byLegalBasis.map { [$0.label, String($0.requests)] })
        md += "\n## Requests under a non-disclosure order\n\n\(withheldNote)\n"
        md += "\n## Retention and real-name registration\n\n"
        md += "- \(retentionNote)\n- \(realNameNote)\n"
        md += "\n## Integrity\n\n\(ledgerNote)\n"
        return md
    }

    var summaryPairs: [(String, String)] {
        [("Requests received", String(totalRequests)),
         ("Stored-data requests", String(storedDataRequests)),
         ("Preservation requests", String(preservationRequests)),
         ("Emergency requests", String(emergencyRequests)),
         ("Requests for content", String(contentRequests)),
         ("Requests for non-content only", String(nonContentOnlyRequests)),
         ("Cross-border requests (foreign authority)", String(crossBorderRequests)),
         ("Accounts specified", String(accountsSpecified)),
         ("Accounts affected (records produced)", String(accountsAffected)),
         ("Requests where some data was produced", "\(outcomes.someDataProduced) (\(Self.percent(outcomes.percentSomeData))%)"),
         ("Median days from receipt to decision", medianDaysToDecision.map { String(format: "%.1f", $0) } ?? "—"),
         ("Requests answered late or overdue", String(overdueRequests)),
         ("Requests under a non-disclosure order (band)", withheldBand)]
    }

    private func table(_ headers: [String], _ rows: [[String]]) -> String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var t = "| " + headers.map(esc).joined(separator: " | ") + " |\n"
        t += "|" + headers.enumerated().map { $0.offset == 0 ? "---" : "---:" }.joined(separator: "|") + "|\n"
        if rows.isEmpty { t += "| None in this period |" + String(repeating: " |", count: headers.count - 1) + "\n" }
        for row in rows { t += "| " + row.map(esc).joined(separator: " | ") + " |\n" }
        return t
    }

    // MARK: HTML

    public var html: String {
        var page = HTMLPage(title: title)
        page.paragraph("Period \(period.first) – \(period.last), as of \(asOf). Policy \(policyID).", className: "meta")
        page.heading("Summary")
        var list = "<ul class=\"summary\">"
        for (k, v) in summaryPairs { list += "<li><strong>\(HTMLPage.escape(v))</strong>\(HTMLPage.escape(k))</li>" }
        page.raw(list + "</ul>")
        page.heading("Outcomes by legal process")
        page.table(caption: "Requests by legal process and outcome", headers: ["Legal process"] + Self.outcomeHeaders,
                   rows: byProcessType.map { [$0.label] + outcomeCells($0.outcomes) } + [["All requests"] + outcomeCells(outcomes)])
        page.barChart(title: "Requests by legal process", bars: byProcessType.map { ($0.label, $0.requests) })
        page.heading("Requests by jurisdiction")
        page.table(caption: "Requests and accounts specified by jurisdiction", headers: ["Jurisdiction", "Code", "Requests", "Accounts specified", "% with some data produced"],
                   rows: byJurisdiction.map { [$0.label, $0.key, String($0.requests), String($0.accountsSpecified), Self.percent($0.outcomes.percentSomeData)] }, numericFrom: 2)
        page.barChart(title: "Requests by jurisdiction", bars: byJurisdiction.map { ($0.label, $0.requests) })
        page.heading("Requests by authority")
        page.table(caption: "Requests by requesting authority", headers: ["Authority", "Requests", "Accounts specified"],
                   rows: byAuthority.map { [$0.label, String($0.requests), String($0.accountsSpecified)] })
        page.heading("Requests by legal basis")
        page.table(caption: "Requests by the legal basis cited", headers: ["Legal basis", "Requests"], rows: byLegalBasis.map { [$0.label, String($0.requests)] })
        page.heading("Requests under a non-disclosure order")
        page.paragraph(withheldNote, className: "note")
        page.heading("Retention and real-name registration")
        page.paragraph(retentionNote)
        page.paragraph(realNameNote)
        page.heading("Integrity")
        page.raw("<p>\(HTMLPage.escape(ledgerNote).replacingOccurrences(of: ledgerHead ?? "\u{0}", with: "<code>\(ledgerHead ?? "")</code>"))</p>")
        return page.render()
    }
}
