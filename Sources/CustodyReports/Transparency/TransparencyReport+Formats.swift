import CustodyCore
import CustodyDisclosure
import Foundation

extension TransparencyReport {
    static let countHeaders = [
        "Requests", "Accounts specified", "Some data produced", "% some data produced", "Content produced",
        "Non-content only produced", "Rejected or challenged", "No data found", "Withdrawn", "Preserved", "Pending",
    ]
    static let timeHeaders = ["Median hours to acknowledge", "Median days to decision", "Median days to give effect"]

    func countCells(_ c: Counts) -> [String] {
        [
            c.requests, c.accountsSpecified, c.someDataProduced, c.percentSomeData, c.contentProduced, c.nonContentOnlyProduced,
            c.rejected, c.noDataFound, c.withdrawn, c.preserved, c.pending,
        ].map(String.init)
    }

    static func figure(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "—" }

    func timeCells(_ t: Timeline) -> [String] { [t.hoursToAcknowledge, t.daysToDecision, t.daysToGiveEffect].map(Self.figure) }

    var providerName: String { about.provider ?? "Provider not named (set reporting.provider in custody.yaml)" }
    var serviceName: String { about.service ?? "service not named (set reporting.service)" }

    var title: String {
        "\(about.provider ?? "Transparency report") — government requests for user data, \(period.label)\(isInterim ? " (interim)" : "")"
    }

    var periodStatement: String {
        "Period \(period.first) to \(period.last). "
            + (isInterim
                ? "INTERIM REPORT: the period has not ended; figures cover requests received up to \(coveredThrough) and will change."
                : "Final report for the period, as of \(asOf).")
    }

    var aboutStatement: String {
        "Published by \(providerName) for \(serviceName). Contact: \(about.contact ?? "not given (set reporting.contact)")."
    }

    var withheldNote: String {
        "Requests under a non-disclosure order that had not ended on \(asOf) are left out of every table and counted only in a band of \(bandWidth): \(withheldBand). They will appear in full once the order ends."
    }

    var ledgerNote: String {
        guard let ledgerHead, let ledgerSeq, let ledgerTime else { return "The request ledger was empty when this report was built." }
        return
            "Built from request ledger entry \(ledgerSeq) (recorded \(ledgerTime)), SHA-256 \(ledgerHead). The same ledger head gives the same report, byte for byte."
            + (signingKeyID.map {
                " The JSON edition is signed with Ed25519 key \($0): check it with custody report verify and the published public key."
            } ?? "")
    }

    /// What the words of the report mean.
    var definitions: [(term: String, meaning: String)] {
        [
            (
                "Request",
                "One demand from a government authority for user data, counted once in the period in which it was received, whatever the number of accounts it names. Preservation requests (keep records, hand nothing over) and emergency requests (risk to life or of serious harm) are requests of their own type and have their own rows."
            ),
            (
                "Account specified",
                "A distinct account named in a request. An account named in two requests of the same group counts once in that group."
            ),
            (
                "Some data produced",
                "At least one record of at least one account was handed over. Content: the package held what users published. Non-content only: it held only other records (registration, verification, logins, addresses). This follows what was produced, not what was asked for."
            ),
            ("Rejected or challenged", "The provider refused to produce anything for any account named, or challenged the request."),
            ("No data found", "The provider decided to produce, but held no record of the accounts in the time range asked for."),
            (
                "Withdrawn",
                "The authority withdrew the request before anything was produced. Withdrawn requests are counted apart from the other outcomes."
            ),
            ("Pending", "Received, under review, or decided and not yet produced on the day the report was built."),
            (
                "Response times",
                "Medians over the requests that reached each step: hours from receipt to informing the authority of receipt, days from receipt to the decision, and days from receipt to giving effect (handing the data over)."
            ),
            (
                "Non-disclosure bands",
                "Requests the provider is barred from disclosing (a non-disclosure order still in force) are not in any table. Their number is given only as a band of \(bandWidth) (for example 0–\(bandWidth - 1)), so that a single request cannot be identified; a band starting at 0 does not mean there were any."
            ),
            (
                "Stored data and real-time access",
                "A request for real-time access asks for communications as they happen (\(about.realTimeProcessTypes.isEmpty ? "no process type is marked real-time in this report" : about.realTimeProcessTypes.map { about.title(of: $0) }.joined(separator: ", "))); every other request asks for data already stored."
            ),
            (
                "Territory",
                "The jurisdiction of the requesting authority, by ISO 3166-1 code, named in English as the Unicode CLDR names it\(about.territoryNames.isEmpty ? "" : ", except where this provider names a territory its own way")."
            ),
        ]
    }

    static let defaultMethodology =
        "Every request is recorded when it is received, in a tamper-evident ledger, with the authority, its jurisdiction, the legal process and basis, and the accounts named. Decisions, hand-overs and closings are recorded as they happen. This report counts the requests received in the period from that ledger; each request appears in exactly one outcome column."

    var methodology: String { about.methodology ?? Self.defaultMethodology }

    // MARK: JSON

    public var json: JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func number(_ value: Double?) -> JSONValue { value.map { .double($0) } ?? .null }
        func counts(_ c: Counts) -> JSONValue {
            .object([
                ("requests", .int(c.requests)), ("accounts_specified", .int(c.accountsSpecified)),
                ("some_data_produced", .int(c.someDataProduced)), ("percent_some_data_produced", .int(c.percentSomeData)),
                ("content_produced", .int(c.contentProduced)), ("non_content_only_produced", .int(c.nonContentOnlyProduced)),
                ("rejected_or_challenged", .int(c.rejected)), ("no_data_found", .int(c.noDataFound)),
                ("withdrawn", .int(c.withdrawn)), ("preserved", .int(c.preserved)), ("pending", .int(c.pending)),
            ])
        }
        func times(_ t: Timeline) -> JSONValue {
            .object([
                ("median_hours_to_acknowledge", number(t.hoursToAcknowledge)), ("median_days_to_decision", number(t.daysToDecision)),
                ("median_days_to_give_effect", number(t.daysToGiveEffect)),
            ])
        }
        func rows(_ rs: [Row]) -> JSONValue {
            .array(
                rs.map {
                    .object([
                        ("key", .string($0.key)), ("label", .string($0.label)), ("counts", counts($0.counts)),
                        ("times", times($0.timeline)),
                    ])
                })
        }
        return .object([
            ("schema", .string("custody.transparency.v2")),
            ("provider", optional(about.provider)), ("service", optional(about.service)), ("contact", optional(about.contact)),
            (
                "period",
                .object([
                    ("label", .string(period.label)), ("start", .string(period.first.description)),
                    ("end", .string(period.last.description)),
                    ("interim", .bool(isInterim)), ("covered_through", .string(coveredThrough.description)),
                ])
            ),
            ("as_of", .string(asOf.description)),
            ("totals", counts(totals)),
            ("times", times(timeline)),
            (
                "requests",
                .object([
                    ("total", .int(totals.requests)), ("preservation", .int(totals.requests(of: byProcessType, .preservation))),
                    ("emergency", .int(totals.requests(of: byProcessType, .emergency))),
                    ("asked_for_content", .int(contentRequests)), ("asked_for_non_content_only", .int(nonContentOnlyRequests)),
                    ("cross_border", .int(crossBorderRequests)), ("overdue", .int(overdueRequests)),
                    ("stored_data", .int(storedDataRequests)), ("real_time", .int(realTimeRequests)),
                ])
            ),
            ("barred_from_disclosing", optional(about.barredFromDisclosing)),
            ("accounts", .object([("specified", .int(totals.accountsSpecified)), ("affected", .int(accountsAffected))])),
            ("by_process_type", rows(byProcessType)),
            (
                "by_jurisdiction",
                .array(
                    byJurisdiction.map {
                        .object([
                            ("code", .string($0.key)), ("name", .string($0.label)),
                            ("counts", counts($0.counts)), ("times", times($0.timeline)),
                        ])
                    })
            ),
            (
                "by_jurisdiction_and_process",
                .array(
                    byJurisdictionAndProcess.map {
                        .object([
                            ("code", .string($0.code)), ("name", .string(about.territoryName($0.code))),
                            ("process_type", .string($0.process.rawValue)),
                            ("process", .string($0.row.label)), ("counts", counts($0.row.counts)), ("times", times($0.row.timeline)),
                        ])
                    })
            ),
            ("by_authority", rows(byAuthority)),
            ("by_legal_basis", rows(byLegalBasis)),
            (
                "nondisclosure",
                .object([("band", .string(withheldBand)), ("band_width", .int(bandWidth)), ("note", .string(withheldNote))])
            ),
            ("definitions", .object(definitions.map { ($0.term, .string($0.meaning)) })),
            ("methodology", .string(methodology)),
            // What the counts depend on beyond the request records and the fields above, so that
            // `custody report verify --ledger` can recount them from a ledger export.
            (
                "basis",
                .object([
                    ("time_zone", optional(timeZone)),
                    ("real_time_process_types", .array(about.realTimeProcessTypes.map { .string($0.rawValue) })),
                    ("listed_territories", .array(about.listedTerritories.map { .string($0) })),
                ])
            ),
            (
                "ledger",
                .object([
                    ("seq", ledgerSeq.map { .int(Int($0)) } ?? .null), ("head_sha256", optional(ledgerHead)),
                    ("recorded_at", optional(ledgerTime)),
                ])
            ),
        ])
    }

    // MARK: CSV

    /// The seven columns of Google's user-data-requests CSV, exactly as Google names them, then
    /// the counts behind the percentage. One row per territory and legal process. An interim
    /// report says so in the Period Ending cell of every row.
    public static let googleHeaders = [
        "Period Ending", "Country", "CLDR Territory Code", "Legal Process", "User Data Requests",
        "Percentage of requests where some data produced", "Users/Accounts Specified",
    ]
    public static let countCSVHeaders = [
        "Requests where some data produced", "Content produced", "Non-content only produced",
        "Rejected or challenged", "No data found", "Withdrawn", "Preserved", "Pending",
    ]

    public var csv: String {
        let ending = isInterim ? "\(coveredThrough) (interim; period ends \(period.last))" : period.last.description
        var rows = [Self.googleHeaders + Self.countCSVHeaders]
        for entry in byJurisdictionAndProcess {
            let c = entry.row.counts
            rows.append(
                [
                    ending, about.territoryName(entry.code), entry.code, entry.row.label, String(c.requests), String(c.percentSomeData),
                    String(c.accountsSpecified),
                ]
                    + [
                        c.someDataProduced, c.contentProduced, c.nonContentOnlyProduced, c.rejected, c.noDataFound, c.withdrawn,
                        c.preserved, c.pending,
                    ].map(String.init))
        }
        // A listed territory with no request: one row of zeros for all legal processes.
        for row in byJurisdiction where row.counts.requests == 0 {
            rows.append([ending, row.label, row.key, "All", "0", "0", "0"] + Array(repeating: "0", count: Self.countCSVHeaders.count))
        }
        return CSV.render(rows)
    }

    // MARK: Markdown

    public var markdown: String {
        var md = "# \(Markdown.inline(title))\n\n"
        if isInterim {
            md += "> **Interim report.** \(Markdown.inline(periodStatement))\n\n"
        } else {
            md += "\(Markdown.inline(periodStatement))\n\n"
        }
        md += "\(Markdown.inline(aboutStatement))\n\n"
        md += "## Summary\n\n"
        md += Markdown.table(["", "Count"], summaryPairs.map { [$0.0, $0.1] })
        md += "\n## Requests by legal process\n\n"
        md += Markdown.table(
            ["Legal process"] + Self.countHeaders,
            byProcessType.map { [$0.label] + countCells($0.counts) } + [["All requests"] + countCells(totals)])
        md += "\n## Requests by country\n\n"
        md += Markdown.table(
            ["Country", "Code"] + Self.countHeaders, byJurisdiction.map { [$0.label, $0.key] + countCells($0.counts) }, numericFrom: 2)
        md += "\n## Requests by country and legal process\n\n"
        md += Markdown.table(
            ["Country", "Legal process"] + Self.countHeaders,
            byJurisdictionAndProcess.map { [about.territoryName($0.code), $0.row.label] + countCells($0.row.counts) }, numericFrom: 2)
        md += "\n## Response times\n\n"
        md += Markdown.table(
            ["Legal process"] + Self.timeHeaders,
            byProcessType.filter { $0.counts.requests > 0 }.map { [$0.label] + timeCells($0.timeline) } + [
                ["All requests"] + timeCells(timeline)
            ])
        md += "\n"
        md += Markdown.table(["Country"] + Self.timeHeaders, byJurisdiction.map { [$0.label] + timeCells($0.timeline) })
        md += "\n## Requests by authority\n\n"
        md += Markdown.table(
            ["Authority", "Requests", "Accounts specified", "Some data produced"],
            byAuthority.map {
                [$0.label, String($0.counts.requests), String($0.counts.accountsSpecified), String($0.counts.someDataProduced)]
            })
        md += "\n## Requests by legal basis\n\n"
        md += Markdown.table(["Legal basis", "Requests"], byLegalBasis.map { [$0.label, String($0.counts.requests)] })
        md += "\n## Requests under a non-disclosure order\n\n\(Markdown.inline(withheldNote))\n"
        if let barred = about.barredFromDisclosing { md += "\n\(Markdown.paragraph(barred))\n" }
        md += "\n## Definitions\n\n"
        for d in definitions { md += "- **\(Markdown.inline(d.term)).** \(Markdown.inline(d.meaning))\n" }
        md += "\n## Methodology\n\n\(Markdown.paragraph(methodology))\n"
        md += "\n## Integrity\n\n\(Markdown.inline(ledgerNote))\n"
        return md
    }

    var summaryPairs: [(String, String)] {
        [
            ("Requests received", String(totals.requests)),
            ("Requests for stored data", String(storedDataRequests)),
            ("Requests for real-time access", String(realTimeRequests)),
            ("Preservation requests", String(totals.requests(of: byProcessType, .preservation))),
            ("Emergency requests", String(totals.requests(of: byProcessType, .emergency))),
            ("Accounts specified", String(totals.accountsSpecified)),
            ("Accounts whose records were produced", String(accountsAffected)),
            ("Requests where some data was produced", "\(totals.someDataProduced) (\(totals.percentSomeData)%)"),
            ("… content produced", String(totals.contentProduced)),
            ("… non-content only produced", String(totals.nonContentOnlyProduced)),
            ("Rejected or challenged", String(totals.rejected)),
            ("No data found", String(totals.noDataFound)),
            ("Withdrawn by the authority", String(totals.withdrawn)),
            ("Cross-border requests (foreign authority)", String(crossBorderRequests)),
            ("Requests answered late or overdue", String(overdueRequests)),
            ("Median days from receipt to decision", Self.figure(timeline.daysToDecision)),
            ("Requests under a non-disclosure order (band)", withheldBand),
        ]
    }

    // MARK: HTML

    public var html: String {
        var page = HTMLPage(title: title)
        if isInterim {
            page.raw("<p class=\"banner\"><strong>Interim report.</strong> \(HTMLPage.escape(periodStatement))</p>")
        } else {
            page.paragraph(periodStatement, className: "meta")
        }
        page.paragraph(aboutStatement, className: "meta")
        page.heading("Summary")
        var list = "<ul class=\"summary\">"
        for (k, v) in summaryPairs { list += "<li><strong>\(HTMLPage.escape(v))</strong>\(HTMLPage.escape(k))</li>" }
        page.raw(list + "</ul>")
        page.heading("Requests by legal process")
        page.table(
            caption: "Requests by legal process and outcome (counts)", headers: ["Legal process"] + Self.countHeaders,
            rows: byProcessType.map { [$0.label] + countCells($0.counts) } + [["All requests"] + countCells(totals)])
        page.barChart(
            title: "Requests by legal process", bars: byProcessType.filter { $0.counts.requests > 0 }.map { ($0.label, $0.counts.requests) }
        )
        page.heading("Requests by country")
        page.table(
            caption: "Requests by country of the requesting authority (counts)", headers: ["Country", "Code"] + Self.countHeaders,
            rows: byJurisdiction.map { [$0.label, $0.key] + countCells($0.counts) }, numericFrom: 2)
        let top = byJurisdiction.prefix(15)
        page.barChart(
            title: byJurisdiction.count > top.count
                ? "Requests by country (the \(top.count) with most requests; all are in the table)" : "Requests by country",
            bars: top.map { ($0.label, $0.counts.requests) })
        page.heading("Requests by country and legal process")
        page.table(
            caption: "Requests by country and legal process (counts)", headers: ["Country", "Legal process"] + Self.countHeaders,
            rows: byJurisdictionAndProcess.map { [about.territoryName($0.code), $0.row.label] + countCells($0.row.counts) }, numericFrom: 2)
        page.heading("Response times")
        page.table(
            caption: "Median response times by legal process", headers: ["Legal process"] + Self.timeHeaders,
            rows: byProcessType.filter { $0.counts.requests > 0 }.map { [$0.label] + timeCells($0.timeline) } + [
                ["All requests"] + timeCells(timeline)
            ])
        page.table(
            caption: "Median response times by country", headers: ["Country"] + Self.timeHeaders,
            rows: byJurisdiction.map { [$0.label] + timeCells($0.timeline) })
        page.heading("Requests by authority")
        page.table(
            caption: "Requests by requesting authority", headers: ["Authority", "Requests", "Accounts specified", "Some data produced"],
            rows: byAuthority.map {
                [$0.label, String($0.counts.requests), String($0.counts.accountsSpecified), String($0.counts.someDataProduced)]
            })
        page.heading("Requests by legal basis")
        page.table(
            caption: "Requests by the legal basis cited", headers: ["Legal basis", "Requests"],
            rows: byLegalBasis.map { [$0.label, String($0.counts.requests)] })
        page.heading("Requests under a non-disclosure order")
        page.paragraph(withheldNote, className: "note")
        if let barred = about.barredFromDisclosing { for paragraph in barred.components(separatedBy: "\n\n") { page.paragraph(paragraph) } }
        page.heading("Definitions")
        page.raw(
            "<dl>" + definitions.map { "<dt>\(HTMLPage.escape($0.term))</dt><dd>\(HTMLPage.escape($0.meaning))</dd>" }.joined() + "</dl>")
        page.heading("Methodology")
        for paragraph in methodology.components(separatedBy: "\n\n") { page.paragraph(paragraph) }
        page.heading("Integrity")
        page.raw(
            "<p>\(HTMLPage.escape(ledgerNote).replacingOccurrences(of: ledgerHead ?? "\u{0}", with: "<code>\(ledgerHead ?? "")</code>"))</p>"
        )
        return page.render()
    }
}

extension TransparencyReport.Counts {
    /// Requests of one process type, from the per-process rows.
    func requests(of rows: [TransparencyReport.Row], _ type: ProcessType) -> Int {
        rows.first { $0.key == type.rawValue }?.counts.requests ?? 0
    }
}
