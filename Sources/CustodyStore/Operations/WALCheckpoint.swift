import Foundation
import GRDB
import GRDBSQLite

/// `custody run`'s checkpoint of SQLite's write-ahead log into the database, after intake:
/// started once, by whichever of its callers comes first (`start`), and waited for at the end of
/// the run (`wait`, which starts it if no one did).
///
/// The run writes with automatic checkpoints off (each group rewrites much of the `users`
/// table, and checkpointing after each copied the same pages again and again); this checkpoints
/// what intake left in the log, then puts the default back on the writer's connection.
///
/// The checkpoint runs on a connection of its own, not the writer's: the run's last write (its
/// findings) goes on meanwhile. A passive checkpoint and a writer do not wait for each other in
/// WAL mode; what is committed after the checkpoint began stays in the log for the next one (the
/// connection pool's, when it closes). Automatic checkpoints come back only after it, so that the
/// findings' commit does not start one of its own.
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
            // The default back on the writer whether or not the checkpoint went through.
            defer { try? database.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000") } }
            try Self.checkpointPassively(path: database.path)
        }
        running = checkpoint
        return checkpoint
    }

    /// A passive checkpoint of the database at `path` on a connection opened for it: as many
    /// frames as no reader still needs are copied into the database file, waiting for no one.
    /// Busy (another checkpoint under way) is not a failure: the frames stay in the log, as with
    /// `PRAGMA wal_checkpoint(PASSIVE)`.
    static func checkpointPassively(path: String) throws {
        var connection: OpaquePointer?
        let opened = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        // Closed whatever happened (a failed open still returns a handle to release).
        defer { sqlite3_close_v2(connection) }
        func failure(_ code: Int32, _ step: String) -> DatabaseError {
            DatabaseError(
                resultCode: ResultCode(rawValue: code), message: connection.map { String(cString: sqlite3_errmsg($0)) }, sql: step)
        }
        guard opened == SQLITE_OK, let connection else { throw failure(opened, "open for checkpoint") }
        // As long as the pool's connections wait for a lock (`StateDatabase`), not failing at once.
        sqlite3_busy_timeout(connection, 10_000)
        // A new connection knows the database is in WAL mode only once it has read it: before
        // that, a checkpoint returns at once having copied nothing.
        let read = sqlite3_exec(connection, "PRAGMA schema_version", nil, nil, nil)
        guard read == SQLITE_OK else { throw failure(read, "PRAGMA schema_version") }
        let code = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        guard code == SQLITE_OK || code == SQLITE_BUSY else { throw failure(code, "PRAGMA wal_checkpoint(PASSIVE)") }
    }
}
