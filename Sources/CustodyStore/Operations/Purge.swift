import CustodyCore
import Foundation
import GRDB

/// `custody purge`: vault objects whose newest record is older than the policy's `maximum_days`
/// are over-retained. Listed by default; deleted only with `apply`, never under a legal hold,
/// and every deletion is recorded.
public struct Purge: Sendable {
    public struct Candidate: Sendable {
        public var sha256: String
        public var lastDay: String
        public var records: Int
        public var storedSize: Int
        /// Requests holding the object; a held object is never deleted.
        public var holds: [String]
    }

    public var cutoff: CivilDay?
    public var candidates: [Candidate]
    public var deleted: [String]

    public static func run(configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay, apply: Bool) throws -> Purge {
        guard let maximum = policy.retention.maximumDays else { return Purge(cutoff: nil, candidates: [], deleted: []) }
        // Objects whose newest record falls before this day are past maximum_days.
        let cutoff = asOf.adding(days: -maximum)
        let database = try StateDatabase(directory: configuration.stateDirectory)
        let vault = try Vault(directory: configuration.vaultDirectory)
        let candidates = try database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT sha256, last_day, records, stored_size,
                       (SELECT group_concat(request_id, ',') FROM legal_holds
                        WHERE legal_holds.vault_object = vault_objects.sha256 AND released_at IS NULL) AS holds
                FROM vault_objects
                WHERE purged_at IS NULL AND last_day IS NOT NULL AND last_day < ?
                ORDER BY last_day, sha256
                """, arguments: [cutoff.description]).map { row in
                let holds: String? = row["holds"]
                return Candidate(sha256: row[0], lastDay: row[1], records: row[2], storedSize: row[3],
                                 holds: holds?.split(separator: ",").map(String.init).sorted() ?? [])
            }
        }
        var deleted: [String] = []
        let ledger = Ledger(stateDirectory: configuration.stateDirectory)
        if apply {
            for candidate in candidates where candidate.holds.isEmpty {
                // Record first, then delete: a crash in between leaves a recorded purge of an object
                // that still exists, which the next purge finishes.
                try database.pool.write { db in
                    try db.execute(sql: "UPDATE vault_objects SET purged_at = ? WHERE sha256 = ?",
                                   arguments: [StateDatabase.timestamp(), candidate.sha256])
                    try db.execute(sql: """
                        INSERT INTO purges (vault_object, purged_at, records, last_record_at_ms, reason)
                        SELECT sha256, ?, records, last_record_at_ms, ? FROM vault_objects WHERE sha256 = ?
                        """, arguments: [StateDatabase.timestamp(), "newest record \(candidate.lastDay) is past maximum_days \(maximum)", candidate.sha256])
                    try ledger.append("purge.deleted", .object([
                        ("vault_object", .string(candidate.sha256)), ("last_day", .string(candidate.lastDay)),
                        ("records", .int(candidate.records)), ("maximum_days", .int(maximum)),
                    ]), db: db)
                }
                try vault.remove(candidate.sha256)
                deleted.append(candidate.sha256)
            }
            // Finish purges recorded before an interruption.
            let leftovers = try database.pool.read { db in
                try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects WHERE purged_at IS NOT NULL")
            }
            for sha in leftovers where vault.contains(sha) { try vault.remove(sha) }
            if !deleted.isEmpty { try ledger.checkpoint(database: database) }
        }
        return Purge(cutoff: cutoff, candidates: candidates, deleted: deleted)
    }
}
