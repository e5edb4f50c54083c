import Foundation

/// `custody run`'s checkpoint of SQLite's write-ahead log into the database, after intake, on
/// the writer's connection: started once, by whichever of its callers comes first (`start`),
/// and waited for before the run's last write (`wait`, which starts it if no one did).
///
/// The run writes with automatic checkpoints off (each group rewrites much of the `users`
/// table, and checkpointing after each copied the same pages again and again); this puts the
/// default back, then checkpoints what intake left in the log.
final class WALCheckpoint: @unchecked Sendable {
    private let database: StateDatabase
    private let lock = NSLock()
    // Guarded by `lock`.
    private var running: Background<Void>?

    init(database: StateDatabase) {
        self.database = database
    }

    /// Starts the checkpoint on another thread, unless it is started already.
    func start() {
        _ = started()
    }

    /// Waits for the checkpoint (started now if it was not) and returns its error, if any.
    func wait() throws {
        try started().wait()
    }

    private func started() -> Background<Void> {
        lock.lock()
        defer { lock.unlock() }
        if let running { return running }
        let database = database
        let checkpoint = Background(on: .commits) {
            try database.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000")
                try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
        running = checkpoint
        return checkpoint
    }
}
