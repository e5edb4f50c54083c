import Foundation
import Testing

/// `custody report dsa`: the member_states_orders part of the DSA template on known orders.
@Suite struct DSAReportTests {
    func prepared(extraConfig: String = "reporting:\n  service: Example Social\n") throws -> StateFixture {
        let fixture = try StateFixture.withSampleLogs(extraConfig: extraConfig)
        func run(_ arguments: [String]) throws {
            let result = try CustodyProcess.run(["request", arguments[0], "--config", fixture.config] + arguments.dropFirst())
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }
        try run(["import", CustodyProcess.repositoryRoot.appendingPathComponent("SampleLogs/requests/2026H2-eu-orders.jsonl").path])
        let decisions = try fixture.dir.write(
            "d.jsonl",
            """
            {"request":"EU-2026-001","produce":true,"reason":"valid order","at":"2026-10-06T09:00:00+02:00"}
            {"request":"EU-2026-002","produce":true,"reason":"valid order","at":"2026-10-22T09:00:00+02:00"}
            {"request":"EU-2026-003","produce":false,"reason":"lawful speech","at":"2026-11-04T09:00:00+01:00"}
            """)
        try run(["decide", "--file", decisions])
        try run(["produce", "EU-2026-001", "EU-2026-002", "--out", fixture.dir.path("packages"), "--at", "2026-10-23T10:00:00+02:00"])
        return fixture
    }

    func dsa(_ fixture: StateFixture, out: String) throws -> (name: String, text: String) {
        let result = try CustodyProcess.run([
            "report", "dsa", "--config", fixture.config, "--as-of", "2027-01-15", "--period", "2026H2", "--out", out,
        ])
        try #require(result.status == 0, "\(result.stderr)")
        let path = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return ((path as NSString).lastPathComponent, try String(contentsOfFile: path, encoding: .utf8))
    }

    /// RFC 4180 fields of one record (no embedded newlines in these files).
    static func fields(_ line: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var iterator = Array(line).makeIterator()
        var pending: Character?
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        fields.append(field)
        return fields
    }

    @Test func headersAndNumbersOfTheTemplate() throws {
        let fixture = try prepared()
        let (name, text) = try dsa(fixture, out: fixture.dir.path("dsa"))
        #expect(name == "dsa-member_states_orders-2026H2.csv")
        #expect(text.hasSuffix("\r\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let headers = Self.fields(lines[0])
        #expect(headers.count == 20)
        #expect(
            Array(headers.prefix(6)) == [
                "Applicability", "Service", "Reporting period", "Category of illegal content", "Description of the sub-category \"Other\"",
                "Scope",
            ])
        #expect(
            Array(headers[10...12]) == [
                "Number of orders to provide information",
                "Median time to inform the authority of the receipt of the order to provide information",
                "Median time to give effect to the order to provide information",
            ])
        #expect(lines.count == 3)
        let de = Self.fields(lines[1])
        // DE, scams: informed after 6 h and 24 h (median 15); given effect after 433 h and 72 h (median 252.5).
        #expect(Array(de[1...5]) == ["Example Social", "2026-07-01 - 2026-12-31", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "", "DE"])
        #expect(Array(de[6...12]) == ["", "", "", "", "2", "15.0", "252.5"])
        let fr = Self.fields(lines[2])
        // FR, speech: informed after 4 h; refused, so never given effect.
        #expect(Array(fr[3...12]) == ["STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "", "FR", "", "", "", "", "1", "4.0", ""])
        #expect(fr[19].contains("1 not given effect"))
        #expect(de[17].hasPrefix("Version 1. Built from request ledger entry"))
        // Same ledger head, same bytes.
        #expect(try dsa(fixture, out: fixture.dir.path("dsa-again")).text == text)
    }

    @Test func aCorrectedReportIsMarkedWithVersionAndDate() throws {
        let fixture = try prepared(
            extraConfig: """
                reporting:
                  service: Example Social
                  dsa_corrections:
                    - period: 2026H2
                      version: 2
                      date: 2027-02-01
                      note: one order recorded under the wrong Member State
                """)
        let (name, text) = try dsa(fixture, out: fixture.dir.path("dsa"))
        #expect(name == "dsa-member_states_orders-2026H2-v2.csv")
        #expect(text.contains("Version 2, corrected 2027-02-01: one order recorded under the wrong Member State."))
    }

    @Test func onlyHalfYearsAndYears() throws {
        let fixture = try StateFixture()
        let result = try CustodyProcess.run(["report", "dsa", "--config", fixture.config, "--period", "2026Q1"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--period '2026Q1'"))
    }
}
