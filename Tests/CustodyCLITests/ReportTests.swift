import CustodyCore
import CustodyReports
import Foundation
import Testing

/// Transparency and compliance reports over a ledger of known requests.
@Suite struct ReportTests {
    /// Nine requests with known outcomes; see the expectations below for the arithmetic.
    static let requests = """
        {"id":"R1","received_at":"2026-08-01T10:00:00+08:00","authority":"Court A","jurisdiction":"CN","legal_basis":"Civil Procedure Law art. 70","process_type":"court_order","scope":{"users":["u00010"],"start":"2026-09-10","end":"2026-11-18","data":["non_content"]},"due":"2026-08-10"}
        {"id":"R2","received_at":"2026-09-01T10:00:00+08:00","authority":"PSB B","jurisdiction":"CN","legal_basis":"Criminal Procedure Law art. 54","process_type":"criminal_evidence","scope":{"users":["u00011","u00012"],"start":"2026-09-10","end":"2026-11-18","data":["content","non_content"]},"due":"2026-09-08"}
        {"id":"R3","received_at":"2026-09-05T10:00:00+08:00","authority":"CAC","jurisdiction":"CN","legal_basis":"Administrative provisions art. 16","process_type":"administrative","scope":{"users":["u00013"],"start":"2026-09-10","end":"2026-11-18","data":["content"]}}
        {"id":"R4","received_at":"2026-10-01T10:00:00+08:00","authority":"Court A","jurisdiction":"CN","legal_basis":"Civil Procedure Law art. 70","process_type":"court_order","scope":{"users":["u99999"],"start":"2026-09-10","end":"2026-11-18","data":["content","non_content"]}}
        {"id":"R5","received_at":"2026-10-10T10:00:00+08:00","authority":"Hong Kong Police Force","jurisdiction":"HK","legal_basis":"Mutual legal assistance","process_type":"criminal_evidence","scope":{"users":["u00014"],"start":"2026-09-10","end":"2026-11-18","data":["non_content"]},"nondisclosure_until":"2026-12-01","foreign":true}
        {"id":"R6","received_at":"2026-10-20T10:00:00+08:00","authority":"Federal Bureau of Investigation","jurisdiction":"US","legal_basis":"Subpoena","process_type":"subpoena","scope":{"users":["u00015"],"start":"2026-09-10","end":"2026-11-18","data":["non_content"]},"nondisclosure_until":"2027-03-01","foreign":true}
        {"id":"R7","received_at":"2026-11-01T10:00:00+08:00","authority":"PSB C","jurisdiction":"CN","legal_basis":"Preservation notice","process_type":"preservation","scope":{"users":["u00016"],"start":"2026-09-10","end":"2026-11-18","data":["non_content"]}}
        {"id":"R8","received_at":"2026-11-02T10:00:00+08:00","authority":"PSB D","jurisdiction":"CN","legal_basis":"Emergency disclosure","process_type":"emergency","scope":{"users":["u00017"],"start":"2026-11-01","end":"2026-11-02","data":["non_content"]}}
        {"id":"R9","received_at":"2026-06-30T10:00:00+08:00","authority":"Outside Period Authority","jurisdiction":"CN","legal_basis":"Before the period","process_type":"court_order","scope":{"users":["u00018"],"start":"2026-09-10","end":"2026-11-18"}}
        """

    func prepare(_ fixture: StateFixture) throws {
        let file = try fixture.dir.write("requests.jsonl", Self.requests + "\n")
        func run(_ arguments: [String]) throws {
            let result = try CustodyProcess.run(["request", arguments[0], "--config", fixture.config] + arguments.dropFirst())
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }
        try run(["import", file])
        try run(["decide", "R1", "--all", "--produce", "--reason", "order", "--at", "2026-08-04T10:00:00+08:00"])
        try run(["produce", "R1", "--out", fixture.dir.path("p1"), "--at", "2026-08-05T10:00:00+08:00"])
        try run(["decide", "R2", "--user", "u00011", "--produce", "--reason", "named", "--at", "2026-09-11T10:00:00+08:00"])
        try run(["decide", "R2", "--user", "u00012", "--withhold", "--reason", "not named", "--at", "2026-09-11T10:00:00+08:00"])
        try run(["produce", "R2", "--out", fixture.dir.path("p2"), "--at", "2026-09-12T10:00:00+08:00"])
        try run(["decide", "R3", "--all", "--withhold", "--reason", "no basis", "--at", "2026-09-06T10:00:00+08:00"])
        try run(["decide", "R4", "--all", "--produce", "--reason", "order", "--at", "2026-10-06T10:00:00+08:00"])
        try run(["produce", "R4", "--out", fixture.dir.path("p4"), "--at", "2026-10-07T10:00:00+08:00"])
        try run(["decide", "R5", "--all", "--produce", "--reason", "MLA", "--at", "2026-10-12T10:00:00+08:00"])
        try run(["produce", "R5", "--out", fixture.dir.path("p5"), "--at", "2026-10-13T10:00:00+08:00"])
        try run(["decide", "R6", "--all", "--produce", "--reason", "subpoena", "--at", "2026-10-22T10:00:00+08:00"])
        try run(["produce", "R6", "--out", fixture.dir.path("p6"), "--at", "2026-10-23T10:00:00+08:00"])
        try run(["close", "R8", "--withdrawn", "--at", "2026-11-02T12:00:00+08:00"])
        try run(["acknowledge", "R2", "--at", "2026-09-01T16:00:00+08:00"])
        try run(["acknowledge", "R3", "--at", "2026-09-05T12:00:00+08:00"])
        try run(["acknowledge", "R5", "--at", "2026-10-10T20:00:00+08:00"])
    }

    func transparency(_ fixture: StateFixture, out: String, asOf: String = "2027-01-15", extra: [String] = []) throws -> [String: String] {
        let result = try CustodyProcess.run(
            [
                "report", "transparency", "--config", fixture.config, "--as-of", asOf,
                "--period", "2026H2", "--out", out,
            ] + extra)
        try #require(result.status == 0, "\(result.stderr)")
        var files: [String: String] = [:]
        for ext in ["md", "html", "json", "csv"] {
            files[ext] = try String(contentsOfFile: "\(out)/transparency-2026H2.\(ext)", encoding: .utf8)
        }
        return files
    }

    @Test func everyNumberOfTheTransparencyReport() throws {
        let fixture = try StateFixture.withSampleLogs()
        try prepare(fixture)
        let files = try transparency(fixture, out: fixture.dir.path("reports"))
        let json = try #require(JSONSerialization.jsonObject(with: Data(files["json"]!.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "custody.transparency.v2")
        #expect((json["period"] as? [String: Any])?["interim"] as? Bool == false)
        let totals = try #require(json["totals"] as? [String: Any])
        // R1 R2 R3 R4 R5 R7 R8 are visible (R6 is gagged, R9 before the period).
        #expect(totals["requests"] as? Int == 7)
        #expect(totals["accounts_specified"] as? Int == 8)
        #expect(totals["some_data_produced"] as? Int == 3)  // R1, R2, R5
        #expect(totals["percent_some_data_produced"] as? Int == 43)  // 3/7 = 42.86 %
        // Classified by what the packages held: R2's package has u00011's posts (content); R1 and
        // R5 asked for non-content only and got it.
        #expect(totals["content_produced"] as? Int == 1)
        #expect(totals["non_content_only_produced"] as? Int == 2)
        #expect(totals["rejected_or_challenged"] as? Int == 1)  // R3
        #expect(totals["no_data_found"] as? Int == 1)  // R4
        #expect(totals["withdrawn"] as? Int == 1)  // R8
        #expect(totals["preserved"] as? Int == 1)  // R7
        #expect(totals["pending"] as? Int == 0)
        let times = try #require(json["times"] as? [String: Any])
        #expect(times["median_hours_to_acknowledge"] as? Double == 6.0)  // 6 h, 2 h, 10 h
        #expect(times["median_days_to_decision"] as? Double == 3.0)  // 3, 10, 1, 5, 2 days
        #expect(times["median_days_to_give_effect"] as? Double == 5.0)  // 4, 11, 6, 3 days
        let requests = try #require(json["requests"] as? [String: Any])
        #expect(requests["preservation"] as? Int == 1)
        #expect(requests["emergency"] as? Int == 1)
        #expect(requests["asked_for_content"] as? Int == 3)
        #expect(requests["asked_for_non_content_only"] as? Int == 4)
        #expect(requests["cross_border"] as? Int == 1)
        #expect(requests["overdue"] as? Int == 1)
        let accounts = try #require(json["accounts"] as? [String: Any])
        #expect(accounts["affected"] as? Int == 3)
        let byProcess = try #require(json["by_process_type"] as? [[String: Any]])
        // Every process type keeps its row, preservation and emergency included, zeros too.
        #expect(
            byProcess.map { $0["key"] as? String ?? "" } == [
                "criminal_evidence", "administrative", "court_order", "subpoena", "emergency", "preservation", "other",
            ])
        func process(_ key: String) -> [String: Any]? { byProcess.first { $0["key"] as? String == key }?["counts"] as? [String: Any] }
        #expect(process("court_order")?["requests"] as? Int == 2)
        #expect(process("court_order")?["percent_some_data_produced"] as? Int == 50)
        #expect(process("court_order")?["no_data_found"] as? Int == 1)
        #expect(process("criminal_evidence")?["some_data_produced"] as? Int == 2)
        #expect(process("criminal_evidence")?["accounts_specified"] as? Int == 3)
        #expect(process("administrative")?["rejected_or_challenged"] as? Int == 1)
        #expect(process("subpoena")?["requests"] as? Int == 0)
        #expect(process("emergency")?["withdrawn"] as? Int == 1)
        #expect(process("preservation")?["preserved"] as? Int == 1)
        let byJurisdiction = try #require(json["by_jurisdiction"] as? [[String: Any]])
        #expect(
            byJurisdiction.map {
                "\($0["code"] as? String ?? ""):\($0["name"] as? String ?? ""):\(($0["counts"] as? [String: Any])?["requests"] as? Int ?? 0)"
            }
                == ["CN:China:6", "HK:Hong Kong SAR China:1"])
        let nondisclosure = try #require(json["nondisclosure"] as? [String: Any])
        #expect(nondisclosure["band"] as? String == "0–249")
        let ledger = try #require(json["ledger"] as? [String: Any])
        #expect((ledger["head_sha256"] as? String)?.count == 64)

        // The CSV: Google's seven columns, then the counts; one row per jurisdiction and process.
        let csvLines = files["csv"]!.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(
            csvLines.first
                == "Period Ending,Country,CLDR Territory Code,Legal Process,User Data Requests,Percentage of requests where some data produced,Users/Accounts Specified,"
                + "Requests where some data produced,Content produced,Non-content only produced,Rejected or challenged,No data found,Withdrawn,Preserved,Pending"
        )
        #expect(
            Array(csvLines.dropFirst()) == [
                "2026-12-31,China,CN,Administrative request,1,0,1,0,0,0,1,0,0,0,0",
                "2026-12-31,China,CN,Court order,2,50,2,1,0,1,0,1,0,0,0",
                "2026-12-31,China,CN,Criminal evidence collection,1,100,2,1,1,0,0,0,0,0,0",
                "2026-12-31,China,CN,Emergency request,1,0,1,0,0,0,0,0,1,0,0",
                "2026-12-31,China,CN,Preservation request,1,0,1,0,0,0,0,0,0,1,0",
                "2026-12-31,Hong Kong SAR China,HK,Criminal evidence collection,1,100,1,1,0,1,0,0,0,0,0",
            ])
        // Counts (not only percentages) per country and process in Markdown and HTML too.
        #expect(files["md"]!.contains("| China | Court order | 2 | 2 | 1 | 50 | 0 | 1 | 0 | 1 | 0 | 0 | 0 |"))
        #expect(
            files["html"]!.contains(
                "<th scope=\"row\">Hong Kong SAR China</th><td>HK</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">100</td>"
            ))
        // Definitions and the period in every format; nothing of the provider's own compliance.
        for (format, text) in files {
            #expect(text.contains("2026-12-31"), "period in \(format)")
            if format != "json" { #expect(!text.localizedCaseInsensitiveContains("interim"), "interim in \(format) of a finished period") }
            #expect(
                !text.contains("real identity") && !text.contains("violat") && !text.contains("Retention") && !text.contains("missing day"),
                "compliance data in \(format)")
            if format != "csv" {
                #expect(
                    text.contains("Non-disclosure bands") && text.contains("Some data produced") && text.contains("Account specified"),
                    "definitions in \(format)")
            }
        }

        // No user id and nothing of the gagged request in any format.
        for (format, text) in files {
            #expect(!text.contains("u000") && !text.contains("u999"), "user id in \(format)")
            #expect(!text.contains("Federal Bureau") && !text.contains("u00015"), "gagged request in \(format)")
            #expect(!text.contains("Outside Period"), "out-of-period request in \(format)")
        }
        // The HTML stands alone: no scripts, no external resources; tables and charts labelled.
        let html = files["html"]!
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"))
        #expect(html.contains("<th scope=\"col\">") && html.contains("<caption>") && html.contains("<title id="))

        // Same inputs, same bytes.
        let again = try transparency(fixture, out: fixture.dir.path("reports-again"))
        #expect(again == files)
    }

    @Test func aNondisclosureOrderThatEndsShowsTheRequest() throws {
        let fixture = try StateFixture.withSampleLogs()
        try prepare(fixture)
        // Before R5's order ends (2026-12-01) both foreign requests are banded.
        let before = try transparency(fixture, out: fixture.dir.path("before"), asOf: "2026-11-30")
        let json = try #require(JSONSerialization.jsonObject(with: Data(before["json"]!.utf8)) as? [String: Any])
        #expect((json["requests"] as? [String: Any])?["total"] as? Int == 6)
        #expect(!before["md"]!.contains("Hong Kong"))
        // After R6's order ends (2027-03-01) it appears too.
        let after = try transparency(fixture, out: fixture.dir.path("after"), asOf: "2027-03-01")
        let afterJSON = try #require(JSONSerialization.jsonObject(with: Data(after["json"]!.utf8)) as? [String: Any])
        #expect((afterJSON["requests"] as? [String: Any])?["total"] as? Int == 8)
        #expect(after["md"]!.contains("Federal Bureau of Investigation"))
    }

    @Test func bandWidthComesFromThePolicy() throws {
        let fixture = try StateFixture.withSampleLogs()
        var policy = try String(contentsOfFile: fixture.policy, encoding: .utf8)
        policy += "\nreporting:\n  nondisclosure_band_width: 10\n"
        let policyPath = try fixture.dir.write("policy.yaml", policy)
        try fixture.dir.write("custody.yaml", "sources:\n  - path: logs\npolicy: \(policyPath)\nstate_directory: state\n")
        try prepare(fixture)
        let files = try transparency(fixture, out: fixture.dir.path("r"))
        #expect(files["md"]!.contains("0–9"))
    }

    @Test func complianceReportPseudonymisesUnlessAsked() throws {
        let fixture = try StateFixture.withSampleLogs()
        let out = fixture.dir.path("c")
        let result = try CustodyProcess.run([
            "report", "compliance", "--config", fixture.config, "--as-of", "2026-11-19",
            "--period", "2026-09-10..2026-11-18", "--out", out,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/compliance-2026-09-10..2026-11-18.json")))
                as? [String: Any])
        let retention = try #require(json["retention"] as? [String: Any])
        #expect(retention["missing_days"] as? [String] == ["2026-10-03"])
        #expect(retention["days_with_records"] as? Int == 69)
        #expect((retention["early_deletions"] as? [String])?.isEmpty == true)
        let realName = try #require(json["real_name"] as? [String: Any])
        #expect(realName["violating_users"] as? Int == 8)
        #expect(realName["violating_events"] as? Int == 9)
        let byEvent = (realName["by_event"] as? [[String: Any]] ?? []).map { "\($0["event"] as? String ?? ""):\($0["count"] as? Int ?? 0)" }
        #expect(byEvent == ["post:8", "comment:1"])
        for ext in ["md", "html", "json", "csv"] {
            let text = try String(contentsOfFile: "\(out)/compliance-2026-09-10..2026-11-18.\(ext)", encoding: .utf8)
            #expect(!text.contains("u0000") && !text.contains("u09001"), "user id in \(ext)")
        }
        #expect(((realName["users"] as? [[String: Any]])?.first?["user"] as? String)?.hasPrefix("user-") == true)

        let revealed = try CustodyProcess.run([
            "report", "compliance", "--config", fixture.config, "--as-of", "2026-11-19",
            "--period", "2026-09-10..2026-11-18", "--out", out + "-ids", "--reveal-users", "--format", "md",
        ])
        #expect(revealed.status == 0)
        let md = try String(contentsOfFile: out + "-ids/compliance-2026-09-10..2026-11-18.md", encoding: .utf8)
        #expect(md.contains("u09001"))
    }

    /// Fail closed: publishes with no verification anywhere and a publish without a user do not
    /// read as "0 violations" in the compliance report; JSON, Markdown and HTML say so.
    @Test func complianceReportSaysWhenRealNameCannotBeJudged() throws {
        let fixture = try StateFixture()
        var lines = ""
        for day in 1...5 {
            lines += "{\"ts\":\"2026-11-0\(day)T10:00:00+08:00\",\"user\":\"u\(day)\",\"event\":\"post\"}\n"
        }
        lines += "{\"ts\":\"2026-11-05T11:00:00+08:00\",\"event\":\"post\"}\n"
        try fixture.append(lines, to: "app.jsonl")
        _ = try fixture.custody("run", asOf: "2026-11-06")
        let out = fixture.dir.path("c")
        let result = try CustodyProcess.run([
            "report", "compliance", "--config", fixture.config, "--as-of", "2026-11-06", "--period", "2026-11-01..2026-11-05",
            "--out", out,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let base = out + "/compliance-2026-11-01..2026-11-05"
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + ".json"))) as? [String: Any])
        let realName = try #require(json["real_name"] as? [String: Any])
        #expect((realName["not_evaluable"] as? String)?.contains("no accepted verification event") == true, "\(realName)")
        #expect(realName["anonymous_publishes"] as? Int == 1)
        let md = try String(contentsOfFile: base + ".md", encoding: .utf8)
        #expect(md.contains("cannot be judged") && md.contains("not a finding of compliance"), "\(md)")
        #expect(md.contains("1 publish event carried no user"))
        let html = try String(contentsOfFile: base + ".html", encoding: .utf8)
        #expect(html.contains("class=\"banner\"") && html.contains("cannot be judged"))
    }

    @Test func periodsParse() {
        #expect(ReportPeriodProbe.parse("2026H2") == "2026-07-01..2026-12-31")
        #expect(ReportPeriodProbe.parse("2026") == "2026-01-01..2026-12-31")
        #expect(ReportPeriodProbe.parse("2026Q1") == "2026-01-01..2026-03-31")
        #expect(ReportPeriodProbe.parse("2024Q1") == "2024-01-01..2024-03-31")
        #expect(ReportPeriodProbe.parse("2026-07-01..2026-12-31") == "2026-07-01..2026-12-31")
        #expect(ReportPeriodProbe.parse("2026H3") == nil)
        #expect(ReportPeriodProbe.parse("2026-12-31..2026-07-01") == nil)
    }

    @Test func badPeriodIsAUsageError() throws {
        let fixture = try StateFixture()
        let result = try CustodyProcess.run(["report", "transparency", "--config", fixture.config, "--period", "H2-2026"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--period"))
    }
}

enum ReportPeriodProbe {
    static func parse(_ text: String) -> String? {
        ReportPeriod(text).map { "\($0.first)..\($0.last)" }
    }
}
