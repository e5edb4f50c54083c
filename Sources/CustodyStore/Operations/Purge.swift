import CustodyCore
import CustodyIngest
import Foundation
import GRDB

/// `custody purge`: vault objects whose newest record is older than the policy's `maximum_days`
/// are over-retained. Listed by default; deleted only with `apply`, and never one that:
///
/// - is under a legal hold, as the *ledger* records holds (a hold released by editing the
///   `legal_holds` table still holds) or as the table does;
/// - holds, when its vault copy is read again, a record inside the minimum-retention window
///   counted back from today, whatever `--as-of` or the `vault_objects` dates say;
/// - cannot be read back intact.
///
/// `--apply` refuses an `--as-of` later than today and a ledger that fails verification. Every
/// deletion is recorded in the ledger before the object is removed.
public struct Purge: Sendable {
    public struct Candidate: Sendable {
        public var sha256: String
        public var lastDay: String
        public var records: Int
        public var storedSize: Int
        /// Requests holding the object; a held object is never deleted.
        public var holds: [String]
        /// Why an unheld candidate is kept anyway (set when applying).
        public var keptBecause: String?
    }

    /// A purge that must not go ahead; one line for the user (exit status 2).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public var cutoff: CivilDay?
    public var candidates: [Candidate]
    public var deleted: [String]

    public static func run(
        configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay, apply: Bool,
        today: CivilDay? = nil
    ) throws -> Purge {
        guard let maximum = policy.retention.maximumDays else { return Purge(cutoff: nil, candidates: [], deleted: []) }
        var calendar = DayCalendar(timeZone: policy.timeZone)
        let today = today ?? calendar.day(of: Date())
        if apply && asOf > today {
            throw Refusal(
                description:
                    "purge --apply refuses --as-of \(asOf): it is later than today (\(today)); deletion is decided as of today or earlier")
        }
        // Objects whose newest record falls before this day are past maximum_days.
        let cutoff = asOf.adding(days: -maximum)
        // Whatever the dates say, nothing with a record on or after this day is deleted.
        let retentionFloor = min(asOf, today).adding(days: -policy.retention.minimumDays)
        // Deleting rewrites packs shared with `run` (and its start removes half-written ones):
        // never at the same time as a run. A dry run changes nothing and needs no lock.
        let lock = apply ? try RunLock(stateDirectory: configuration.stateDirectory) : nil
        defer { withExtendedLifetime(lock) {} }
        let database = try StateDatabase(directory: configuration.stateDirectory)
        let vault = try Vault(directory: configuration.vaultDirectory)
        let ledger = Ledger(configuration: configuration)
        let formats = try VaultFormats(database: database, configuration: configuration)
        let facts = try LedgerFacts.load(ledger: ledger, database: database)
        let lapsed = facts.lapsedRequests(before: asOf.description)
        var candidates = try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT sha256, last_day, records, stored_size,
                           (SELECT group_concat(request_id, ',') FROM legal_holds
                            WHERE legal_holds.vault_object = vault_objects.sha256 AND released_at IS NULL) AS holds
                    FROM vault_objects
                    WHERE purged_at IS NULL AND last_day IS NOT NULL AND last_day < ?
                    ORDER BY last_day, sha256
                    """, arguments: [cutoff.description]
            ).map { row in
                let sha: String = row[0]
                let tableHolds: String? = row["holds"]
                // A US preservation hold lapses after its 90 days (and one extension).
                let holds = Set(tableHolds?.split(separator: ",").map(String.init) ?? []).union(facts.holds[sha] ?? [])
                    .subtracting(lapsed)
                return Candidate(sha256: sha, lastDay: row[1], records: row[2], storedSize: row[3], holds: holds.sorted())
            }
        }
        var deleted: [String] = []
        if apply {
            let verification = try ledger.verify(database: database)
            if let failure = verification.firstFailure {
                // An integrity refusal, like every command that will not sign a broken ledger (exit 1).
                throw IntegrityError(
                    "purge --apply refuses to delete while the ledger fails verification (entry \(failure.seq): \(failure.reason)); run custody verify"
                )
            }
            var toDelete: [Candidate] = []
            for index in candidates.indices where candidates[index].holds.isEmpty {
                let candidate = candidates[index]
                if let why = reasonToKeep(
                    candidate.sha256, vault: vault, format: formats.format(of: candidate.sha256), policy: policy, cutoff: cutoff,
                    floor: retentionFloor)
                {
                    candidates[index].keptBecause = why
                    continue
                }
                toDelete.append(candidate)
            }
            // Record first, then delete (below): every purge in one transaction, flushed to disk
            // before any object goes (`durableWrite`; the state's other commits are not flushed
            // one by one). A crash or a power cut in between leaves recorded purges of objects
            // that still exist, which the next purge finishes; never an object gone that the
            // state and the ledger still count as kept.
            if !toDelete.isEmpty {
                try database.durableWrite { db in
                    for candidate in toDelete {
                        try db.execute(
                            sql: "UPDATE vault_objects SET purged_at = ? WHERE sha256 = ?",
                            arguments: [StateDatabase.timestamp(), candidate.sha256])
                        try db.execute(
                            sql: """
                                INSERT INTO purges (vault_object, purged_at, records, last_record_at_ms, reason)
                                SELECT sha256, ?, records, last_record_at_ms, ? FROM vault_objects WHERE sha256 = ?
                                """,
                            arguments: [
                                StateDatabase.timestamp(), "newest record \(candidate.lastDay) is past maximum_days \(maximum)",
                                candidate.sha256,
                            ])
                        try ledger.append(
                            "purge.deleted",
                            .object([
                                ("vault_object", .string(candidate.sha256)), ("last_day", .string(candidate.lastDay)),
                                ("records", .int(candidate.records)), ("maximum_days", .int(maximum)),
                            ]), db: db)
                    }
                }
                deleted = toDelete.map(\.sha256)
            }
            // Deleted together, once all are recorded: each pack holding some is rewritten once
            // (one by one, a day of 10,000 small objects rewrote each pack up to 256 times, and
            // every rewrite made the next check read every pack's entries again).
            try vault.remove(Set(deleted))
            // Finish purges recorded (in the ledger) before an interruption: those the state
            // still marks purged. Content ingested again since is live (its `purged_at` cleared),
            // whatever the ledger recorded of the first purge.
            let stillPurged = Set(
                try database.pool.read { db in try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects WHERE purged_at IS NOT NULL")
                })
            let unfinished = facts.purged.keys.filter {
                stillPurged.contains($0) && vault.contains($0) && (facts.holds[$0] ?? []).subtracting(lapsed).isEmpty
            }
            if !unfinished.isEmpty { try vault.remove(Set(unfinished)) }
            if !deleted.isEmpty { try ledger.checkpoint(database: database) }
        }
        return Purge(cutoff: cutoff, candidates: candidates, deleted: deleted)
    }

    /// Reads the object back and says why it must stay, or nil when it may go: the dates that
    /// matter are those of the records it holds, not those a table says it holds.
    static func reasonToKeep(_ sha: String, vault: Vault, format: LogFormat, policy: Policy, cutoff: CivilDay, floor: CivilDay) -> String? {
        let (integrity, scanned) = vault.withVerifiedObject(sha) { FileAudit.scan(path: $0, index: 0, policy: policy, format: format) }
        guard integrity == .intact, let audit = scanned else { return "its vault copy is not intact (run custody verify)" }
        guard let newest = audit.dayCounts.keys.max().map({ CivilDay(daysSinceEpoch: $0) }) else {
            return audit.records == 0 && audit.issues.fault == nil ? nil : "its records could not be dated"
        }
        if newest >= floor { return "it holds records of \(newest), inside the minimum retention window (from \(floor))" }
        if newest >= cutoff { return "it holds records of \(newest), not yet past maximum_days" }
        return nil
    }
}
