import Foundation
import GRDB
import Testing

/// `run`, `status` and `check` as a user drives them: input that was not understood, or not
/// there, is never compliant; ids are exact bytes; special files never hang a run.
@Suite("Fail closed: run, status and check", .serialized)
struct FailClosedRunTests {
    func findings(_ result: CustodyProcess.Result) throws -> [[String: Any]] {
        try #require(CustodyProcess.json(result)["findings"] as? [[String: Any]])
    }

    func jsonLine(_ ts: String, user: [UInt8], _ event: String) -> [UInt8] {
        Array(#"{"ts":"\#(ts)","user":""#.utf8) + user + Array(#"","event":"\#(event)"}"#.utf8) + [0x0A]
    }

    @Test func checkWithNoInputFileExitsTwo() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("empty"), withIntermediateDirectories: true)
        _ = try dir.write("hidden/.app.log", #"{"ts":"2026-11-01T00:00:00Z","user":"a","event":"view"}"# + "\n")
        for target in ["empty", "hidden"] {
            let result = try CustodyProcess.run(["check", dir.path(target)])
            #expect(result.status == 2, "\(result.stdout)")
            #expect(result.stderr.contains("nothing to audit"))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func idsDifferingOnlyInInvalidUTF8StayTwoUsersAcrossRuns() throws {
        let fixture = try StateFixture()
        var bytes = jsonLine("2026-11-10T12:00:00+08:00", user: [0xFF, 0x20, 0x78], "verify_phone")
        bytes += jsonLine("2026-11-10T12:00:01+08:00", user: [0xFE, 0x20, 0x78], "post")
        try Data(bytes).write(to: URL(fileURLWithPath: fixture.logs + "/app.jsonl"))
        let first = try fixture.custody("run", ["--format", "json"])
        #expect(first.status == 1, "\(first.stderr)")
        // A second run with something new must not stop on a UNIQUE constraint.
        try Data(bytes + jsonLine("2026-11-11T12:00:00+08:00", user: [0xFE, 0x20, 0x78], "view")).write(
            to: URL(fileURLWithPath: fixture.logs + "/app.jsonl"))
        let second = try fixture.custody("run", ["--format", "json"])
        #expect(second.status == 1, "\(second.stderr)")
        let realName = try #require(CustodyProcess.json(second)["real_name"] as? [String: Any])
        #expect(realName["users_seen"] as? Int == 2)
        #expect(realName["verified_users"] as? Int == 1)
        #expect(realName["violating_users"] as? Int == 1)
        let violation = try #require(try findings(second).first { $0["rule"] as? String == "real_name.violating_user" })
        #expect(violation["user"] as? String == "\\xfe x")
        let users = try fixture.openState().read { db in try String.fetchAll(db, sql: "SELECT user FROM users ORDER BY user") }
        #expect(users == ["\\xfe x", "\\xff x"])
        // check agrees.
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", "2026-11-19", "--format", "json"])
        let checkRealName = try #require(CustodyProcess.json(check)["real_name"] as? [String: Any])
        #expect(checkRealName["users_seen"] as? Int == 2)
        #expect(checkRealName["violating_users"] as? Int == 1)
    }

    @Test func fifoAndEscapingLinkAreSkippedByRunAndCheck() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.jsonl")
        let secret = try fixture.dir.write("outside/shadow", #"{"ts":"2026-11-05T00:00:00Z","user":"root","event":"post"}"# + "\n")
        try FileManager.default.createSymbolicLink(atPath: fixture.logs + "/shadow", withDestinationPath: secret)
        #expect(mkfifo(fixture.logs + "/pipe", 0o600) == 0)
        let run = try fixture.custody("run", ["--format", "json"])
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let rules = try findings(run).compactMap { $0["rule"] as? String }
        #expect(rules.contains("input.special_file"))
        #expect(rules.contains("input.symlink_outside_source"))
        let users = try fixture.openState().read { db in try String.fetchAll(db, sql: "SELECT user FROM users") }
        #expect(!users.contains("root"))
        // The lock was released: a second run is not refused.
        #expect(try fixture.custody("run").status != 75)
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", "2026-11-19", "--format", "json"])
        let checkRules = try findings(check).compactMap { $0["rule"] as? String }
        #expect(checkRules.contains("input.special_file"))
        #expect(checkRules.contains("input.symlink_outside_source"))
    }

    @Test func missingSourceIsAnErrorForRunAndStatus() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.jsonl")
        _ = try fixture.dir.write(
            "custody.yaml",
            """
            sources:
              - path: logs
              - path: gone
              - path: logs/*.nomatch
            policy: \(fixture.policy)
            state_directory: state
            """)
        for command in ["run", "status"] {
            let result = try fixture.custody(command, ["--format", "json"])
            #expect(result.status == 1, "\(command): \(result.stderr)")
            let missing = try findings(result).filter { $0["rule"] as? String == "input.missing_source" }
            #expect(missing.count == 2, "\(command)")
            #expect(missing.allSatisfy { $0["severity"] as? String == "error" })
            #expect(try CustodyProcess.json(result)["compliant"] as? Bool == false)
        }
    }

    @Test func unrecognisedFileAndAnonymousPublishSurviveInTheState() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.jsonl")
        try fixture.append("this is not\na log file\n", to: "notes.txt")
        try fixture.append(#"{"ts":"2026-11-05T00:00:00Z","user":null,"event":"post"}"# + "\n", to: "anon.jsonl")
        let first = try fixture.custody("run", ["--format", "json"])
        let second = try fixture.custody("status", ["--format", "json"])
        for result in [first, second] {
            let rules = try findings(result).compactMap { $0["rule"] as? String }
            #expect(rules.contains("input.unrecognised_file"))
            #expect(rules.contains("real_name.anonymous_publish"))
            #expect(result.status == 1)
        }
    }

    @Test func fileNamesAreEscapedInRunLogs() throws {
        let fixture = try StateFixture()
        try fixture.append("not a log\n", to: "evil\nrun 99 done: compliant\u{1B}[2J.log")
        let run = try fixture.custody("run")
        #expect(!run.stderr.contains("\nrun 99 done"))
        #expect(!run.stderr.contains("\u{1B}"))
        #expect(!run.stdout.contains("\u{1B}"))
        #expect(run.stdout.contains("evil\\x0arun 99 done"))
    }

    @Test func packagesKeepIdsThatDifferOnlyInInvalidUTF8Apart() throws {
        let fixture = try StateFixture()
        var bytes = jsonLine("2026-10-30T12:00:00+08:00", user: [0xFF, 0x20, 0x78], "view")
        bytes += jsonLine("2026-10-30T12:00:01+08:00", user: [0xFE, 0x20, 0x78], "view")
        try Data(bytes).write(to: URL(fileURLWithPath: fixture.logs + "/app.jsonl"))
        _ = try fixture.custody("run")
        func request(_ arguments: [String]) throws -> CustodyProcess.Result {
            try CustodyProcess.run(["request", arguments[0], "--config", fixture.config] + arguments.dropFirst())
        }
        // The escaped id names the user, as findings and status show it.
        let added = try request([
            "add", "--id", "REQ-1", "--received", "2026-11-20T09:00:00+08:00", "--authority", "A",
            "--jurisdiction", "cn", "--legal-basis", "B", "--process-type", "criminal_evidence",
            "--from", "2026-10-25", "--to", "2026-11-05", "--user", "\\xfe x",
        ])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try request(["decide", "REQ-1", "--user", "\\xfe x", "--produce", "--reason", "named"]).status == 0)
        let out = fixture.dir.path("package")
        let produced = try request(["produce", "REQ-1", "--out", out])
        #expect(produced.status == 0, "\(produced.stderr)")
        let manifest = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as? [String: Any])
        #expect(manifest["users_affected"] as? [String] == ["\\xfe x"])
        #expect(manifest["records"] as? Int == 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: out + "/records")
        #expect(names.count == 1)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-dc", out + "/records/" + names[0]]
        let pipe = Pipe()
        gzip.standardOutput = pipe
        try gzip.run()
        let content = Array(pipe.fileHandleForReading.readDataToEndOfFile())
        gzip.waitUntilExit()
        #expect(content == jsonLine("2026-10-30T12:00:01+08:00", user: [0xFE, 0x20, 0x78], "view"))
    }

    @Test func linksMayLeadAnywhereInsideTheSourcesButNotOut() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.jsonl")
        _ = try fixture.dir.write("other/b.log", #"{"ts":"2026-11-05T00:00:00Z","user":"b1","event":"view"}"# + "\n")
        let secret = try fixture.dir.write("outside/shadow", #"{"ts":"2026-11-05T00:00:00Z","user":"root","event":"view"}"# + "\n")
        try FileManager.default.createSymbolicLink(
            atPath: fixture.logs + "/b-link.log", withDestinationPath: fixture.dir.path("other/b.log"))
        try FileManager.default.createSymbolicLink(atPath: fixture.dir.path("other/evil.log"), withDestinationPath: secret)
        _ = try fixture.dir.write(
            "custody.yaml",
            """
            sources:
              - path: logs
              - path: other/*.log
            policy: \(fixture.policy)
            state_directory: state
            """)
        let run = try fixture.custody("run", ["--format", "json"])
        let outside = try findings(run).filter { $0["rule"] as? String == "input.symlink_outside_source" }
        #expect(outside.compactMap { $0["file"] as? String } == [fixture.dir.path("other/evil.log")])
        let users = try fixture.openState().read { db in try String.fetchAll(db, sql: "SELECT user FROM users") }
        #expect(users.contains("b1"))
        #expect(!users.contains("root"))
    }
}
