import CustodyCore
import CustodyTesting
import Foundation
import GRDB
import Testing

/// Evidence that holds up: only verified bytes are produced, packages list every file in time
/// order and one format per file, the signing key and checkpoints live outside the state, and
/// verify creates nothing.
@Suite struct EvidenceTests {
    /// A line changed inside a vault object (re-gzipped, as an insider would) is never produced.
    @Test func produceRefusesAnAlteredVaultObject() throws {
        // Loose objects, each its own gzip file (packed ones: PackedVaultTests).
        let fixture = try StateFixture.withSampleLogs(extraConfig: "vault_pack_limit: 0")
        try fixture.addRequest()
        try #require(try fixture.sub(["request", "decide", StateFixture.requestID, "--all", "--produce", "--reason", "ok"]).status == 0)
        // The object holding u00001's November records.
        let queue = try fixture.insider()
        let object = try #require(
            try queue.read { db in
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT sha256 FROM vault_objects WHERE first_day <= '2026-11-02' AND last_day >= '2026-11-02' ORDER BY sha256 LIMIT 1
                        """)
            })
        let path = fixture.vaultPath(object)
        var content = try GzipFixture.gunzip(Data(contentsOf: URL(fileURLWithPath: path)))
        let text = String(decoding: content, as: UTF8.self)
        let altered = text.replacingOccurrences(of: "\"event\":\"login\"", with: "\"event\":\"lgoin\"")
        try #require(altered != text)
        content = Data(altered.utf8)
        chmod(path, 0o600)
        try GzipFixture.gzip(content).write(to: URL(fileURLWithPath: path))

        let produced = try fixture.sub(["request", "produce", StateFixture.requestID, "--out", fixture.package])
        #expect(produced.status == 1, "\(produced.stdout) \(produced.stderr)")
        #expect(produced.stderr.contains(object))
        #expect(!FileManager.default.fileExists(atPath: fixture.package + "/records"))

        // Restored, but its row deleted: the package would silently lack its records.
        try GzipFixture.gzip(Data(text.utf8)).write(to: URL(fileURLWithPath: path))
        try queue.write { db in try db.execute(sql: "DELETE FROM vault_objects WHERE sha256 = ?", arguments: [object]) }
        let partial = try fixture.sub(["request", "produce", StateFixture.requestID, "--out", fixture.package])
        #expect(partial.status == 1, "\(partial.stdout) \(partial.stderr)")
        #expect(partial.stderr.contains("not in the state"))
    }

    /// One file per user and source format, each in time order; the manifest says which format.
    @Test func packagesKeepOneFormatPerFileInTimeOrder() throws {
        let fixture = try StateFixture.withSampleLogs()
        try fixture.addRequest(from: "2026-09-01", to: "2026-11-19")
        try fixture.decideAndProduce()
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.package + "/manifest.json")))
                as? [String: Any])
        let files = try #require(manifest["files"] as? [[String: Any]])
        let formats = files.compactMap { $0["format"] as? String }
        #expect(formats.count == files.count)
        #expect(Set(formats).count == formats.count, "one file per format: \(formats)")
        #expect(formats.count >= 2, "u00001 appears in JSON lines and in other formats: \(formats)")
        for file in files {
            let path = try #require(file["path"] as? String)
            let format = try #require(file["format"] as? String)
            #expect(path == "records/u00001.\(format).gz")
            let lines = try GzipFixture.gunzip(Data(contentsOf: URL(fileURLWithPath: fixture.package + "/" + path)))
                .split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
            #expect(lines.count == file["records"] as? Int)
            switch format {
            case "jsonl": #expect(lines.allSatisfy { $0.hasPrefix("{") })
            case "logfmt": #expect(lines.allSatisfy { !$0.hasPrefix("{") && $0.contains("=") })
            default: #expect(lines.allSatisfy { !$0.hasPrefix("{") })
            }
            // Time order: the JSON lines' ts fields never go backwards.
            if format == "jsonl" {
                let times = lines.compactMap { line -> Int64? in
                    guard let range = line.range(of: "\"ts\":\"") else { return nil }
                    let rest = line[range.upperBound...]
                    return TimestampParser.parse(String(rest.prefix { $0 != "\"" }))
                }
                #expect(times.count == lines.count)
                #expect(times == times.sorted(), "records out of time order")
            }
        }
    }

    @Test func verifyNeverCreatesTheStateOrTheKey() throws {
        let fixture = try StateFixture(ledgerKey: false)
        let noState = try fixture.custody("verify")
        #expect(noState.status == 2)
        #expect(noState.stderr.contains("state.db"))
        #expect(!FileManager.default.fileExists(atPath: fixture.state + "/state.db"))

        _ = try fixture.custody("status")  // creates the state
        let noKey = try fixture.custody("verify")
        #expect(noKey.status == 2)
        #expect(noKey.stderr.contains("custody ledger init"))
        #expect(!FileManager.default.fileExists(atPath: fixture.ledgerKey))
        #expect(!FileManager.default.fileExists(atPath: fixture.state + "/ledger-signing.key"))
        // Nor does anything that must sign: it fails and says how to create the key.
        try fixture.append(StateFixture.lines(StateFixture.events(days: 2)), to: "a.jsonl")
        _ = try fixture.custody("run")
        let add = try fixture.sub([
            "request", "add", "--id", "R", "--received", "2026-11-20T09:00:00+08:00", "--authority", "A",
            "--jurisdiction", "CN", "--legal-basis", "B", "--process-type", "other", "--user", "u1",
            "--from", "2026-11-01", "--to", "2026-11-02",
        ])
        #expect(add.status == 2)
        #expect(add.stderr.contains("custody ledger init"))
        #expect(!FileManager.default.fileExists(atPath: fixture.ledgerKey))

        let created = try fixture.sub(["ledger", "init"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: fixture.ledgerKey)[.posixPermissions] as? Int == 0o600)
        let again = try fixture.sub(["ledger", "init"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("never replaces"))
    }

    @Test func aKeyInsideTheStateDirectoryIsRefusedAndCanBeMovedOut() throws {
        let inside = try StateFixture(extraConfig: "ledger_key: state/ledger.key", ledgerKey: false)
        let refused = try inside.custody("status")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("ledger_key"))

        // A state made by an earlier version: its key sits in the state directory.
        let fixture = try StateFixture(ledgerKey: false)
        _ = try fixture.custody("status")
        let legacy = fixture.state + "/ledger-signing.key"
        try "bm90IGEga2V5IGJ1dCAzMiBieXRlcyBsb25nISEhISE=\n".write(toFile: legacy, atomically: true, encoding: .utf8)
        let fresh = try fixture.sub(["ledger", "init"])
        #expect(fresh.status == 2)
        #expect(fresh.stderr.contains("--import-key"))
        let imported = try fixture.sub(["ledger", "init", "--import-key"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(!FileManager.default.fileExists(atPath: legacy))
        #expect(try String(contentsOfFile: fixture.ledgerKey, encoding: .utf8) == "bm90IGEga2V5IGJ1dCAzMiBieXRlcyBsb25nISEhISE=\n")
    }

    /// With `witness_directory`, every ledger change leaves a checkpoint there, and verify reads
    /// them without being told: a wiped ledger is caught with no --checkpoint.
    @Test func witnessCheckpointsCatchAWipedLedger() throws {
        let fixture = try StateFixture.withSampleLogs(extraConfig: "witness_directory: witness")
        try fixture.addRequest()
        let witness = fixture.dir.path("witness")
        let files = try FileManager.default.contentsOfDirectory(atPath: witness).filter { $0.hasSuffix(".json") }
        #expect(!files.isEmpty)
        let clean = try fixture.custody("verify")
        #expect(clean.status == 1, "\(clean.stdout)")
        let queue = try fixture.insider()
        try queue.write { db in
            try fixture.unlockLedger(db)
            try db.execute(sql: "DELETE FROM ledger_checkpoints; DELETE FROM ledger_entries; DELETE FROM legal_holds; DELETE FROM requests")
        }
        let wiped = try fixture.custody("verify")
        #expect(wiped.status == 3, "\(wiped.stdout)")
        #expect(wiped.stdout.contains("ledger.checkpoint_failed"))
    }

    /// A checkpoint written while the process is killed is either complete (and verifies) or absent.
    @Test func aKilledCheckpointWriteLeavesAWholeFileOrNone() throws {
        let fixture = try StateFixture.withSampleLogs()
        try fixture.addRequest()
        let target = fixture.dir.path("witness/checkpoint.json")
        try FileManager.default.createDirectory(atPath: fixture.dir.path("witness"), withIntermediateDirectories: true)
        var sawComplete = 0
        for attempt in 0..<12 {
            try? FileManager.default.removeItem(atPath: target)
            let process = Process()
            process.executableURL = CustodyProcess.executable
            process.arguments = ["ledger", "checkpoint", "--config", fixture.config, "--out", target]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(2_000 + attempt * 4_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            guard FileManager.default.fileExists(atPath: target) else { continue }
            let text = try String(contentsOfFile: target, encoding: .utf8)
            #expect(text.hasSuffix("}\n"), "a partial checkpoint: \(text)")
            let verify = try fixture.custody("verify", ["--checkpoint", target])
            #expect(verify.status == 1, "\(verify.stdout)")
            sawComplete += 1
        }
        // Left alone, the command finishes and the file verifies.
        #expect(try fixture.sub(["ledger", "checkpoint", "--out", target]).status == 0)
        #expect(try fixture.custody("verify", ["--checkpoint", target]).status == 1)
        _ = sawComplete
    }

    /// `purge --apply` refuses a day later than today, and never deletes an object whose records
    /// fall inside the minimum retention window, whatever the state's dates say.
    @Test func purgeRefusesTheFutureAndTheRetentionWindow() throws {
        let fixture = try StateFixture()
        try fixture.append(
            StateFixture.lines(StateFixture.events(days: 5, firstDay: CivilDay(year: 2026, month: 11, day: 1)!)), to: "recent.jsonl")
        _ = try fixture.custody("run")
        let queue = try fixture.insider()
        let object = try #require(try queue.read { db in try String.fetchOne(db, sql: "SELECT sha256 FROM vault_objects") })

        let future = try fixture.custody("purge", ["--apply"], asOf: "2099-01-01")
        #expect(future.status == 2)
        #expect(future.stderr.contains("later than today"))
        #expect(fixture.vaultHolds(object))

        // The state's dates say the object is years old; its records say otherwise.
        try queue.write { db in try db.execute(sql: "UPDATE vault_objects SET first_day = '2020-01-01', last_day = '2020-01-02'") }
        let purge = try fixture.custody("purge", ["--apply"], asOf: "2026-11-19")
        #expect(purge.status == 0, "\(purge.stderr)")
        #expect(purge.stdout.contains("minimum retention window"), "\(purge.stdout)")
        #expect(fixture.vaultHolds(object))
    }

    /// After a purge, status and verify agree that the day's copy is gone and name the purge.
    @Test func afterAPurgeStatusAndVerifyNameIt() throws {
        let fixture = try StateFixture()
        try fixture.append(
            StateFixture.lines(StateFixture.events(days: 5, firstDay: CivilDay(year: 2025, month: 3, day: 1)!)), to: "old.jsonl")
        _ = try fixture.custody("run", asOf: "2025-03-10")
        let purge = try fixture.custody("purge", ["--apply"], asOf: "2026-11-19")
        #expect(purge.stdout.contains("deleted"), "\(purge.stdout)")
        let status = try fixture.custody("status", asOf: "2025-03-06")
        let verify = try fixture.custody("verify", asOf: "2025-03-06")
        #expect(status.status == 1)
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(status.stdout.contains("2025-03-03") && status.stdout.contains("purged"), "\(status.stdout)")
        #expect(verify.stdout.contains("2025-03-03") && verify.stdout.contains("purged"), "\(verify.stdout)")
    }

    /// A tampered ledger is never signed again: signing it would launder the tampering.
    @Test func aTamperedLedgerIsNotSignedAgain() throws {
        let resigned = try StateFixture.disclosed()
        try resigned.resignLedger(replacing: "Shanghai Public Security Bureau", with: "Ministry of Nothing")
        let refused = try resigned.sub(["ledger", "checkpoint"])
        #expect(refused.status == 1, "\(refused.stdout)")
        #expect(refused.stderr.contains("not signing"))

        // Rolled back behind the witness's newest checkpoint: the next step refuses to sign.
        let rolled = try StateFixture.withSampleLogs(extraConfig: "witness_directory: witness")
        try rolled.addRequest()
        try rolled.snapshotState(to: "early.db")
        try #require(try rolled.sub(["request", "decide", StateFixture.requestID, "--all", "--withhold", "--reason", "no"]).status == 0)
        try rolled.restoreState(from: "early.db")
        let next = try rolled.sub(["request", "decide", StateFixture.requestID, "--all", "--produce", "--reason", "yes"])
        #expect(next.status == 1, "\(next.stdout) \(next.stderr)")
        #expect(next.stderr.contains("witness checkpoint"))
    }

    /// Integrity and compliance are two verdicts; a warning (a package handed over and moved
    /// away) is neither.
    @Test func verifyKeepsIntegrityComplianceAndWarningsApart() throws {
        let fixture = try StateFixture.disclosed()
        try FileManager.default.moveItem(atPath: fixture.package, toPath: fixture.dir.path("handed-over"))
        let verify = try fixture.custody("verify")
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("Integrity: OK"))
        #expect(verify.stdout.contains("Compliance: 1 day of the window not covered"))
        #expect(verify.stdout.contains("Warnings (not problems):"))
        #expect(!verify.stdout.contains("FAILED"))
        // A checkpoint path that does not exist is a usage error, not a failed check.
        let typo = try fixture.custody("verify", ["--checkpoint", fixture.dir.path("no-such-checkpoint.json")])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("no such checkpoint"))
    }
}
