import Crypto
import CustodyCore
import Foundation
import GRDB
import Testing

/// `custody report verify --ledger`: every number of a signed transparency report is recounted
/// from the ledger export alone, so even a report re-signed with the provider's own key cannot
/// publish a number the ledger does not give.
@Suite struct ReportRecountTests {
    /// Several requests with different outcomes, jurisdictions and authorities; a listed
    /// territory and a territory named the provider's way, so the recount must restate both.
    static func deployment() throws -> StateFixture {
        let fixture = try StateFixture.disclosed(
            extraConfig: """
                reporting:
                  provider: Example Network
                  listed_territories: [DE]
                  territory_names:
                    CN: China (mainland)
                  real_time_process_types: [emergency]
                """)
        try fixture.addRequest(id: "REQ-2")
        let added = try fixture.sub([
            "request", "add", "--id", "REQ-3", "--received", "2026-11-21T10:00:00+08:00",
            "--authority", "Hong Kong Police Force", "--jurisdiction", "HK",
            "--legal-basis", "Police Force Ordinance s. 50", "--process-type", "emergency",
            "--user", "u00002", "--from", "2026-10-25", "--to", "2026-11-05",
        ])
        try #require(added.status == 0, "\(added.stderr)")
        try #require(try fixture.sub(["request", "decide", "REQ-3", "--all", "--withhold", "--reason", "not urgent"]).status == 0)
        return fixture
    }

    struct Published {
        var json: String
        var keyFile: String
        var export: String
    }

    static func publish(_ fixture: StateFixture) throws -> Published {
        let reports = fixture.dir.path("reports")
        let built = try fixture.sub(
            ["report", "transparency", "--period", "2026H2", "--format", "json", "--out", reports], asOf: "2026-12-31")
        try #require(built.status == 0, "\(built.stderr)")
        let key = try fixture.sub(["ledger", "key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let keyFile = try fixture.dir.write("ledger.pub", key + "\n")
        let export = fixture.dir.path("ledger-export.jsonl")
        let exported = try fixture.sub(["ledger", "export", "--out", export])
        try #require(exported.status == 0, "\(exported.stderr)")
        return Published(json: reports + "/transparency-2026H2.json", keyFile: keyFile, export: export)
    }

    @Test func everyNumberOfAnHonestReportFollowsFromTheLedger() throws {
        let fixture = try Self.deployment()
        let published = try Self.publish(fixture)
        let report = try #require(JSONValue.parse(try String(contentsOfFile: published.json, encoding: .utf8)))
        #expect(report["requests"]?["total"]?.intValue == 3)
        #expect(report["basis"]?["time_zone"]?.stringValue?.isEmpty == false)

        let verified = try CustodyProcess.run([
            "report", "verify", published.json, "--public-key", published.keyFile, "--ledger", published.export,
        ])
        #expect(verified.status == 0, "\(verified.stdout)")
        #expect(verified.stdout.contains("every number in the report follows from the ledger"))

        // The ledger moved on after the report (REQ-2 decided): the recount stops at the report's head.
        try #require(try fixture.sub(["request", "decide", "REQ-2", "--all", "--withhold", "--reason", "out of scope"]).status == 0)
        let later = fixture.dir.path("ledger-later.jsonl")
        try #require(try fixture.sub(["ledger", "export", "--out", later]).status == 0)
        let again = try CustodyProcess.run(["report", "verify", published.json, "--public-key", published.keyFile, "--ledger", later])
        #expect(again.status == 0, "\(again.stdout)")
        // A report built now counts REQ-2 as rejected, and verifies against the same export.
        let reports = fixture.dir.path("reports-later")
        try #require(
            try fixture.sub(["report", "transparency", "--period", "2026H2", "--format", "json", "--out", reports], asOf: "2026-12-31")
                .status == 0)
        let newer = reports + "/transparency-2026H2.json"
        let newerReport = try #require(JSONValue.parse(try String(contentsOfFile: newer, encoding: .utf8)))
        #expect(newerReport["totals"]?["rejected_or_challenged"]?.intValue == report["totals"]!["rejected_or_challenged"]!.intValue! + 1)
        let newerExport = fixture.dir.path("ledger-newer.jsonl")
        try #require(try fixture.sub(["ledger", "export", "--out", newerExport]).status == 0)
        #expect(
            try CustodyProcess.run(["report", "verify", newer, "--public-key", published.keyFile, "--ledger", newerExport]).status == 0)
    }

    @Test func aCountEditedAndReSignedWithTheSameKeyIsCaught() throws {
        let fixture = try Self.deployment()
        let published = try Self.publish(fixture)
        let report = try #require(JSONValue.parse(try String(contentsOfFile: published.json, encoding: .utf8)))
        let original = try #require(report["by_jurisdiction"]?.arrayValue?.first?["counts"]?["requests"]?.intValue)
        let edited = Self.replacing(["by_jurisdiction", "0", "counts", "requests"], in: report, with: .int(original - 1))
        let resigned = try Self.resign(edited, keyFile: fixture.ledgerKey)
        let path = try fixture.dir.write("resigned.json", resigned.rendered() + "\n")

        // Without the ledger the signature holds: the key signed it.
        let signatureOnly = try CustodyProcess.run(["report", "verify", path, "--public-key", published.keyFile])
        #expect(signatureOnly.status == 0, "\(signatureOnly.stdout)")
        // With it, the number does not follow.
        let recounted = try CustodyProcess.run(["report", "verify", path, "--public-key", published.keyFile, "--ledger", published.export])
        #expect(recounted.status == 1, "\(recounted.stdout)")
        #expect(
            recounted.stdout.contains("by_jurisdiction[0].counts.requests: the report says \(original - 1), the ledger gives \(original)"),
            "\(recounted.stdout)")
        #expect(recounted.stdout.contains("NOT VERIFIED"))
    }

    @Test func aReportWithoutItsCountingBasisIsNotPassed() throws {
        let fixture = try Self.deployment()
        let published = try Self.publish(fixture)
        let report = try #require(JSONValue.parse(try String(contentsOfFile: published.json, encoding: .utf8)))
        guard case .object(let pairs) = report else {
            Issue.record("not an object")
            return
        }
        let older = try Self.resign(.object(pairs.filter { $0.0 != "basis" }), keyFile: fixture.ledgerKey)
        let path = try fixture.dir.write("older.json", older.rendered() + "\n")
        let result = try CustodyProcess.run(["report", "verify", path, "--public-key", published.keyFile, "--ledger", published.export])
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("cannot recount the report from the ledger"))
    }

    @Test func anAuthorityEditedInTheTableIsNeverPublished() throws {
        let fixture = try Self.deployment()
        let queue = try fixture.insider()
        try queue.write { db in try db.execute(sql: "UPDATE requests SET authority = 'Ministry of Nothing' WHERE id = 'REQ-3'") }
        let reports = fixture.dir.path("reports")
        let built = try fixture.sub(
            ["report", "transparency", "--period", "2026H2", "--format", "json", "--out", reports], asOf: "2026-12-31")
        #expect(built.status == 1, "\(built.stderr)")
        #expect(!FileManager.default.fileExists(atPath: reports + "/transparency-2026H2.json"))
    }

    @Test func theHelpSaysTheLedgerRecountsTheReport() throws {
        let help = try CustodyProcess.run(["report", "verify", "--help"])
        #expect(help.stdout.contains("recounts the report from the export"), "\(help.stdout)")
    }

    /// `value` with the member at `path` (object keys, or array indexes as numbers) replaced.
    static func replacing(_ path: [String], in value: JSONValue, with new: JSONValue) -> JSONValue {
        guard let head = path.first else { return new }
        switch value {
        case .object(let pairs):
            return .object(pairs.map { $0.0 == head ? ($0.0, replacing(Array(path.dropFirst()), in: $0.1, with: new)) : $0 })
        case .array(var items):
            if let index = Int(head), items.indices.contains(index) {
                items[index] = replacing(Array(path.dropFirst()), in: items[index], with: new)
            }
            return .array(items)
        default:
            return value
        }
    }

    /// Signs `report` again as `custody report transparency` does, with the deployment's own key.
    static func resign(_ report: JSONValue, keyFile: String) throws -> JSONValue {
        let text = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: try #require(Data(base64Encoded: text)))
        guard case .object(let pairs) = report else { return report }
        let unsigned = JSONValue.object(pairs.filter { $0.0 != "attestation" })
        let signature = try key.signature(for: Data(("custody-report\n" + unsigned.canonicalText).utf8))
        return Self.replacing(["attestation", "signature"], in: report, with: .string(signature.base64EncodedString()))
    }
}
