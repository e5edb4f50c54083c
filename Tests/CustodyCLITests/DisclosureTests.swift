import CustodyCore
import CustodyTesting
import Foundation
import GRDB
import Testing

/// The disclosure workflow end to end on the sample logs: intake, hold, decide, produce,
/// verify, close; and bad input.
@Suite struct DisclosureTests {
    func ingestedSamples() throws -> StateFixture { try StateFixture.withSampleLogs() }

    func add(
        _ fixture: StateFixture, _ extra: [String] = [], id: String = "REQ-1", users: [String] = ["u00001", "u09001"]
    ) throws -> CustodyProcess.Result {
        return try CustodyProcess.run(
            [
                "request", "add", "--config", fixture.config, "--id", id, "--received", "2026-11-20T09:00:00+08:00",
                "--authority", "Shanghai Public Security Bureau", "--jurisdiction", "cn",
                "--legal-basis", "Criminal Procedure Law art. 54", "--process-type", "criminal_evidence",
                "--from", "2026-10-25", "--to", "2026-11-05", "--due", "2026-12-05",
            ] + users.flatMap { ["--user", $0] } + extra)
    }

    func request(_ fixture: StateFixture, _ arguments: [String]) throws -> CustodyProcess.Result {
        try CustodyProcess.run(["request"] + [arguments[0], "--config", fixture.config] + arguments.dropFirst())
    }

    @Test func fromIntakeToPackageToVerify() throws {
        let fixture = try ingestedSamples()
        let added = try add(fixture)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("placed under legal hold"))

        #expect(try request(fixture, ["decide", "REQ-1", "--user", "u00001", "--produce", "--reason", "valid"]).status == 0)
        let early = try request(fixture, ["produce", "REQ-1", "--out", fixture.dir.path("early")])
        #expect(early.status == 2)
        #expect(early.stderr.contains("only a decided request"))
        #expect(try request(fixture, ["decide", "REQ-1", "--user", "u09001", "--withhold", "--reason", "out of period"]).status == 0)

        let out = fixture.dir.path("package")
        let produced = try request(fixture, ["produce", "REQ-1", "--out", out])
        #expect(produced.status == 0, "\(produced.stderr)")
        let manifest = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as? [String: Any])
        #expect(manifest["users_affected"] as? [String] == ["u00001"])
        #expect(manifest["users_not_produced"] as? [String] == ["u09001"])
        // One file per source format the user's records came in.
        let files = try #require(manifest["files"] as? [[String: Any]])
        #expect(!files.isEmpty)
        let records = files.compactMap { $0["records"] as? Int }.reduce(0, +)
        #expect(records > 0)
        #expect(files.compactMap { ($0["sources"] as? [Any])?.count }.reduce(0, +) == records)
        let paths = files.compactMap { $0["path"] as? String }
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int == 0o700)
        #expect(try FileManager.default.attributesOfItem(atPath: out + "/manifest.json")[.posixPermissions] as? Int == 0o600)

        // Every produced line is an original line of the user, inside the scope.
        let lines = try paths.flatMap { try gunzipLines(out + "/" + $0) }
        #expect(lines.count == records)
        #expect(lines.allSatisfy { $0.contains("\"user\":\"u00001\"") || $0.contains(" u00001 ") || $0.contains("user=u00001") })

        // Produced again into a new directory: byte-identical records files.
        let again = fixture.dir.path("package-again")
        #expect(try request(fixture, ["produce", "REQ-1", "--out", again]).status == 0)
        for path in paths {
            #expect(FileManager.default.contents(atPath: out + "/" + path) == FileManager.default.contents(atPath: again + "/" + path))
        }
        // An --out that exists and is not empty is refused.
        let refused = try request(fixture, ["produce", "REQ-1", "--out", out])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("not empty"))

        let verify = try fixture.custody("verify", ["--format", "json"])
        let verifyJSON = try CustodyProcess.json(verify)
        #expect(verifyJSON["packages_checked"] as? Int == 2)
        #expect(!(verify.stdout.contains("package.altered") || verify.stdout.contains("ledger.broken")))

        // Tampering with the package is caught.
        let tampered = out + "/" + paths[0]
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: tampered)))
        bytes[bytes.count / 2] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: tampered))
        let caught = try fixture.custody("verify", ["--format", "json"])
        #expect(caught.status == 3)  // an integrity failure
        #expect(caught.stdout.contains("package.altered"))

        // Held objects survive purge; closing releases the hold.
        let queue = try DatabaseQueue(path: fixture.state + "/state.db")
        let held = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM legal_holds WHERE released_at IS NULL")! }
        #expect(held > 0)
        let purge = try fixture.custody("purge", [], asOf: "2027-12-31")
        #expect(purge.stdout.contains("HELD by REQ-1"))
        let closed = try request(fixture, ["close", "REQ-1"])
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM legal_holds WHERE released_at IS NULL")! } == 0)
        let kinds = try queue.read { db in try String.fetchAll(db, sql: "SELECT kind FROM ledger_entries ORDER BY seq") }
        #expect(kinds.first == "request.received")
        #expect(kinds.contains("request.produced"))
        #expect(kinds.suffix(2) == ["hold.released", "request.state"])
        let show = try request(fixture, ["show", "REQ-1", "--format", "json"])
        let shown = try CustodyProcess.json(show)
        #expect(shown["status"] as? String == "closed")
        #expect(shown["outcome"] as? String == "partially_complied")
        #expect(shown["jurisdiction"] as? String == "CN")
    }

    /// Logs ingested after intake, for a time the request covers, are held too.
    @Test func contentArrivingAfterIntakeIsHeld() throws {
        let fixture = try ingestedSamples()
        let added = try CustodyProcess.run([
            "request", "add", "--config", fixture.config, "--id", "LATE-1", "--received", "2026-11-19T09:00:00+08:00",
            "--authority", "A", "--jurisdiction", "CN", "--legal-basis", "B", "--process-type", "preservation",
            "--user", "u00001", "--from", "2026-11-19T00:00:00+08:00", "--to", "2026-11-30T00:00:00+08:00",
        ])
        #expect(added.stdout.contains("0 vault objects placed under legal hold"), "\(added.stdout)")
        try fixture.append("{\"ts\":\"2026-11-20T10:00:00+08:00\",\"user\":\"u00001\",\"event\":\"view\"}\n", to: "late.jsonl")
        _ = try fixture.custody("run", asOf: "2026-11-21")
        let show = try CustodyProcess.json(try request(fixture, ["show", "LATE-1", "--format", "json"]))
        #expect(show["held_objects"] as? Int == 1)
        let verify = try fixture.custody("verify", [], asOf: "2026-11-21")
        #expect(!verify.stdout.contains("ledger entry"), "\(verify.stdout)")
        let closed = try request(fixture, ["close", "LATE-1"])
        #expect(closed.status == 0)
        let after = try CustodyProcess.json(try request(fixture, ["show", "LATE-1", "--format", "json"]))
        #expect(after["held_objects"] as? Int == 0)
    }

    /// Scope days without a time are days in the policy's zone (Asia/Shanghai, UTC+8).
    @Test func scopeDaysAreDaysInThePolicyZone() throws {
        let fixture = try ingestedSamples()
        let added = try add(fixture, id: "TZ-1")
        #expect(added.status == 0)
        let shown = try CustodyProcess.json(try request(fixture, ["show", "TZ-1", "--format", "json"]))
        let scope = try #require(shown["scope"] as? [String: Any])
        #expect(scope["start"] as? String == "2026-10-24T16:00:00.000Z")
        #expect(scope["end"] as? String == "2026-11-05T15:59:59.999Z")
    }

    @Test func badInputIsOneLineAndExitTwo() throws {
        let fixture = try ingestedSamples()
        let noUsers = try add(fixture, users: [])
        #expect(noUsers.status == 2)
        #expect(noUsers.stderr.contains("names no users"))
        let reversed = try CustodyProcess.run([
            "request", "add", "--config", fixture.config, "--id", "R2", "--received", "2026-11-20T09:00:00Z",
            "--authority", "A", "--jurisdiction", "CN", "--legal-basis", "B", "--process-type", "subpoena",
            "--user", "u1", "--from", "2026-11-10", "--to", "2026-11-01",
        ])
        #expect(reversed.status == 2)
        #expect(reversed.stderr.contains("reversed"))
        let unknown = try request(fixture, ["show", "NOPE"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown request id 'NOPE'"))
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        let badMove = try request(fixture, ["close", "NOPE"])
        #expect(badMove.status == 2)
    }

    @Test func importIsAllOrNothingAndNamesTheBadLine() throws {
        let fixture = try ingestedSamples()
        let good =
            #"{"id":"I-1","received_at":"2026-11-01T00:00:00Z","authority":"Beijing Internet Court","jurisdiction":"CN","legal_basis":"Civil Procedure Law","process_type":"court_order","scope":{"users":["u00010"],"start":"2026-10-01","end":"2026-10-31","data":["non_content"]},"due":"2026-11-15"}"#
        let other =
            #"{"id":"I-2","received_at":"2026-11-02T00:00:00Z","authority":"HK Police","jurisdiction":"HK","legal_basis":"MLA request","process_type":"criminal_evidence","scope":{"users":["u00011",42],"start":"2026-09-01T00:00:00+08:00","end":"2026-09-30T23:59:59+08:00"},"foreign":true}"#
        let badFile = try fixture.dir.write("bad.jsonl", good + "\n\n" + #"{"id":"I-3","received_at":"2026-11-02T00:00:00Z"}"# + "\n")
        let failed = try request(fixture, ["import", badFile])
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("bad.jsonl:3"))
        #expect(failed.stderr.contains("nothing imported"))
        #expect(try request(fixture, ["list", "--format", "json"]).stdout.contains("I-1") == false)

        let goodFile = try fixture.dir.write("good.jsonl", good + "\n" + other + "\n")
        let imported = try request(fixture, ["import", goodFile])
        #expect(imported.status == 0, "\(imported.stderr)")
        let list = try CustodyProcess.json(try request(fixture, ["list", "--format", "json", "--as-of", "2026-11-20", "--overdue"]))
        let ids = (list["requests"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids == ["I-1"])
        let byAuthority = try request(fixture, ["list", "--authority", "police"])
        #expect(byAuthority.stdout.contains("I-2"))
        #expect(!byAuthority.stdout.contains("I-1"))
    }

    @Test func preservationHoldsWithoutProducing() throws {
        let fixture = try ingestedSamples()
        let added = try CustodyProcess.run([
            "request", "add", "--config", fixture.config, "--id", "P-1", "--received", "2026-11-20T09:00:00Z",
            "--authority", "Cyberspace Administration", "--jurisdiction", "CN", "--legal-basis", "Preservation notice",
            "--process-type", "preservation", "--user", "u00002", "--from", "2026-09-01", "--to", "2026-11-30",
        ])
        #expect(added.status == 0)
        let decide = try request(fixture, ["decide", "P-1", "--all", "--produce", "--reason", "x"])
        #expect(decide.status == 2)
        #expect(decide.stderr.contains("preservation"))
        let closed = try request(fixture, ["close", "P-1"])
        #expect(closed.stdout.contains("preserved"))
    }

    func gunzipLines(_ path: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
