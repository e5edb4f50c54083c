import CustodyCore
import Foundation
import GRDB
import Testing

/// An insider with write access to the state directory attacks the evidence; each attack must
/// be caught by the command named, with the exit status named (issue "Evidence that holds up").
/// `verify` exits 3 for an integrity failure, 1 when only compliance fails (the sample logs miss
/// 2026-10-03, so an untouched state exits 1).
@Suite struct TamperMatrixTests {
    enum Tamper: String, CaseIterable, CustomTestStringConvertible {
        case none
        case requestAuthorityUpdated
        case dailyRecordInserted
        case legalHoldReleasedInTable
        case vaultObjectRowDeleted
        case orphanObjectPlanted
        case freshEmptyStateDatabase
        case ledgerTailDeleted
        case ledgerWiped
        case stateRolledBack
        case chainResignedWithNewKey
        case fileAddedToPackage
        case ledgerEntryAppended
        case withheldDecisionFlipped
        case vaultObjectDatesMoved

        var testDescription: String { rawValue }

        /// The integrity findings that must name the tamper.
        var expectedRules: [String] {
            switch self {
            case .none: return []
            case .requestAuthorityUpdated, .legalHoldReleasedInTable: return ["state.ledger_mismatch"]
            case .dailyRecordInserted: return ["state.vault_mismatch"]
            case .vaultObjectRowDeleted, .orphanObjectPlanted: return ["vault.orphan_object"]
            case .freshEmptyStateDatabase: return ["vault.orphan_object", "ledger.checkpoint_failed"]
            case .ledgerTailDeleted, .ledgerWiped, .stateRolledBack: return ["ledger.checkpoint_failed"]
            case .chainResignedWithNewKey: return ["ledger.broken", "ledger.checkpoint_failed"]
            case .fileAddedToPackage: return ["package.extra_file"]
            case .ledgerEntryAppended: return ["ledger.unsigned_entries"]
            case .withheldDecisionFlipped: return ["state.ledger_mismatch"]
            case .vaultObjectDatesMoved: return ["state.vault_mismatch"]
            }
        }
    }

    @Test(arguments: Tamper.allCases)
    func verifyCatches(_ tamper: Tamper) throws {
        let fixture = try StateFixture.withSampleLogs()
        try fixture.addRequest()
        try fixture.snapshotState(to: "after-intake.db")
        try fixture.decideAndProduce()
        // The checkpoint an operator keeps elsewhere.
        let kept = fixture.dir.path("kept-checkpoint.json")
        try #require(try fixture.sub(["ledger", "checkpoint", "--out", kept]).status == 0)
        let queue = try fixture.insider()
        var mustNotMention: String?

        switch tamper {
        case .none:
            break
        case .requestAuthorityUpdated:
            try queue.write { db in try db.execute(sql: "UPDATE requests SET authority = 'Ministry of Nothing'") }
            let report = try fixture.sub([
                "report", "transparency", "--period", "2026H2", "--format", "json", "--out", fixture.dir.path("reports"),
            ])
            #expect(report.status == 1, "the report was built from an edited table: \(report.stderr)")
            #expect(report.stderr.contains("disagree with the ledger"))
        case .dailyRecordInserted:
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO daily_records (segment_id, day, records) VALUES ((SELECT MIN(id) FROM segments), '2026-10-03', 50)")
            }
        case .legalHoldReleasedInTable:
            try queue.write { db in try db.execute(sql: "UPDATE legal_holds SET released_at = '2026-11-21T00:00:00Z'") }
        case .vaultObjectRowDeleted:
            try queue.write { db in try db.execute(sql: "DELETE FROM vault_objects WHERE sha256 = (SELECT MIN(sha256) FROM vault_objects)")
            }
        case .orphanObjectPlanted:
            let fake = String(repeating: "ab", count: 32)
            try FileManager.default.createDirectory(atPath: fixture.state + "/vault/ab", withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: CustodyProcess.repositoryRoot.appendingPathComponent("SampleLogs/logs/app/2026-09.jsonl.gz").path,
                toPath: fixture.vaultPath(fake))
        case .freshEmptyStateDatabase:
            try queue.close()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.state + "/state.db" + suffix) }
            _ = try fixture.custody("status")  // any command but verify makes a fresh, empty state.db
            #expect(FileManager.default.fileExists(atPath: fixture.state + "/state.db"))
        case .ledgerTailDeleted:
            try queue.write { db in
                try fixture.unlockLedger(db)
                let head = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM ledger_entries")!
                try db.execute(sql: "DELETE FROM ledger_checkpoints WHERE seq > ?", arguments: [head - 3])
                try db.execute(sql: "DELETE FROM ledger_entries WHERE seq > ?", arguments: [head - 3])
            }
        case .ledgerWiped:
            try queue.write { db in
                try fixture.unlockLedger(db)
                try db.execute(sql: "DELETE FROM ledger_checkpoints; DELETE FROM ledger_entries")
            }
        case .stateRolledBack:
            try queue.close()
            try fixture.restoreState(from: "after-intake.db")
            mustNotMention = "state.ledger_mismatch"  // a rolled-back state is consistent in itself
        case .chainResignedWithNewKey:
            try queue.close()
            try fixture.resignLedger(replacing: "Shanghai Public Security Bureau", with: "Ministry of Nothing")
        case .fileAddedToPackage:
            try Data("planted\n".utf8).write(to: URL(fileURLWithPath: fixture.package + "/records/planted.log"))
        case .ledgerEntryAppended:
            // A new authority, in a chained entry and the table alike: the tables agree with
            // the ledger, and no key was needed. Nothing may sign, publish or produce over it.
            try queue.close()
            try fixture.appendForgedEntry(
                replacing: "Shanghai Public Security Bureau", with: "Ministry of Nothing", column: "authority", value: "Ministry of Nothing"
            )
            let checkpoint = try fixture.sub(["ledger", "checkpoint"])
            #expect(checkpoint.status == 1, "signed over a forged entry: \(checkpoint.stdout)")
            #expect(checkpoint.stderr.contains("signed by no checkpoint"), "\(checkpoint.stderr)")
            let report = try fixture.sub([
                "report", "transparency", "--period", "2026H2", "--format", "json", "--out", fixture.dir.path("reports"),
            ])
            #expect(report.status == 1, "published from a forged entry: \(report.stderr)")
            let produced = try fixture.sub(["request", "produce", StateFixture.requestID, "--out", fixture.dir.path("again")])
            #expect(produced.status == 1, "produced under a forged entry: \(produced.stderr)")
        case .vaultObjectDatesMoved:
            // Productions and holds pick objects by these columns: moved, an object hides.
            try queue.write { db in
                try db.execute(
                    sql: """
                        UPDATE vault_objects SET first_record_at_ms = 1577836800000, last_record_at_ms = 1577923200000,
                          first_day = '2020-01-01', last_day = '2020-01-02'
                        WHERE sha256 = (SELECT MIN(sha256) FROM vault_objects)
                        """)
            }
        case .withheldDecisionFlipped:
            try queue.write { db in try db.execute(sql: "UPDATE request_decisions SET produce = 1") }
            let produced = try fixture.sub(["request", "produce", StateFixture.requestID, "--out", fixture.dir.path("again")])
            #expect(produced.status == 1, "produced a withheld user's records: \(produced.stderr)")
            #expect(!FileManager.default.fileExists(atPath: fixture.dir.path("again") + "/records/u09001.jsonl.gz"))
        }

        let verify = try fixture.custody("verify", ["--format", "json", "--checkpoint", kept])
        let json = try CustodyProcess.json(verify)
        let compliance = try #require(json["compliance"] as? [String: Any])
        let integrity = try #require(json["integrity"] as? [String: Any])
        if tamper == .none {
            #expect(verify.status == 1, "\(verify.stdout)")
            #expect(integrity["ok"] as? Bool == true, "\(verify.stdout)")
            #expect(compliance["ok"] as? Bool == false)
        } else {
            #expect(verify.status == 3, "\(tamper) not detected: \(verify.stdout)")
            #expect(integrity["ok"] as? Bool == false)
        }
        let rules = Set((integrity["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String })
        for rule in tamper.expectedRules { #expect(rules.contains(rule), "\(tamper): no \(rule) in \(rules)") }
        if let mustNotMention { #expect(!verify.stdout.contains(mustNotMention)) }
        // The day no log holds stays missing, whatever a table says.
        #expect(verify.stdout.contains("2026-10-03"))
    }

    /// Ten days of logs from March 2025 (past maximum_days, 180, as of 2026-11-19), ingested,
    /// and a request for 2025-03-01 up to `last`, which holds the objects it covers.
    func yearOldLogsWithARequest(to last: String) throws -> StateFixture {
        let fixture = try StateFixture()
        let events = StateFixture.events(days: 10, firstDay: CivilDay(year: 2025, month: 3, day: 1)!)
        try fixture.append(StateFixture.lines(events), to: "old.jsonl")
        _ = try fixture.custody("run", asOf: "2025-03-20")
        try fixture.addRequest(from: "2025-03-01", to: last)
        return fixture
    }

    /// `purge --apply` on a ledger that fails verification deletes nothing and stops like every
    /// command that refuses to sign such a ledger: exit status 1, "run custody verify".
    @Test func purgeRefusesABrokenLedger() throws {
        let fixture = try yearOldLogsWithARequest(to: "2025-03-02")
        let queue = try fixture.insider()
        let objects = try queue.read { db in try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects") }
        try #require(!objects.isEmpty)
        try queue.write { db in
            try fixture.unlockLedger(db)
            try db.execute(sql: "UPDATE ledger_entries SET entry = replace(entry, 'REQ-1', 'REQ-9') WHERE seq = 1")
        }

        let purge = try fixture.custody("purge", ["--apply"], asOf: "2026-11-19")
        #expect(purge.status == 1, "\(purge.status) \(purge.stderr)")
        #expect(purge.stderr.contains("ledger fails verification") && purge.stderr.contains("run custody verify"), "\(purge.stderr)")
        for object in objects {
            #expect(fixture.vaultHolds(object), "object \(object) deleted")
        }
    }

    /// Releasing a hold by editing `legal_holds` does not make held evidence deletable: purge
    /// decides from the ledger's hold entries.
    @Test func purgeKeepsWhatTheLedgerHolds() throws {
        let fixture = try yearOldLogsWithARequest(to: "2025-03-10")
        let queue = try fixture.insider()
        let objects = try queue.read { db in try String.fetchAll(db, sql: "SELECT vault_object FROM legal_holds") }
        try #require(!objects.isEmpty)
        try queue.write { db in try db.execute(sql: "UPDATE legal_holds SET released_at = '2025-04-01T00:00:00Z'") }

        let purge = try fixture.custody("purge", ["--apply"], asOf: "2026-11-19")
        #expect(purge.status == 0, "\(purge.stderr)")
        #expect(purge.stdout.contains("HELD by REQ-1"), "\(purge.stdout)")
        for object in objects {
            #expect(fixture.vaultHolds(object), "held object \(object) deleted")
        }
        let verify = try fixture.custody("verify", ["--format", "json"], asOf: "2026-11-19")
        #expect(verify.status == 3)
        #expect(verify.stdout.contains("state.ledger_mismatch"))
    }
}
