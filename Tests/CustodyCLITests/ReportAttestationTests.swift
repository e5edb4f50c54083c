import Foundation
import Testing

/// A published transparency report can be checked by anyone with the public key, and against
/// a ledger export.
@Suite struct ReportAttestationTests {
    @Test func aSignedReportVerifiesAndAnEditedOneDoesNot() throws {
        let fixture = try StateFixture.disclosed()
        let reports = fixture.dir.path("reports")
        let built = try fixture.sub(
            ["report", "transparency", "--period", "2026H2", "--format", "json,md", "--out", reports], asOf: "2026-12-31")
        try #require(built.status == 0, "\(built.stderr)")
        let json = reports + "/transparency-2026H2.json"
        let key = try fixture.sub(["ledger", "key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let keyFile = try fixture.dir.write("ledger.pub", key + "\n")
        let export = fixture.dir.path("ledger-export.jsonl")
        try #require(try fixture.sub(["ledger", "export", "--out", export]).status == 0)

        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let attestation = try #require(document["attestation"] as? [String: Any])
        #expect(attestation["signature"] is String)
        #expect((document["ledger"] as? [String: Any])?["head_sha256"] is String)
        let markdown = try String(contentsOfFile: reports + "/transparency-2026H2.md", encoding: .utf8)
        #expect(markdown.contains(attestation["key_id"] as! String))

        let ok = try CustodyProcess.run(["report", "verify", json, "--public-key", keyFile, "--ledger", export])
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(ok.stdout.contains("is in the ledger"))

        // One number changed after signing.
        let text = try String(contentsOfFile: json, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "\"total\": 1,", with: "\"total\": 2,")
        try #require(edited != text)
        let editedPath = try fixture.dir.write("edited.json", edited)
        let caught = try CustodyProcess.run(["report", "verify", editedPath, "--public-key", key])
        #expect(caught.status == 1)
        #expect(caught.stdout.contains("not valid"))

        // Another deployment's key, and another deployment's ledger.
        let other = try StateFixture.disclosed()
        let otherKey = try other.sub(["ledger", "key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try CustodyProcess.run(["report", "verify", json, "--public-key", otherKey]).status == 1)
        let otherExport = other.dir.path("export.jsonl")
        try #require(try other.sub(["ledger", "export", "--out", otherExport]).status == 0)
        let foreign = try CustodyProcess.run(["report", "verify", json, "--public-key", key, "--ledger", otherExport])
        #expect(foreign.status == 1, "\(foreign.stdout)")
    }
}
