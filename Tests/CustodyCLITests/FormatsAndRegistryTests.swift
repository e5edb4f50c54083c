import Foundation
import Testing

/// `--formats`/`--input-format NAME`, `formats:` in custody.yaml, `--registry` and
/// `custody registry import|list`, end to end.
@Suite struct FormatsAndRegistryTests {
    let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-cac-2016-apps.yaml").path

    static let formatsYAML = """
        formats:
          web:
            nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_user_id"'
            fields: { user: http_x_user_id }
            http_events:
              - { method: POST, path_prefix: /api/verify/phone, event: verify_phone }
              - { method: POST, path_prefix: /api/posts, event: post }
        """

    /// u1 verifies then posts; u2 posts and never verifies in the log; one anonymous request.
    static let nginxLog = """
        10.0.0.1 - - [01/Nov/2026:10:00:00 +0800] "POST /api/verify/phone HTTP/1.1" 200 2 "-" "app" "u1"
        10.0.0.1 - - [01/Nov/2026:10:05:00 +0800] "POST /api/posts HTTP/1.1" 201 2 "-" "app" "u1"
        10.0.0.2 - - [02/Nov/2026:11:00:00 +0800] "POST //api/posts HTTP/1.1" 201 2 "-" "app" "u2"
        10.0.0.3 - - [02/Nov/2026:12:00:00 +0800] "GET /feed HTTP/1.1" 200 2 "-" "app" "-"

        """

    func realName(_ result: CustodyProcess.Result) throws -> [String: Any] {
        try #require(try CustodyProcess.json(result)["real_name"] as? [String: Any])
    }

    @Test func checkReadsADescribedFormat() throws {
        let dir = try TemporaryDirectory()
        try dir.write("formats.yaml", Self.formatsYAML)
        try dir.write("logs/access.log", Self.nginxLog)
        let args = [
            "check", dir.path("logs"), "--policy", policy, "--as-of", "2026-11-03", "--format", "json",
            "--formats", dir.path("formats.yaml"), "--input-format", "web",
        ]
        let result = try CustodyProcess.run(args)
        let json = try CustodyProcess.json(result)
        #expect((json["inputs"] as? [String: Any])?["records"] as? Int == 4)
        #expect((json["inputs"] as? [String: Any])?["rejected_lines"] as? Int == 0)
        let counts = try realName(result)
        #expect(counts["users_seen"] as? Int == 2)
        #expect(counts["verified_users"] as? Int == 1)
        #expect(counts["violating_users"] as? Int == 1)

        // The same verification from the user database: u2 verified on 1 November.
        try dir.write("registry.csv", "user,verified_at,method\nu2,2026-11-01T09:00:00+08:00,phone\nu3,2026-11-01T09:00:00+08:00,email\n")
        let withRegistry = try CustodyProcess.run(args + ["--registry", dir.path("registry.csv")])
        #expect(try realName(withRegistry)["violating_users"] as? Int == 0, "\(withRegistry.stderr)")
        // u3, in the registry only, is not a user of these logs.
        #expect(try realName(withRegistry)["users_seen"] as? Int == 2)
        #expect(try realName(withRegistry)["verified_users"] as? Int == 2)
        // A verification after the post does not cover it.
        try dir.write("late.jsonl", #"{"user":"u2","verified_at":"2026-11-03T00:00:00Z","method":"phone"}"# + "\n")
        let late = try CustodyProcess.run(args + ["--registry", dir.path("late.jsonl")])
        #expect(try realName(late)["violating_users"] as? Int == 1)
    }

    @Test func unknownFormatNameAndBadFormatsFileAreUsageErrors() throws {
        let dir = try TemporaryDirectory()
        try dir.write("logs/a.log", Self.nginxLog)
        let unknown = try CustodyProcess.run(["check", dir.path("logs"), "--policy", policy, "--input-format", "web"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("--input-format web: no such format"))
        try dir.write("formats.yaml", "formats:\n  web:\n    nginx: '$a $b'\n    colour: red\n")
        let bad = try CustodyProcess.run([
            "check", dir.path("logs"), "--policy", policy, "--formats", dir.path("formats.yaml"), "--input-format", "web",
        ])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("formats.yaml:4: formats.web.colour: unknown key"), "\(bad.stderr)")
        try dir.write("registry.csv", "user,verified_at,method\nu1,2026-11-01T00:00:00Z,phone\nu2,yesterday,phone\n")
        let badRegistry = try CustodyProcess.run(["check", dir.path("logs"), "--policy", policy, "--registry", dir.path("registry.csv")])
        #expect(badRegistry.status == 2)
        #expect(badRegistry.stderr.contains("registry.csv:3: verified_at 'yesterday'"), "\(badRegistry.stderr)")
    }

    @Test func configurationFormatsAndRegistryImport() throws {
        let fixture = try StateFixture(extraConfig: Self.formatsYAML)
        func registry(_ arguments: [String]) throws -> CustodyProcess.Result {
            try CustodyProcess.run(["registry"] + arguments + ["--config", fixture.config])
        }
        // The fixture's source has no format: point it at the described one.
        let config = try String(contentsOfFile: fixture.config, encoding: .utf8)
            .replacingOccurrences(of: "  - path: logs\n", with: "  - path: logs\n    format: web\n")
        try fixture.dir.write("custody.yaml", config)
        try fixture.dir.write("logs/access.log", Self.nginxLog)
        let run = try fixture.custody("run", ["--format", "json"], asOf: "2026-11-03")
        #expect(run.status == 1, "\(run.stderr)")
        let status = try fixture.custody("status", ["--format", "json"], asOf: "2026-11-03")
        let before = try #require(try CustodyProcess.json(status)["real_name"] as? [String: Any])
        #expect(before["violating_users"] as? Int == 1, "\(status.stdout)")

        // A bad row: named, and nothing imported.
        try fixture.dir.write("bad.csv", "user,verified_at,method\nu2,2026-11-01T09:00:00+08:00,phone\n,2026-11-01T09:00:00Z,phone\n")
        let bad = try registry(["import", fixture.dir.path("bad.csv")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.csv:3: empty user; nothing imported"), "\(bad.stderr)")
        #expect(try registry(["list"]).stdout.contains("registry") == false)

        try fixture.dir.write(
            "registry.csv", "method,user,verified_at,team\nphone,u2,2026-11-01T09:00:00+08:00,x\nphone,u9,2026-11-01T09:00:00+08:00,y\n")
        let first = try registry(["import", fixture.dir.path("registry.csv")])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("2 rows, 2 new"))
        let again = try registry(["import", fixture.dir.path("registry.csv")])
        #expect(again.stdout.contains("2 rows, 0 new"))

        let after = try #require(
            try CustodyProcess.json(try fixture.custody("status", ["--format", "json"], asOf: "2026-11-03"))["real_name"] as? [String: Any])
        #expect(after["violating_users"] as? Int == 0)
        #expect(after["users_seen"] as? Int == 2)

        let list = try registry(["list", "--format", "json"])
        let items = try #require(try CustodyProcess.json(list)["verifications"] as? [[String: Any]])
        #expect(items.map { "\($0["user"]!) \($0["origin"]!)" } == ["u1 log", "u2 registry", "u9 registry"])
    }

    /// A vault object of a described-format source is re-read with that format (a described
    /// format is never sniffed): verify recounts its days, and a package holds its lines.
    /// Before formats were recorded per object, verify reported the object's days as an
    /// integrity failure (exit 3) and the package held nothing.
    @Test func vaultObjectsAreReReadWithTheirSourceFormat() throws {
        let fixture = try StateFixture(extraConfig: Self.formatsYAML)
        let config = try String(contentsOfFile: fixture.config, encoding: .utf8)
            .replacingOccurrences(of: "  - path: logs\n", with: "  - path: logs\n    format: web\n")
        try fixture.dir.write("custody.yaml", config)
        try fixture.dir.write("logs/access.log", Self.nginxLog)
        #expect(try fixture.custody("run", asOf: "2026-11-03").status == 1)

        let verify = try fixture.custody("verify", asOf: "2026-11-03")
        #expect(verify.status == 1, "integrity must hold; only days are missing: \(verify.stdout)")
        #expect(verify.stdout.contains("Integrity: OK"), "\(verify.stdout)")

        let c = ["--config", fixture.config]
        #expect(
            try CustodyProcess.run(
                ["request", "add"] + c + [
                    "--id", "R1", "--received", "2026-11-03T09:00:00+08:00", "--authority", "A", "--jurisdiction", "CN",
                    "--legal-basis", "B", "--process-type", "criminal_evidence", "--user", "u2",
                    "--from", "2026-11-01", "--to", "2026-11-02",
                ]
            ).status == 0)
        #expect(
            try CustodyProcess.run(
                ["request", "decide"] + c + [
                    "R1", "--all", "--produce", "--reason", "order",
                    "--at", "2026-11-03T10:00:00+08:00",
                ]
            ).status == 0)
        let produce = try CustodyProcess.run(
            ["request", "produce"] + c + [
                "R1", "--out", fixture.dir.path("package"),
                "--at", "2026-11-03T11:00:00+08:00",
            ])
        #expect(produce.status == 0, "\(produce.stderr)")
        #expect(produce.stdout.contains("produced R1: 1 record"), "\(produce.stdout)")
    }

    /// The numbers SampleLogs/README.md gives for the gateway source and the registry export.
    @Test func sampleGatewayAndRegistry() throws {
        let base = ["--policy", policy, "--as-of", "2026-11-19", "--format", "json"]
        let gateway = ["check", "SampleLogs/gateway", "--formats", "SampleLogs/formats.yaml", "--input-format", "gateway"] + base
        let plain = try CustodyProcess.json(try CustodyProcess.run(gateway))
        #expect((plain["inputs"] as? [String: Any])?["records"] as? Int == 110)
        #expect((plain["inputs"] as? [String: Any])?["rejected_lines"] as? Int == 0)
        let names = try #require(plain["real_name"] as? [String: Any])
        #expect(names["users_seen"] as? Int == 11)
        #expect(names["violating_users"] as? Int == 1)
        let registry = ["--registry", "SampleLogs/registry/verified-users.csv"]
        #expect(try realName(try CustodyProcess.run(gateway + registry))["violating_users"] as? Int == 0)
        let logs = try realName(try CustodyProcess.run(["check", "SampleLogs/logs"] + base + registry))
        #expect(logs["violating_users"] as? Int == 7)
        #expect(logs["violating_events"] as? Int == 8)
        #expect(logs["users_seen"] as? Int == 301)
    }
}
