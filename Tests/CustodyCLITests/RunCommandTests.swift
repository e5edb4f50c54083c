import Crypto
import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// `custody run` / `status` / `verify` / `purge` against a temporary state directory.
@Suite struct RunCommandTests {
    @Test func runMatchesCheckAndASecondRunDoesNothing() throws {
        let fixture = try StateFixture()
        let events = StateFixture.events()
        try fixture.append(StateFixture.lines(Array(events.prefix(200))), to: "a.jsonl")
        let gz = try GzipWriter(path: fixture.dir.path("logs/b.jsonl.gz"))
        try gz.write(StateFixture.lines(Array(events.dropFirst(200)), from: 200))
        try gz.close()

        let first = try fixture.custody("run", ["--format", "json"])
        #expect(first.status == 1, "\(first.stderr)")
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", "2026-11-19", "--format", "json"])
        let runJSON = try CustodyProcess.json(first)
        let checkJSON = try CustodyProcess.json(check)
        for key in ["inputs", "retention", "real_name"] {
            #expect(
                NSDictionary(dictionary: runJSON[key] as! [String: Any]) == NSDictionary(dictionary: checkJSON[key] as! [String: Any]),
                "\(key)")
        }
        #expect(try fixture.totalRecords() == events.count)
        let before = try fixture.digest()

        let second = try fixture.custody("run")
        #expect(second.stderr.contains("0 with something new"))
        #expect(try fixture.digest() == before)

        let metrics = try String(contentsOfFile: fixture.dir.path("custody.prom"), encoding: .utf8)
        #expect(metrics.contains("custody_records \(events.count)\n"))
        #expect(metrics.contains("custody_last_run_records_added 0\n"))
        #expect(metrics.contains("# TYPE custody_last_success_timestamp_seconds gauge"))

        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.state + "/state.db")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    /// More publish events than are kept exactly, on both sides of a verification that is in
    /// another file: the stored span straddles it, and the audit of the state re-reads that
    /// span's own vault segment to count the ones before (5 of 12), as `check` does.
    @Test func storedSpanStraddlingAVerificationIsRecountedFromItsSegment() throws {
        let fixture = try StateFixture()
        let posts = (0..<12).map { h in #"{"ts":"2026-11-10T\#(String(format: "%02d", h + 1)):00:00Z","user":"s","event":"post"}"# + "\n" }
        try fixture.append(posts.joined(), to: "posts.jsonl")
        try fixture.append(#"{"ts":"2026-11-10T05:30:00Z","user":"s","event":"verify_phone"}"# + "\n", to: "verify.jsonl")

        let run = try fixture.custody("run", ["--format", "json"])
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", "2026-11-19", "--format", "json"])
        let runName = try #require(CustodyProcess.json(run)["real_name"] as? [String: Any], "\(run.stderr)")
        let checkName = try #require(CustodyProcess.json(check)["real_name"] as? [String: Any])
        #expect(runName["violating_events"] as? Int == 5)
        #expect(checkName["violating_events"] as? Int == 5)
    }

    @Test func growingFileIsResumedAndAnUnfinishedLineWaits() throws {
        let fixture = try StateFixture()
        let events = StateFixture.events()
        let text = StateFixture.lines(events)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let firstHalf = lines.prefix(100).joined(separator: "\n") + "\n"
        let partial = String(lines[100].prefix(20))
        try fixture.append(firstHalf + partial, to: "app.log")
        _ = try fixture.custody("run")
        #expect(try fixture.totalRecords() == 100)
        try fixture.append(String(lines[100].dropFirst(20)) + "\n" + lines[101...].joined(separator: "\n"), to: "app.log")
        _ = try fixture.custody("run")
        #expect(try fixture.totalRecords() == events.count)
    }

    @Test func copytruncateNeitherDoublesNorSkips() throws {
        let fixture = try StateFixture()
        let events = StateFixture.events()
        let all = StateFixture.lines(events).split(separator: "\n").map { $0 + "\n" }
        try fixture.append(all[0..<150].joined(), to: "app.log")
        _ = try fixture.custody("run")
        // Lines written after the run, then copytruncate: copy to app.log.1, truncate app.log.
        try fixture.append(all[150..<220].joined(), to: "app.log")
        try FileManager.default.copyItem(atPath: fixture.dir.path("logs/app.log"), toPath: fixture.dir.path("logs/app.log.1"))
        try Data().write(to: URL(fileURLWithPath: fixture.dir.path("logs/app.log")))
        try fixture.append(all[220...].joined(), to: "app.log")
        _ = try fixture.custody("run")
        #expect(try fixture.totalRecords() == events.count)
        _ = try fixture.custody("run")
        #expect(try fixture.totalRecords() == events.count)
    }

    @Test func secondRunWhileTheFirstHoldsTheLockExits75() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.log")
        _ = try fixture.custody("run")
        let before = try fixture.digest()
        let busy = try fixture.whileTheLockIsHeld { try fixture.custody("run") }
        #expect(busy.status == 75)
        #expect(busy.stderr.contains("another custody run"))
        #expect(try fixture.digest() == before)
    }

    @Test func verifyFindsAlteredAndMissingObjectsAndUncoveredDays() throws {
        let fixture = try StateFixture(extraConfig: "vault_pack_limit: 0")  // loose objects, one file each
        let events = StateFixture.events(days: 60)
        try fixture.append(StateFixture.lines(Array(events.prefix(events.count / 2))), to: "a.jsonl")
        try fixture.append(StateFixture.lines(Array(events.dropFirst(events.count / 2))), to: "b.jsonl")
        _ = try fixture.custody("run", asOf: "2026-12-31")
        let clean = try fixture.custody("verify", ["--format", "json"], asOf: "2026-12-31")
        #expect(clean.status == 0, "\(clean.stdout)")

        let vault = fixture.state + "/vault"
        let objects = try FileManager.default.subpathsOfDirectory(atPath: vault).filter { $0.hasSuffix(".gz") }.sorted()
        #expect(objects.count == 2)
        // Alter one object (it is 0440: the tamperer is root), delete the other.
        let altered = vault + "/" + objects[0]
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: altered)))
        bytes[bytes.count / 2] ^= 0x55
        chmod(altered, 0o640)
        try Data(bytes).write(to: URL(fileURLWithPath: altered))
        try FileManager.default.removeItem(atPath: vault + "/" + objects[1])

        let result = try fixture.custody("verify", ["--format", "json"], asOf: "2026-12-31")
        #expect(result.status == 3)  // an integrity failure
        let json = try CustodyProcess.json(result)
        let rules = (json["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
        #expect(rules.contains("vault.object_altered"))
        #expect(rules.contains("vault.object_missing"))
        // Both halves of the logs are gone from the vault: every day they held is uncovered.
        #expect(rules.filter { $0 == "vault.day_not_covered" }.count == 60)
    }

    /// A whole gzip file is stored in the vault as it is; one with a fault is stored as the
    /// content decoded before the fault. Both must verify.
    @Test func vaultCopiesOfGzipFilesVerify() throws {
        let fixture = try StateFixture(extraConfig: "vault_pack_limit: 0")  // loose objects, one file each
        let events = StateFixture.events()
        let good = try GzipWriter(path: fixture.dir.path("logs/good.jsonl.gz"))
        try good.write(StateFixture.lines(Array(events.prefix(200))))
        try good.finishMember()
        try good.write(StateFixture.lines(Array(events.dropFirst(200)), from: 200))
        try good.close()
        var broken = GzipWriter.compress(Array(StateFixture.lines(Array(events.prefix(50)), from: 9_000).utf8))
        broken[broken.count - 6] ^= 0xFF
        try Data(broken).write(to: URL(fileURLWithPath: fixture.dir.path("logs/broken.jsonl.gz")))
        let run = try fixture.custody("run", ["--format", "json"])
        #expect(run.status == 1)
        let inputs = try #require(try CustodyProcess.json(run)["inputs"] as? [String: Any])
        #expect(inputs["unreadable_files"] as? Int == 1)
        // The adopted copy is byte for byte the original file.
        let vault = fixture.state + "/vault"
        let stored = try FileManager.default.subpathsOfDirectory(atPath: vault).filter { $0.hasSuffix(".gz") }
        #expect(stored.count == 2)
        // The broken file's copy, made in the background while it was read, was abandoned and
        // removed, not left behind half-made.
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault).filter { $0.hasPrefix(".incoming") }.isEmpty)
        let original = try #require(FileManager.default.contents(atPath: fixture.dir.path("logs/good.jsonl.gz")))
        let adopted = try #require(stored.first { FileManager.default.contents(atPath: vault + "/" + $0) == original })
        // Named by the SHA-256 of the bytes it holds (the gzip file), not of their decoded content.
        let name = SHA256.hash(data: original).map { String(format: "%02x", $0) }.joined()
        #expect(adopted.hasSuffix("/\(name).gz"))
        let verify = try fixture.custody("verify", ["--format", "json"], asOf: "2026-11-11")
        #expect(!verify.stdout.contains("vault.object"), "\(verify.stdout)")

        // One flipped byte in the adopted copy is found, whichever way the object is named.
        var bytes = [UInt8](original)
        bytes[bytes.count / 2] ^= 0x01
        chmod(vault + "/" + adopted, 0o640)
        try Data(bytes).write(to: URL(fileURLWithPath: vault + "/" + adopted))
        let tampered = try fixture.custody("verify", ["--format", "json"], asOf: "2026-11-11")
        #expect(tampered.status == 3)  // an integrity failure
        #expect(tampered.stdout.contains("vault.object_altered"), "\(tampered.stdout)")
    }

    @Test func statusReadsTheStateOnly() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.log")
        _ = try fixture.custody("run")
        // The app deletes its logs: status (and a new run) still know what was kept.
        try FileManager.default.removeItem(atPath: fixture.dir.path("logs/app.log"))
        let status = try fixture.custody("status", ["--format", "json"], asOf: "2026-11-11")
        let json = try CustodyProcess.json(status)
        #expect(json["schema"] as? String == "custody.status.v1")
        let realName = try #require(json["real_name"] as? [String: Any])
        #expect(realName["violating_users"] as? Int == 3)
        let vault = try #require(json["vault"] as? [String: Any])
        #expect(vault["objects"] as? Int == 1)
        let run = try #require(json["last_run"] as? [String: Any])
        #expect(run["outcome"] as? String == "not_compliant")
        let again = try fixture.custody("run", ["--format", "json"], asOf: "2026-11-11")
        let inputs = try #require(try CustodyProcess.json(again)["inputs"] as? [String: Any])
        #expect(inputs["records"] as? Int == StateFixture.events().count)
    }

    /// Regression: `--config out/custody.yaml` with `policy: ../Policies/…` resolved to `/Policies/…`.
    @Test func relativeConfigPathsResolveAgainstTheConfigFile() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.log")
        try FileManager.default.createDirectory(atPath: fixture.dir.path("etc"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture.policy, toPath: fixture.dir.path("policy.yaml"))
        try fixture.dir.write("etc/custody.yaml", "sources:\n  - path: ../logs\npolicy: ../policy.yaml\nstate_directory: ../state\n")
        let result = try CustodyProcess.run(["run", "--config", "etc/custody.yaml", "--as-of", "2026-11-19"], in: fixture.dir.url)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(try fixture.totalRecords() == StateFixture.events().count)
    }

    @Test func configurationErrorsNameFileLineAndKey() throws {
        let fixture = try StateFixture(extraConfig: "vault_dir: elsewhere")
        let result = try fixture.custody("run")
        #expect(result.status == 2)
        #expect(result.stderr.contains("custody.yaml:6: vault_dir: unknown key"))
    }
}
