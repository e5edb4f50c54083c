import CustodyCore
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A commit group's rows are written while its vault objects are made durable on another thread,
/// and committed only once they are (`StateWriter.commit(parts:beforeCommit:)`).
@Suite struct GroupDurabilityTests {
    struct SyncFailed: Error {}

    func counts(_ database: StateDatabase) throws -> [Int] {
        try database.pool.read { db in
            try ["log_files", "segments", "vault_objects", "users", "daily_records"].map {
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? -1
            }
        }
    }

    @Test func aGroupWhoseObjectsAreNotDurableIsNotCommitted() throws {
        let fixture = try ReadOnceTests.Fixture()
        let paths = [try fixture.log("a.log.gz", user: "alice"), try fixture.log("b.log.gz", user: "bob")]
        let parts = try fixture.plan(paths).map {
            try Ingestion.read($0, policy: fixture.policy, vault: fixture.vault, durable: false)
        }
        let runID = try fixture.database.pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        let writer = try StateWriter(database: fixture.database, policy: fixture.policy, runID: runID)
        var calls = 0
        #expect(throws: SyncFailed.self) {
            try writer.commit(parts: parts) {
                calls += 1
                throw SyncFailed()
            }
        }
        #expect(calls == 1)
        #expect(try counts(fixture.database) == [0, 0, 0, 0, 0], "rolled back")

        // The writer's rows in memory went back too: the same group commits whole afterwards.
        try writer.commit(parts: parts) { calls += 1 }
        #expect(calls == 2)
        #expect(try counts(fixture.database) == [2, 2, 2, 2, 10])
        let users = try fixture.database.pool.read { db in try String.fetchAll(db, sql: "SELECT user FROM users ORDER BY id") }
        #expect(users == ["alice", "bob"])
    }
}
