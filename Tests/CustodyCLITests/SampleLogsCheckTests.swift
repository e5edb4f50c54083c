import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// `custody check` on the repository's SampleLogs gives the result SampleLogs/README.md documents.
@Suite struct SampleLogsCheckTests {
    let policy = "Policies/cn-apps.yaml"

    @Test func jsonMatchesTheDocumentedResult() throws {
        let result = try CustodyProcess.run(["check", "SampleLogs/logs", "--policy", policy, "--as-of", "2026-11-19", "--format", "json"])
        #expect(result.status == 1)
        let json = try CustodyProcess.json(result)
        #expect(json["schema"] as? String == "custody.check.v1")
        #expect(json["policy"] as? String == "cn-apps")
        #expect(json["timezone"] as? String == "Asia/Shanghai")
        let inputs = try #require(json["inputs"] as? [String: Any])
        #expect(inputs["files"] as? Int == 6)
        #expect(inputs["records"] as? Int == 14407)
        #expect(inputs["rejected_lines"] as? Int == 3)
        #expect(inputs["unreadable_files"] as? Int == 0)
        let retention = try #require(json["retention"] as? [String: Any])
        #expect(retention["window_start"] as? String == "2026-09-20")
        #expect(retention["window_end"] as? String == "2026-11-18")
        #expect(retention["covered_days"] as? Int == 59)
        #expect(retention["missing_days"] as? [String] == ["2026-10-03"])
        let realName = try #require(json["real_name"] as? [String: Any])
        #expect(realName["users_seen"] as? Int == 301)
        #expect(realName["verified_users"] as? Int == 297)
        #expect(realName["violating_users"] as? Int == 8)
        #expect(realName["violating_events"] as? Int == 9)
        #expect(json["compliant"] as? Bool == false)

        let findings = try #require(json["findings"] as? [[String: Any]])
        let rejected = findings.filter { $0["rule"] as? String == "input.rejected_lines" }
        #expect(
            rejected.map { "\($0["file"] as? String ?? ""):\($0["line"] as? Int ?? 0)" } == [
                "SampleLogs/logs/app/2026-11-early.jsonl:120",
                "SampleLogs/logs/nginx/access.log:57",
                "SampleLogs/logs/worker/messages.logfmt:30",
            ])
        // One rejected line is below input.max_rejected_share (0.001) of the 1,731 lines of the
        // first file, above it in the two shorter ones.
        #expect(rejected.map { $0["severity"] as? String } == ["warning", "error", "error"])
        let crossFile = try #require(findings.first { $0["user"] as? String == "u09001" })
        #expect(crossFile["count"] as? Int == 2)
        #expect(crossFile["file"] as? String == "SampleLogs/logs/app/2026-10.jsonl.gz")
        #expect(crossFile["time"] as? String == "2026-10-31T15:20:00.000Z")
    }

    /// The committed logs hold exactly what the generator's naive oracle says they hold.
    @Test func generatorOracleAgreesWithTheCommittedLogs() throws {
        let policyModel = try PolicyLoader.load(path: CustodyProcess.repositoryRoot.appendingPathComponent(policy).path)
        let truth = ReferenceAudit(events: SampleLogsWriter.events(), policy: policyModel)
        let result = try CustodyProcess.run(["check", "SampleLogs/logs", "--policy", policy, "--as-of", "2026-11-19", "--format", "json"])
        let json = try CustodyProcess.json(result)
        let inputs = try #require(json["inputs"] as? [String: Any])
        let realName = try #require(json["real_name"] as? [String: Any])
        #expect(inputs["records"] as? Int == truth.records)
        #expect(realName["users_seen"] as? Int == truth.usersSeen)
        #expect(realName["verified_users"] as? Int == truth.verifiedUsers)
        #expect(realName["violating_users"] as? Int == truth.violations.count)
        #expect(realName["violating_events"] as? Int == truth.violations.values.reduce(0, +))
        let findings = try #require(json["findings"] as? [[String: Any]])
        let users = findings.compactMap { $0["user"] as? String }
        #expect(users == truth.violations.keys.sorted())
    }

    /// `make samples` regenerates exactly the committed logs (compared decompressed: gzip bytes
    /// may differ between zlib versions).
    @Test func committedSamplesAreWhatTheGeneratorWrites() throws {
        let dir = try TemporaryDirectory()
        try SampleLogsWriter.write(to: dir.url.path)
        let committed = CustodyProcess.repositoryRoot.appendingPathComponent("SampleLogs/logs").path
        let names = try FileManager.default.subpathsOfDirectory(atPath: committed).filter { $0.contains(".") && !$0.hasPrefix(".") }
            .sorted()
        #expect(names.count == 6)
        for name in names {
            #expect(try decoded(committed + "/" + name) == decoded(dir.path(name)), "\(name)")
        }
    }

    func decoded(_ path: String) throws -> [UInt8] {
        let source = try DecodedSources.open(path: path)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { source.read(into: $0) }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }

    @Test func textReportSummarisesAndTruncates() throws {
        let result = try CustodyProcess.run(["check", "SampleLogs/logs", "--policy", policy, "--as-of", "2026-11-19"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("NOT COMPLIANT"))
        #expect(result.stdout.contains("59 of 60 days covered"))
        #expect(result.stdout.contains("no records on 2026-10-03"))
        #expect(result.stdout.contains("user u09001 published 2 times before verifying"))
        // Checking as of a much later day leaves the window empty: one range, not 60 lines.
        let late = try CustodyProcess.run(["check", "SampleLogs/logs", "--policy", policy, "--as-of", "2027-03-01"])
        #expect(late.stdout.contains("Missing days (60, errors)\n  no records on 2026-12-31 … 2027-02-28 (60 days, Asia/Shanghai)\n"))
        // Rejected lines are errors only above input.max_rejected_share: the header counts each.
        #expect(late.stdout.contains("Rejected lines (3: 2 errors, 1 warning)"), "\(late.stdout)")
    }
}
