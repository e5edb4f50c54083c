import CustodyCore
import Foundation
import GRDB

/// The state database (`state.db` in the state directory): SQLite in WAL mode, mode 0600,
/// migrated on open.
public final class StateDatabase: Sendable {
    public let path: String
    public let directory: String
    public let pool: DatabasePool

    public static let fileName = "state.db"

    /// Opens (and migrates) the state database; with `create`, makes the directory and the file
    /// when they do not exist yet. Without it (`custody verify`), a missing database is an error:
    /// checking must never create what it checks.
    public init(directory: String, create: Bool = true) throws {
        let fm = FileManager.default
        if !create {
            guard fm.fileExists(atPath: directory + "/" + Self.fileName) else {
                throw StoreError.database(
                    path: directory + "/" + Self.fileName,
                    reason: "no state database here (verify never creates one; `custody run` does on first use)")
            }
        }
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError.io(path: directory, reason: "cannot create the state directory")
        }
        self.directory = directory
        path = directory + "/" + Self.fileName
        // Create the file private before SQLite does; the WAL and shared-memory files copy its mode.
        if !fm.fileExists(atPath: path) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 { close(fd) }
        }
        chmod(path, 0o600)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // 32 MiB of page cache: with 500,000 users the users index outgrew SQLite's default 2 MiB
        // and every upsert re-read pages (a fresh run of the bench files: 7.45 -> 5.7 s).
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -32768") }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Migrations.migrator.migrate(pool)
        } catch {
            throw StoreError.database(path: path, reason: "\(error)")
        }
    }

    /// Runs `updates` in a write transaction whose commit is on disk when this returns, with every
    /// commit before it: for what something outside the state vouches for next (the ledger's
    /// signed checkpoint, copied to the witness directory). Only a transaction that writes
    /// something is flushed: one that changes nothing adds nothing to the log.
    ///
    /// The pool commits in WAL mode with `synchronous = NORMAL` (GRDB's setting): a commit
    /// survives the process being killed, but a power cut can lose the last ones. A witness
    /// written meanwhile would then name entries the state no longer holds, and `custody verify`
    /// would call the state altered. With `FULL` for this transaction, its commit flushes the
    /// log, and so everything committed before it.
    public func durableWrite<T>(_ updates: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Back to the pool's setting whatever happens: left at FULL, later commits would only
            // be slower.
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var result: T?
            try db.inTransaction {
                result = try updates(db)
                return .commit
            }
            // Set before the commit: the transaction returned `.commit` only after `updates`.
            return result!
        }
    }

    /// Flushes to disk everything committed so far, before something published names what the
    /// state holds (a signed report names the ledger's head). The pool commits at
    /// `synchronous = NORMAL`: its last commits can be in the write-ahead log only, unflushed,
    /// and a power cut would take back entries someone outside already holds proof of.
    /// Returns whether there was a log to flush.
    /// No log: every commit is in the database file, which the checkpoint that removed the log
    /// flushed.
    @discardableResult
    public func flushCommitted() throws -> Bool {
        try DurableFile.flushIfPresent(path: path + "-wal")
    }

    /// ISO 8601 UTC with seconds, for the `*_at` text columns.
    public static func timestamp(_ date: Date = Date()) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return String(TimestampParser.formatUTC(seconds * 1000).prefix(19)) + "Z"
    }
}
