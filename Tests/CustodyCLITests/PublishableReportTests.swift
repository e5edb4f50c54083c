import CustodyCore
import Foundation
import GRDB
import Testing

/// The transparency report as a legal team publishes it, the request timeline, bulk steps and
/// the DSA template, on small ledgers of known requests.
@Suite struct PublishableReportTests {
    static let reporting = """
        reporting:
          provider: Example Network Technology Co., Ltd.
          service: Example Social
          contact: transparency@example.com
          territory_names:
            TW: Taiwan, China
          process_types:
            pen_register: Pen register order
            wiretap: Wiretap order
          real_time_process_types: [wiretap, pen_register]
          listed_territories: [AR, US]
          barred_from_disclosing: National security demands cannot be reported here.
        """

    /// Requests that need no logs to be decided or closed.
    static let requests = """
        {"id":"A1","received_at":"2026-07-02T10:00:00+08:00","authority":"Court A","jurisdiction":"US","legal_basis":"18 U.S.C. 3123","process_type":"pen_register","scope":{"users":["u1","u2"],"start":"2026-06-01","end":"2026-06-30"}}
        {"id":"A2","received_at":"2026-07-03T10:00:00+08:00","authority":"Court B","jurisdiction":"US","legal_basis":"18 U.S.C. 2518","process_type":"wiretap","scope":{"users":["u3"],"start":"2026-06-01","end":"2026-06-30"}}
        {"id":"A3","received_at":"2026-07-04T10:00:00+08:00","authority":"Police # 1 | <b>x</b> [link](y) `c`","jurisdiction":"TW","legal_basis":"Art. 1","process_type":"court_order","scope":{"users":["u4"],"start":"2026-06-01","end":"2026-06-30"}}
        """

    func fixture(extra: String = reporting) throws -> StateFixture {
        let fixture = try StateFixture(extraConfig: extra)
        let file = try fixture.dir.write("requests.jsonl", Self.requests + "\n")
        let result = try CustodyProcess.run(["request", "import", "--config", fixture.config, file])
        try #require(result.status == 0, "\(result.stderr)")
        return fixture
    }

    func report(_ fixture: StateFixture, asOf: String, extra: [String] = []) throws -> [String: String] {
        let out = fixture.dir.path("r-\(asOf)-\(extra.count)")
        let result = try CustodyProcess.run(
            ["report", "transparency", "--config", fixture.config, "--as-of", asOf, "--period", "2026H2", "--out", out] + extra)
        try #require(result.status == 0, "\(result.stderr)")
        var files: [String: String] = [:]
        for ext in ["md", "html", "json", "csv"] {
            files[ext] = try String(contentsOfFile: "\(out)/transparency-2026H2.\(ext)", encoding: .utf8)
        }
        return files
    }

    @Test func providerNamesTypesAndTerritoriesComeFromTheConfiguration() throws {
        let fixture = try fixture()
        let files = try report(fixture, asOf: "2027-01-10")
        for (format, text) in files where format != "csv" {
            #expect(
                text.contains("Example Network Technology Co., Ltd.") && text.contains("transparency@example.com"), "provider in \(format)")
        }
        // The provider's own process types, each on its own row, named its way; TW named its way.
        let csv = files["csv"]!.components(separatedBy: "\r\n")
        #expect(csv.contains("2026-12-31,\"Taiwan, China\",TW,Court order,1,0,1,0,0,0,0,0,0,0,1"))
        #expect(csv.contains("2026-12-31,United States,US,Pen register order,1,0,2,0,0,0,0,0,0,0,1"))
        #expect(csv.contains("2026-12-31,United States,US,Wiretap order,1,0,1,0,0,0,0,0,0,0,1"))
        // A listed territory with no request keeps its row of zeros; a listed one with requests is not doubled.
        #expect(csv.contains("2026-12-31,Argentina,AR,All,0,0,0,0,0,0,0,0,0,0,0"))
        #expect(!csv.contains(",US,All,"))
        #expect(files["md"]!.contains("| Argentina | AR | 0 | 0 |"))
        #expect(files["md"]!.contains("| Pen register order | 1 | 2 |") && files["md"]!.contains("| Wiretap order | 1 | 1 |"))
        #expect(files["html"]!.contains("Taiwan, China") && !files["html"]!.contains(">Taiwan<"))
        // Stored data vs real-time access, and what the provider may not disclose (RDR P11a).
        let json = try #require(JSONSerialization.jsonObject(with: Data(files["json"]!.utf8)) as? [String: Any])
        #expect((json["requests"] as? [String: Any])?["stored_data"] as? Int == 1)
        #expect((json["requests"] as? [String: Any])?["real_time"] as? Int == 2)
        #expect(files["md"]!.contains("| Requests for real-time access | 2 |"))
        for format in ["md", "html", "json"] {
            #expect(files[format]!.contains("National security demands cannot be reported here."), "\(format)")
        }
        // A type nobody declared is refused at intake, naming the known ones.
        let bad = try fixture.dir.write(
            "bad.jsonl",
            Self.requests.replacingOccurrences(of: "\"A1\"", with: "\"B1\"")
                .replacingOccurrences(of: "pen_register", with: "trap_and_trace").components(separatedBy: "\n")[0] + "\n")
        let refused = try CustodyProcess.run(["request", "import", "--config", fixture.config, bad])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("bad.jsonl:1: unknown process_type 'trap_and_trace'") && refused.stderr.contains("wiretap"))
    }

    @Test func anAboutFileReplacesTheConfigurationSection() throws {
        let fixture = try fixture()
        let about = try fixture.dir.write(
            "about.yaml",
            "provider: Other Provider Ltd\nservice: Other\ncontact: legal@other.example\nterritory_names:\n  TW: Chinese Taipei\nprocess_types:\n  pen_register: PR\n  wiretap: WT\n"
        )
        let files = try report(fixture, asOf: "2027-01-10", extra: ["--about", about])
        #expect(files["md"]!.contains("Other Provider Ltd") && !files["md"]!.contains("Example Network"))
        #expect(files["csv"]!.contains("Chinese Taipei,TW") && files["csv"]!.contains(",PR,"))
    }

    @Test func theReportConfigurationIsReadStrictly() throws {
        let fixture = try fixture()
        try fixture.dir.write(
            "custody.yaml",
            "sources:\n  - path: logs\npolicy: \(fixture.policy)\nstate_directory: state\nreporting:\n  provider: X\n  provder: Y\n")
        let result = try CustodyProcess.run([
            "report", "transparency", "--config", fixture.config, "--period", "2026H2", "--out", fixture.dir.path("o"),
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("custody.yaml:7: reporting.provder: unknown key"), "\(result.stderr)")
        // Every command that reads the file says so (run and verify accepted it).
        for command in [["run"], ["verify"], ["status"], ["request", "list"]] {
            let other = try CustodyProcess.run(command + ["--config", fixture.config])
            #expect(other.status == 2, "\(command): \(other.stderr)")
            #expect(other.stderr.contains("reporting.provder: unknown key"), "\(command): \(other.stderr)")
        }
        try fixture.dir.write(
            "custody.yaml", "sources:\n  - path: logs\npolicy: \(fixture.policy)\nstate_directory: state\nreporting:\n  provider: X\n")
        let realTime = try fixture.dir.write("rt.yaml", "real_time_process_types: [tap]\n")
        let unknown = try CustodyProcess.run([
            "report", "transparency", "--config", fixture.config, "--about", realTime, "--period", "2026H2", "--out", fixture.dir.path("o"),
        ])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("rt.yaml:1: real_time_process_types: 'tap' is neither"), "\(unknown.stderr)")
        let about = try fixture.dir.write("about.yaml", "process_types:\n  Pen-Register: x\n")
        let typed = try CustodyProcess.run([
            "report", "transparency", "--config", fixture.config, "--about", about, "--period", "2026H2", "--out", fixture.dir.path("o"),
        ])
        #expect(typed.status == 2)
        #expect(typed.stderr.contains("about.yaml:2: process_types.Pen-Register:"), "\(typed.stderr)")
    }

    @Test func anUnfinishedPeriodIsInterimInEveryFormat() throws {
        let fixture = try fixture()
        let files = try report(fixture, asOf: "2026-11-19")
        #expect(files["md"]!.contains("> **Interim report.**"))
        #expect(files["html"]!.contains("<strong>Interim report.</strong>"))
        #expect(files["html"]!.contains("<title>") && files["html"]!.contains("(interim)</title>"))
        let json = try #require(JSONSerialization.jsonObject(with: Data(files["json"]!.utf8)) as? [String: Any])
        let period = try #require(json["period"] as? [String: Any])
        #expect(period["interim"] as? Bool == true)
        #expect(period["covered_through"] as? String == "2026-11-18")
        let rows = files["csv"]!.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
        #expect(rows.count == 4)  // three territories and processes with requests, and the listed AR
        #expect(rows.allSatisfy { $0.hasPrefix("2026-11-18 (interim; period ends 2026-12-31),") })
    }

    @Test func untrustedNamesAreEscapedInMarkdown() throws {
        let fixture = try fixture()
        let md = try report(fixture, asOf: "2027-01-10")["md"]!
        #expect(md.contains("| Police # 1 \\| \\<b\\>x\\</b\\> \\[link\\](y) \\`c\\` (TW) |"))
        #expect(!md.contains("<b>"))
    }

    @Test func noStepMayBeDatedBeforeReceipt() throws {
        let fixture = try fixture()
        func custody(_ arguments: [String]) throws -> CustodyProcess.Result {
            try CustodyProcess.run(["request", arguments[0], "--config", fixture.config] + arguments.dropFirst())
        }
        let early = "2026-07-01T10:00:00+08:00"
        for step in [
            ["decide", "A3", "--all", "--withhold", "--reason", "r", "--at", early], ["acknowledge", "A3", "--at", early],
            ["close", "A3", "--withdrawn", "--at", early],
        ] {
            let result = try custody(step)
            #expect(result.status == 2, "\(step)")
            #expect(result.stderr.contains("is before the request was received (2026-07-04T10:00:00+08:00)"), "\(step): \(result.stderr)")
        }
        let added = try custody([
            "add", "--id", "A4", "--received", "2026-07-04T10:00:00+08:00", "--acknowledged", "2026-07-04T09:59:59+08:00",
            "--authority", "X", "--jurisdiction", "US", "--legal-basis", "b", "--process-type", "subpoena",
            "--user", "u9", "--from", "2026-06-01", "--to", "2026-06-02",
        ])
        #expect(added.status == 2)
        #expect(added.stderr.contains("acknowledged_at '2026-07-04T09:59:59+08:00' is before the request was received"))
        // The refused steps left nothing: A3 is still received, and a later decision works.
        #expect(try custody(["decide", "A3", "--all", "--withhold", "--reason", "r", "--at", "2026-07-05T10:00:00+08:00"]).status == 0)
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(try report(fixture, asOf: "2027-01-10")["json"]!.utf8)) as? [String: Any])
        #expect((json["times"] as? [String: Any])?["median_days_to_decision"] as? Double == 1.0)
    }

    @Test func decisionsAndClosingsImportInBulkAllOrNothing() throws {
        let fixture = try fixture()
        let bad = try fixture.dir.write(
            "decisions.jsonl",
            """
            {"request":"A1","produce":false,"reason":"not valid","at":"2026-07-05T10:00:00+08:00"}

            {"request":"A9","produce":true,"reason":"x","at":"2026-07-05T10:00:00+08:00"}
            """)
        let refused = try CustodyProcess.run(["request", "decide", "--config", fixture.config, "--file", bad])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("decisions.jsonl:3: unknown request id 'A9'; nothing decided"), "\(refused.stderr)")
        let list = try CustodyProcess.run(["request", "list", "--config", fixture.config, "--status", "received"])
        #expect(list.stdout.contains("A1"))

        let good = try fixture.dir.write(
            "decisions2.jsonl",
            """
            {"request":"A1","users":["u1"],"produce":false,"reason":"not named","at":"2026-07-05T10:00:00+08:00"}
            {"request":"A1","users":["u2"],"produce":false,"reason":"not named","at":"2026-07-06T10:00:00+08:00"}
            {"request":"A2","produce":false,"reason":"no basis","at":"2026-07-08T10:00:00+08:00"}
            """)
        let decided = try CustodyProcess.run(["request", "decide", "--config", fixture.config, "--file", good])
        #expect(decided.status == 0, "\(decided.stderr)")
        #expect(decided.stdout.contains("decisions recorded for 2 requests"))
        let closings = try fixture.dir.write(
            "closings.jsonl",
            """
            {"request":"A1","at":"2026-07-09T10:00:00+08:00"}
            {"request":"A3","withdrawn":true,"at":"2026-07-09T10:00:00+08:00"}
            {"request":"A2","at":"2026-07-02T10:00:00+08:00"}
            """)
        let badClose = try CustodyProcess.run(["request", "close", "--config", fixture.config, "--file", closings])
        #expect(badClose.status == 2)
        #expect(
            badClose.stderr.contains("closings.jsonl:3: the closing time") && badClose.stderr.contains("nothing closed"),
            "\(badClose.stderr)")
        try fixture.dir.write(
            "closings.jsonl",
            "{\"request\":\"A1\",\"at\":\"2026-07-09T10:00:00+08:00\"}\n{\"request\":\"A3\",\"withdrawn\":true,\"at\":\"2026-07-09T10:00:00+08:00\"}\n"
        )
        #expect(try CustodyProcess.run(["request", "close", "--config", fixture.config, "--file", closings]).status == 0)
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(try report(fixture, asOf: "2027-01-10")["json"]!.utf8)) as? [String: Any])
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["rejected_or_challenged"] as? Int == 2)
        #expect(totals["withdrawn"] as? Int == 1)
        #expect((json["times"] as? [String: Any])?["median_days_to_decision"] as? Double == 4.5)  // A1 4 days, A2 5 days
    }

    /// u00004 published nothing between 10 and 19 October: a request for content and non-content
    /// answered with their other records is "non-content only", whatever was asked.
    @Test func contentIsClassifiedByWhatWasProduced() throws {
        let fixture = try StateFixture.withSampleLogs()
        let file = try fixture.dir.write(
            "c.jsonl",
            """
            {"id":"C1","received_at":"2026-10-20T10:00:00+08:00","authority":"Court","jurisdiction":"CN","legal_basis":"b","process_type":"court_order","scope":{"users":["u00004"],"start":"2026-10-10","end":"2026-10-19","data":["content","non_content"]}}

            """)
        for step in [
            ["import", file], ["decide", "C1", "--all", "--produce", "--reason", "r", "--at", "2026-10-21T10:00:00+08:00"],
            ["produce", "C1", "--out", fixture.dir.path("p"), "--at", "2026-10-22T10:00:00+08:00"],
        ] {
            let result = try CustodyProcess.run(["request", step[0], "--config", fixture.config] + step.dropFirst())
            try #require(result.status == 0, "\(step): \(result.stderr)")
        }
        let manifest = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.dir.path("p/manifest.json"))))
                as? [String: Any])
        #expect((manifest["records"] as? Int ?? 0) >= 3)
        let json = try #require(
            JSONSerialization.jsonObject(with: Data(try report(fixture, asOf: "2027-01-10")["json"]!.utf8)) as? [String: Any])
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["some_data_produced"] as? Int == 1)
        #expect(totals["content_produced"] as? Int == 0)
        #expect(totals["non_content_only_produced"] as? Int == 1)
    }

    @Test func oneCommandProducesEveryDecidedRequest() throws {
        let fixture = try StateFixture.withSampleLogs()
        let file = try fixture.dir.write(
            "c.jsonl",
            """
            {"id":"P1","received_at":"2026-10-20T10:00:00+08:00","authority":"Court","jurisdiction":"CN","legal_basis":"b","process_type":"court_order","scope":{"users":["u00004"],"start":"2026-10-10","end":"2026-10-19"}}
            {"id":"P2","received_at":"2026-10-20T10:00:00+08:00","authority":"Court","jurisdiction":"CN","legal_basis":"b","process_type":"court_order","scope":{"users":["u00011"],"start":"2026-10-10","end":"2026-10-19"}}
            {"id":"P3","received_at":"2026-10-20T10:00:00+08:00","authority":"Court","jurisdiction":"CN","legal_basis":"b","process_type":"court_order","scope":{"users":["u00012"],"start":"2026-10-10","end":"2026-10-19"}}

            """)
        let decisions = try fixture.dir.write(
            "d.jsonl",
            """
            {"request":"P1","produce":true,"reason":"r","at":"2026-10-21T10:00:00+08:00"}
            {"request":"P2","produce":true,"reason":"r","at":"2026-10-21T10:00:00+08:00"}
            {"request":"P3","produce":false,"reason":"r","at":"2026-10-21T10:00:00+08:00"}
            """)
        for step in [
            ["import", file], ["decide", "--file", decisions],
            ["produce", "--decided", "--out", fixture.dir.path("out"), "--at", "2026-10-22T10:00:00+08:00"],
        ] {
            let result = try CustodyProcess.run(["request", step[0], "--config", fixture.config] + step.dropFirst())
            try #require(result.status == 0, "\(step): \(result.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: fixture.dir.path("out/P1/manifest.json")))
        #expect(FileManager.default.fileExists(atPath: fixture.dir.path("out/P2/manifest.json")))
        #expect(!FileManager.default.fileExists(atPath: fixture.dir.path("out/P3")))  // rejected: nothing to produce
        let list = try CustodyProcess.run(["request", "list", "--config", fixture.config, "--status", "produced"])
        #expect(list.stdout.contains("P1") && list.stdout.contains("P2") && !list.stdout.contains("P3"))
    }

    @Test func theStateHasIndexesOnRequestIds() throws {
        let fixture = try fixture()
        let queue = try DatabaseQueue(path: fixture.state + "/state.db")
        let indexes = try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'") }
        #expect(indexes.contains("legal_holds_by_request") && indexes.contains("productions_by_request"))
    }
}
