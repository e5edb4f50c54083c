import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// `custody run`'s checkpoint of the write-ahead log after intake (`WALCheckpoint`): what the
/// log holds reaches the database file, whichever of `start` and `wait` comes first, and the
/// automatic checkpoints the run turned off are on again.
@Suite struct WALCheckpointTests {
    /// A state whose writer checkpoints nothing by itself, with `rows` users written to the log.
    func stateWithAFullLog(rows: Int) throws -> (StateDatabase, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-walcheckpoint-\(UUID().uuidString)")
        let database = try StateDatabase(directory: dir.path)
        try database.pool.writeWithoutTransaction { db in
            // The database file as the schema left it, then writes that stay in the log.
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        try database.pool.write { db in
            var inserter = UserRowInserter(db)
            for i in 0..<rows {
                try inserter.add(
                    key: Int64(i + 1), name: "user-\(i)-" + String(repeating: "x", count: 40), verifiedAt: Int64(i),
                    firstMillis: nil, firstSegment: nil, firstLine: nil)
            }
            try inserter.flush()
        }
        return (database, dir)
    }

    func fileSize(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }

    @Test(arguments: [false, true])
    func theLogReachesTheDatabaseFile(startedFirst: Bool) throws {
        let (database, dir) = try stateWithAFullLog(rows: 5_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try fileSize(database.path)
        let checkpoint = WALCheckpoint(database: database)
        if startedFirst {
            checkpoint.start()
            checkpoint.start()
        }
        try checkpoint.wait()
        // Waiting again returns at once, with nothing more done.
        try checkpoint.wait()
        // 5,000 rows of ~60 bytes: ~75 pages more in the database file.
        #expect(try fileSize(database.path) >= before + 50 * 4096)
        let automatic = try database.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
        #expect(automatic == 1000)
        let users = try database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM users") }
        #expect(users == 5_000)
    }

    /// The checkpoint runs on a connection of its own while the writer's connection is in a
    /// transaction (the run writes its findings meanwhile): it copies the log without waiting for
    /// that transaction, which then commits.
    @Test func theCheckpointGoesOnBesideAWriteUnderWay() throws {
        let (database, dir) = try stateWithAFullLog(rows: 5_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try fileSize(database.path)
        let inside = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        nonisolated(unsafe) var written: Error?
        DispatchQueue.global().async(group: done) {
            do {
                try database.pool.write { db in
                    try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-12-01T00:00:00Z', 'running')")
                    inside.signal()
                    release.wait()
                }
            } catch {
                written = error
                inside.signal()
            }
        }
        inside.wait()
        // The writer is let go whether or not the checkpoint throws, so that the test ends.
        let copied = try { () throws -> Int in
            defer {
                release.signal()
                done.wait()
            }
            try WALCheckpoint.checkpointPassively(path: database.path)
            return try fileSize(database.path)
        }()
        #expect(written == nil)
        #expect(copied >= before + 50 * 4096)
        let runs = try database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") }
        #expect(runs == 1)
    }

    /// A database that cannot be opened for writing fails the checkpoint with SQLite's reason.
    @Test func aCheckpointOfAMissingDatabaseFails() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("custody-no-state-\(UUID().uuidString)/state.db").path
        #expect(throws: DatabaseError.self) { try WALCheckpoint.checkpointPassively(path: path) }
    }
}
