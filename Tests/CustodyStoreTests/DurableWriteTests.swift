import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// `StateDatabase.durableWrite`: the one kind of commit that is flushed by itself (the pool's
/// are not, in WAL mode with `synchronous = NORMAL`), used before the ledger's witness gets a
/// checkpoint that names what the commit holds.
@Suite struct DurableWriteTests {
    func freshState() throws -> (StateDatabase, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custody-durable-\(UUID().uuidString)").path
        return (try StateDatabase(directory: directory), directory)
    }

    func synchronous(_ database: StateDatabase) throws -> Int? {
        try database.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
    }

    func runs(_ database: StateDatabase) throws -> Int? {
        try database.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runs") }
    }

    @Test func itsCommitIsFullySyncedAndThePoolsSettingComesBack() throws {
        let (database, directory) = try freshState()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try synchronous(database) == 1)  // NORMAL, as GRDB sets it
        let inside = try database.durableWrite { db -> Int? in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-12-01T00:00:00Z', 'running')")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        #expect(inside == 2)  // FULL: the commit flushes the log
        #expect(try synchronous(database) == 1)
        #expect(try runs(database) == 1)
    }

    @Test func aFailureRollsBackAndPutsTheSettingBack() throws {
        struct Refused: Error {}
        let (database, directory) = try freshState()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: Refused.self) {
            try database.durableWrite { db in
                try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-12-01T00:00:00Z', 'running')")
                throw Refused()
            }
        }
        #expect(try runs(database) == 0)
        #expect(try synchronous(database) == 1)
    }
}
