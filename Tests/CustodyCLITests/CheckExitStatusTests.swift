import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// Exit statuses and error lines of `custody check` (contract: 0 compliant, 1 not, 2 usage).
@Suite struct CheckExitStatusTests {
    let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-apps.yaml").path

    /// 61 days of honest activity ending the day before --as-of.
    func writeCompliantLogs(in dir: TemporaryDirectory) throws {
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(year: 2026, month: 9, day: 20)!, days: 61,
            users: 40, eventsPerDay: 30, seed: 3)
        let renderer = LogLineRenderer(format: .jsonl)
        let lines = ActivityGenerator(scenario).events().enumerated().map { renderer.line($0.element, sequence: $0.offset) }
        let writer = try GzipWriter(path: dir.path("app.log.gz"))
        try writer.write(lines.joined(separator: "\n") + "\n")
        try writer.close()
    }

    @Test func compliantLogsExitZero() throws {
        let dir = try TemporaryDirectory()
        try writeCompliantLogs(in: dir)
        let result = try CustodyProcess.run(["check", dir.url.path, "--policy", policy, "--as-of", "2026-11-20", "--format", "json"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try CustodyProcess.json(result)
        #expect(json["compliant"] as? Bool == true)
        #expect((json["findings"] as? [Any])?.isEmpty == true)
    }

    @Test func rejectedLinesAloneAreWarningsAndStillCompliant() throws {
        let dir = try TemporaryDirectory()
        try writeCompliantLogs(in: dir)
        // One bad line in 1,000: not above the policy's input.max_rejected_share (0.001).
        let views = String(repeating: "{\"ts\":\"2026-11-01T00:00:00Z\",\"user\":\"v1\",\"event\":\"view\"}\n", count: 999)
        try dir.write("extra.jsonl", views + "this is not a log line\n")
        let result = try CustodyProcess.run(["check", dir.url.path, "--policy", policy, "--as-of", "2026-11-20", "--format", "json"])
        #expect(result.status == 0)
        let json = try CustodyProcess.json(result)
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        #expect(findings.first?["severity"] as? String == "warning")
        #expect(findings.first?["line"] as? Int == 1000)
    }

    @Test func corruptGzipIsAnErrorWithItsOffsetButOtherFilesAreRead() throws {
        let dir = try TemporaryDirectory()
        try writeCompliantLogs(in: dir)
        var bytes = GzipWriter.compress(Array("{\"ts\":\"2026-11-01T00:00:00Z\",\"user\":\"x\",\"event\":\"view\"}\n".utf8))
        bytes[bytes.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path("broken.gz")))
        let result = try CustodyProcess.run(["check", dir.url.path, "--policy", policy, "--as-of", "2026-11-20", "--format", "json"])
        #expect(result.status == 1)
        let json = try CustodyProcess.json(result)
        let inputs = try #require(json["inputs"] as? [String: Any])
        #expect(inputs["unreadable_files"] as? Int == 1)
        let findings = try #require(json["findings"] as? [[String: Any]])
        let fault = try #require(findings.first { $0["rule"] as? String == "input.unreadable_file" })
        #expect(fault["file"] as? String == dir.path("broken.gz"))
        #expect(fault["offset"] as? Int == bytes.count - 8)  // the CRC-32 field
        #expect((fault["message"] as? String)?.contains("incorrect data check") == true)
        // The record decoded before the fault was kept: user x is seen.
        let realName = try #require(json["real_name"] as? [String: Any])
        #expect(realName["users_seen"] as? Int == 41)
    }

    @Test func policyErrorNamesFileLineAndKey() throws {
        let dir = try TemporaryDirectory()
        let bad = try dir.write(
            "bad.yaml",
            """
            id: test
            jurisdiction: CN
            timezone: Asia/Shanghai
            retention:
              minimum_days: 60
              maximun_days: 90
            """)
        try dir.write("logs/a.jsonl", "{\"ts\":\"2026-11-01T00:00:00Z\"}\n")
        let result = try CustodyProcess.run(["check", dir.path("logs"), "--policy", bad])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let line = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.contains("\(bad):6"))
        #expect(line.contains("retention.maximun_days"))
        #expect(line.contains("unknown key"))
    }

    @Test func usageErrorsExitTwo() throws {
        let missing = try CustodyProcess.run(["check", "/nonexistent/custody-logs", "--policy", policy])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/custody-logs: no such file or directory"))

        let badDay = try CustodyProcess.run(["check", ".", "--policy", policy, "--as-of", "2026-02-30"])
        #expect(badDay.status == 2)
        #expect(badDay.stderr.contains("--as-of"))

        let noPaths = try CustodyProcess.run(["check", "--policy", policy])
        #expect(noPaths.status == 2)

        let badFormat = try CustodyProcess.run(["check", ".", "--format", "yaml"])
        #expect(badFormat.status == 2)

        let missingPolicy = try CustodyProcess.run(["check", ".", "--policy", "/nonexistent/policy.yaml"])
        #expect(missingPolicy.status == 2)
        #expect(missingPolicy.stderr.contains("/nonexistent/policy.yaml"))
    }

    @Test func helpTeachesAndExitsZero() throws {
        let result = try CustodyProcess.run(["check", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("--as-of"))
        #expect(result.stdout.contains("Exit status"))
    }

    @Test func sinceExemptsEarlierDays() throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "a.jsonl",
            """
            {"ts":"2026-11-18T12:00:00+08:00","user":"a","event":"view"}
            {"ts":"2026-11-19T12:00:00+08:00","user":"a","event":"view"}
            """)
        let result = try CustodyProcess.run([
            "check", dir.url.path, "--policy", policy, "--as-of", "2026-11-20",
            "--since", "2026-11-18", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.stdout)")
        let json = try CustodyProcess.json(result)
        let retention = try #require(json["retention"] as? [String: Any])
        #expect(retention["covered_days"] as? Int == 2)
        #expect(retention["exempt_days"] as? Int == 58)
        #expect(retention["missing_days"] as? [String] == [])
    }

    @Test func fileOrderDoesNotChangeTheOutput() throws {
        let dir = try TemporaryDirectory()
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(year: 2026, month: 10, day: 1)!, days: 20,
            users: 60, eventsPerDay: 40, seed: 11, lateVerifiers: 3, neverVerified: 2)
        let events = ActivityGenerator(scenario).events()
        let formats: [LogLineRenderer.Format] = [.jsonl, .combined, .logfmt]
        var paths: [String] = []
        for part in 0..<3 {
            let renderer = LogLineRenderer(format: formats[part])
            let slice = events.enumerated().filter { $0.offset % 3 == part }
            let text = slice.map { renderer.line($0.element, sequence: $0.offset) }.joined(separator: "\n")
            paths.append(try dir.write("part\(part).log", text + "\n"))
        }
        let forward = try CustodyProcess.run(
            ["check"] + paths + ["--policy", policy, "--as-of", "2026-10-21", "--format", "json", "--jobs", "1"])
        let backward = try CustodyProcess.run(
            ["check"] + paths.reversed() + ["--policy", policy, "--as-of", "2026-10-21", "--format", "json", "--jobs", "3"])
        #expect(forward.stdout == backward.stdout)
        #expect(forward.status == 1)
        let json = try CustodyProcess.json(forward)
        let realName = try #require(json["real_name"] as? [String: Any])
        #expect(realName["violating_users"] as? Int == 5)
    }
}

/// The optimised paths (decoding on a second thread, several files at once) print exactly what
/// the plain one-core path prints.
@Suite struct OptimisedPathTests {
    @Test func prefetchAndParallelismDoNotChangeTheReport() throws {
        let dir = try TemporaryDirectory()
        let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-apps.yaml").path
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(year: 2026, month: 9, day: 1)!, days: 40, users: 2_000,
            eventsPerDay: 1_500, seed: 77, lateVerifiers: 20, neverVerified: 10)
        let renderer = LogLineRenderer(format: .jsonl)
        let events = ActivityGenerator(scenario).events()
        // One file larger than the 1 MiB prefetch block and the 256 KiB read size, so blocks and
        // lines straddle every boundary, plus a second file for the parallel run.
        for (name, slice) in [("big.jsonl.gz", events[0..<(events.count * 3 / 4)]), ("rest.jsonl.gz", events[(events.count * 3 / 4)...])] {
            let writer = try GzipWriter(path: dir.path(name))
            var batch = ""
            for (i, e) in slice.enumerated() {
                batch += renderer.line(e, sequence: i) + "\n"
                if batch.utf8.count > 1 << 20 {
                    try writer.write(batch)
                    batch = ""
                }
            }
            try writer.write(batch)
            try writer.close()
        }
        let common = ["--policy", policy, "--as-of", "2026-10-12", "--format", "json"]
        // One file: --jobs 1 reads on one thread, --jobs 2 decodes on a second (prefetch).
        let plain = try CustodyProcess.run(["check", dir.path("big.jsonl.gz"), "--jobs", "1"] + common)
        let prefetched = try CustodyProcess.run(["check", dir.path("big.jsonl.gz"), "--jobs", "2"] + common)
        #expect(plain.stdout == prefetched.stdout)
        #expect(plain.stdout.contains("\"records\": \(events.count * 3 / 4)"))
        let oneCore = try CustodyProcess.run(["check", dir.url.path, "--jobs", "1"] + common)
        let twoCores = try CustodyProcess.run(["check", dir.url.path, "--jobs", "2"] + common)
        #expect(oneCore.stdout == twoCores.stdout)
        #expect(oneCore.stdout.contains("\"records\": \(events.count)"))
    }
}
