import GRDB
import Testing

@testable import CustodyStore

/// The writer's connection keeps statement journals in memory (`PRAGMA temp_store = MEMORY`,
/// set by `StateWriter`): its 64-row statements spilled them to temporary files otherwise.
@Suite struct WriterStatementJournalTests {
    @Test func theWritersConnectionKeepsTemporaryStorageInMemory() throws {
        let fixture = try ReadOnceTests.Fixture()
        let before = try fixture.database.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }
        #expect(before == 0, "SQLite's default until a writer is made")
        _ = try CoveredSpansTests.writer(fixture)
        let after = try fixture.database.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") }
        #expect(after == 2)
    }
}
