import CustodyCore
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// A state written before user ids were stored escaped is migrated in place: ids that read the
/// same keep their text; ids with `\` or control characters take their escaped form.
@Suite struct UserIdMigrationTests {
    @Test func existingIdsAreRewrittenInTheirEscapedForm() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-migration-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.path + "/" + StateDatabase.fileName
        // The state as the previous release left it.
        let old = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(old, upTo: "2026-11-27 disclosures and ledger")
        try old.write { db in
            // `\` and `\\` would meet if rewritten shortest first.
            for user in ["u1", "a\\b", "\\", "\\\\", "line\nbreak"] {
                try db.execute(sql: "INSERT INTO users (user, verified_at_ms) VALUES (?, 1)", arguments: [user])
            }
        }
        try old.close()
        let database = try StateDatabase(directory: dir.path)
        let users = try database.pool.read { db in try String.fetchAll(db, sql: "SELECT user FROM users ORDER BY user") }
        #expect(Set(users) == ["u1", "a\\\\b", "\\\\", "\\\\\\\\", "line\\x0abreak"])
        let columns = try database.pool.read { db in try db.columns(in: "log_files").map(\.name) }
        #expect(columns.contains("anonymous_publishes") && columns.contains("non_text_bytes"))
    }
}
