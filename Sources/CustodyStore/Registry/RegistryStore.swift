import CustodyCore
import CustodyIngest
import Foundation
import GRDB

/// Verifications from the user database, kept in the state (`registry_verifications`).
public enum RegistryStore {
    /// What an import changed.
    public struct ImportResult: Sendable, Equatable {
        public var rows: Int
        /// Rows not already in the state.
        public var added: Int
    }

    /// Records every row in one transaction; rows already present change nothing.
    public static func importRows(_ rows: [RegistryVerification], source: String, into database: StateDatabase) throws -> ImportResult {
        try database.pool.write { db in
            var added = 0
            let now = StateDatabase.timestamp()
            for row in rows {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO registry_verifications (user, verified_at_ms, method, source, imported_at)
                        VALUES (?, ?, ?, ?, ?)
                        """, arguments: [row.user, row.verifiedAt, row.method, source, now])
                added += db.changesCount
            }
            return ImportResult(rows: rows.count, added: added)
        }
    }

    /// The imported verifications of users the logs show (a user database holds everyone).
    static func verifications(_ db: Database) throws -> [RegistryVerification] {
        // `users` has no index by name (it is keyed by integer): the query below reads all of
        // it, which is only worth doing when there is something to find.
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM registry_verifications)") == true else { return [] }
        return try Row.fetchAll(
            db,
            sql: """
                SELECT user, verified_at_ms, method FROM registry_verifications WHERE user IN (SELECT user FROM users)
                """
        ).map {
            RegistryVerification(user: $0[0], verifiedAt: $0[1], method: $0[2])
        }
    }

    /// One user's known verification: from the logs (the earliest accepted verification event)
    /// or from the registry (the earliest imported row by an accepted method).
    public struct Entry: Sendable, Equatable {
        public var user: String
        public var verifiedAt: Int64
        /// `log` or `registry`.
        public var origin: String
        /// The verification method (registry rows), nil for the logs.
        public var method: String?
        /// The registry file the row came from.
        public var source: String?
    }

    /// Every verification the state knows, by user, then time.
    public static func list(database: StateDatabase) throws -> [Entry] {
        try database.pool.read { db in
            var entries: [Entry] = []
            for row in try Row.fetchAll(db, sql: "SELECT user, verified_at_ms FROM users WHERE verified_at_ms IS NOT NULL") {
                entries.append(Entry(user: row[0], verifiedAt: row[1], origin: "log", method: nil, source: nil))
            }
            for row in try Row.fetchAll(db, sql: "SELECT user, verified_at_ms, method, source FROM registry_verifications") {
                entries.append(Entry(user: row[0], verifiedAt: row[1], origin: "registry", method: row[2], source: row[3]))
            }
            return entries.sorted { ($0.user, $0.verifiedAt, $0.origin) < ($1.user, $1.verifiedAt, $1.origin) }
        }
    }
}
