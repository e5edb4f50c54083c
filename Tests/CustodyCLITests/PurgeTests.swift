import CustodyCore
import CustodyTesting
import Foundation
import GRDB
import Testing

/// `custody purge`: lists over-retained objects, deletes only with --apply, never a held one.
@Suite struct PurgeTests {
    @Test func purgeSparesHeldObjectsAndRecordsDeletions() throws {
        // Two files from March 2025, one from later: as of mid-2026 the first two are past
        // the shipped policy's maximum_days (180), the third is not. (--apply takes no day
        // later than today.)
        let (fixture, queue, old) = try Self.stateWithTwoOldObjects(andARecentOne: true)
        #expect(old.count == 2)
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO legal_holds (request_id, vault_object, placed_at) VALUES ('REQ-1', ?, '2026-05-01T00:00:00Z')",
                arguments: [old[0]])
        }

        let dryRun = try fixture.custody("purge", asOf: "2026-06-01")
        #expect(dryRun.status == 0)
        #expect(dryRun.stdout.contains("2 objects"))
        #expect(dryRun.stdout.contains("HELD by REQ-1"))
        #expect(dryRun.stdout.contains("would delete"))
        // Small files: both objects are in one pack, rewritten by the purge without the one.
        #expect(fixture.vaultHolds(old[1]))

        let applied = try fixture.custody("purge", ["--apply"], asOf: "2026-06-01")
        #expect(applied.stdout.contains("deleted"))
        #expect(fixture.vaultHolds(old[0]))
        #expect(!fixture.vaultHolds(old[1]))
        #expect(!(try fixture.vaultMentions(old[1])), "the purged object's entry is still on disk")
        let purges = try queue.read { db in try String.fetchAll(db, sql: "SELECT vault_object FROM purges") }
        #expect(purges == [old[1]])

        // Released hold: the next purge deletes it.
        try queue.write { db in try db.execute(sql: "UPDATE legal_holds SET released_at = '2026-05-30T00:00:00Z'") }
        _ = try fixture.custody("purge", ["--apply"], asOf: "2026-06-01")
        #expect(!fixture.vaultHolds(old[0]))
        #expect(!(try fixture.vaultMentions(old[0])))
        // A purged object is not reported as missing by verify.
        let verify = try fixture.custody("verify", ["--format", "json"], asOf: "2026-06-01")
        #expect(!verify.stdout.contains("vault.object_missing"))
    }

    /// Every purge of an `--apply` is recorded in one transaction (flushed to disk) before any
    /// object is deleted: when recording the second one fails, neither is recorded, and both
    /// objects stay. (Recorded one transaction each, the first stayed recorded as purged.)
    @Test func purgesAreRecordedTogetherBeforeAnyDeletion() throws {
        let (fixture, queue, old) = try Self.stateWithTwoOldObjects(andARecentOne: false)
        #expect(old.count == 2)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse_second_purge BEFORE INSERT ON purges WHEN (SELECT count(*) FROM purges) >= 1
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """)
        }
        let applied = try fixture.custody("purge", ["--apply"], asOf: "2026-06-01")
        #expect(applied.status != 0)
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM purges") } == 0)
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM vault_objects WHERE purged_at IS NOT NULL") } == 0)
        #expect(fixture.vaultHolds(old[0]))
        #expect(fixture.vaultHolds(old[1]))
    }

    /// A state run as of 2026-06-01 over two files of events from March 2025 (past the shipped
    /// policy's maximum_days, 180) and, if asked, one from May 2026; with the vault objects whose
    /// newest record is before 2026, oldest first.
    static func stateWithTwoOldObjects(andARecentOne recent: Bool) throws -> (StateFixture, DatabaseQueue, [String]) {
        let fixture = try StateFixture()
        let events = StateFixture.events(days: 20, firstDay: CivilDay(year: 2025, month: 3, day: 1)!)
        try fixture.append(StateFixture.lines(Array(events.prefix(300))), to: "old-a.jsonl")
        try fixture.append(StateFixture.lines(Array(events.dropFirst(300))), to: "old-b.jsonl")
        if recent { try fixture.append("{\"ts\":\"2026-05-20T10:00:00+08:00\",\"event\":\"view\"}\n", to: "recent.jsonl") }
        _ = try fixture.custody("run", asOf: "2026-06-01")
        let queue = try DatabaseQueue(path: fixture.state + "/state.db")
        let old = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects WHERE last_day < '2026-01-01' ORDER BY last_day")
        }
        return (fixture, queue, old)
    }

    /// `purge --apply` rewrites packs a run writes to: while a run holds the lock it exits 75 and
    /// deletes nothing; a dry run needs no lock.
    @Test func purgeApplyWaitsForNoRun() throws {
        let old = try OldLooseObject()
        let (dryRun, busy) = try old.fixture.whileTheLockIsHeld {
            (try old.fixture.custody("purge", asOf: "2026-06-01"), try old.fixture.custody("purge", ["--apply"], asOf: "2026-06-01"))
        }
        #expect(dryRun.status == 0)
        #expect(busy.status == 75)
        #expect(old.fixture.vaultHolds(old.sha))
        #expect(try old.queue.read { db in try String.fetchAll(db, sql: "SELECT vault_object FROM purges") }.isEmpty)
    }

    /// A state with one loose vault object from March 2025: past the shipped policy's
    /// `maximum_days` (180) as of 2026-06-01, not yet as of 2025-08-30.
    struct OldLooseObject {
        let fixture: StateFixture
        let queue: DatabaseQueue
        let sha: String
        let path: String
        let bytes: Data

        init() throws {
            fixture = try StateFixture(extraConfig: "vault_pack_limit: 0")  // loose: its bytes can be put back
            let events = StateFixture.events(days: 5, firstDay: CivilDay(year: 2025, month: 3, day: 1)!)
            try fixture.append(StateFixture.lines(events), to: "old.jsonl")
            _ = try fixture.custody("run", asOf: "2026-06-01")
            queue = try DatabaseQueue(path: fixture.state + "/state.db")
            sha = try #require(try queue.read { db in try String.fetchOne(db, sql: "SELECT sha256 FROM vault_objects") })
            path = fixture.state + "/vault/\(sha.prefix(2))/\(sha).gz"
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        }

        /// Purged as of 2026-06-01, then its bytes put back.
        func purgedAndPutBack() throws {
            #expect(try fixture.custody("purge", ["--apply"], asOf: "2026-06-01").status == 0)
            #expect(!fixture.vaultHolds(sha))
            try bytes.write(to: URL(fileURLWithPath: path))
        }
    }

    /// Content purged once and then ingested again is live: the state says so (`purged_at` is
    /// cleared), and a later purge that does not find it over-retained must not delete it just
    /// because the ledger recorded the first purge.
    @Test func contentIngestedAgainAfterAPurgeIsNotDeletedAsUnfinished() throws {
        let old = try OldLooseObject()
        // Ingested again (what a run does when the same content comes back): the bytes are in
        // the vault and the row is live.
        try old.purgedAndPutBack()
        try old.queue.write { db in
            try db.execute(sql: "UPDATE vault_objects SET purged_at = NULL WHERE sha256 = ?", arguments: [old.sha])
        }
        // As of a day when it is not past maximum_days: not a candidate, and not deleted.
        let later = try old.fixture.custody("purge", ["--apply"], asOf: "2025-08-30")
        #expect(later.status == 0, "\(later.stderr)")
        #expect(old.fixture.vaultHolds(old.sha))
    }

    /// A purge interrupted after it recorded a deletion but before the bytes went (simulated by
    /// putting them back) is finished by the next `purge --apply`, even as of a day when the
    /// object would not be a candidate.
    @Test func aPurgeInterruptedAfterRecordingIsFinished() throws {
        let old = try OldLooseObject()
        try old.purgedAndPutBack()
        #expect(old.fixture.vaultHolds(old.sha))
        #expect(try old.fixture.custody("purge", ["--apply"], asOf: "2025-08-30").status == 0)
        #expect(!old.fixture.vaultHolds(old.sha))
    }

    @Test func shippedExampleConfigurationIsValid() throws {
        let example = CustodyProcess.repositoryRoot.appendingPathComponent("contrib/custody.yaml").path
        // The example with its system paths pointed into a temporary directory.
        var text = try String(contentsOfFile: example, encoding: .utf8)
        let dir = try TemporaryDirectory()
        text = text.replacingOccurrences(of: "/var/lib/custody/vault", with: dir.path("vault"))
            .replacingOccurrences(of: "/var/lib/custody", with: dir.path("state"))
            .replacingOccurrences(
                of: "/usr/local/share/custody/policies", with: CustodyProcess.repositoryRoot.appendingPathComponent("Policies").path
            )
            .replacingOccurrences(of: "/var/lib/prometheus/node-exporter", with: dir.url.path)
        let config = try dir.write("custody.yaml", text)
        let result = try CustodyProcess.run(["status", "--config", config, "--format", "json"])
        #expect(result.status <= 1, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
    }
}
