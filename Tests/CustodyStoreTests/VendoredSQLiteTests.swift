import CSQLite
import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import CustodyStore

/// Custody compiles SQLite in (`CSQLite`) and GRDB's `sqlite3_*` calls must reach that copy, not
/// the system library GRDB's module links: two copies in use in one process would break each
/// other's file locks, and the system's (Debian 12: 3.40.1) is the slower one. Each assertion
/// here fails when the calls go to the system library instead.
@Suite struct VendoredSQLiteTests {
    /// "3.54.1" for 3054001.
    static func versionText(_ number: Int32) -> String {
        "\(number / 1_000_000).\(number / 1000 % 1000).\(number % 1000)"
    }

    @Test func grdbConnectionsRunTheCompiledInSQLite() throws {
        let compiledIn = custody_vendored_sqlite_version_number()
        #expect(compiledIn >= 3_054_000)
        // The library function GRDB's module declares, resolved like GRDB's own calls.
        #expect(sqlite3_libversion_number() == compiledIn)
        let queue = try DatabaseQueue()
        let version = try queue.read { try String.fetchOne($0, sql: "SELECT sqlite_version()") }
        #expect(version == Self.versionText(compiledIn))
    }

    /// What the system library did on disk, the compiled-in one does too: deleted content is
    /// overwritten (Debian builds SQLite with SECURE_DELETE; a purge must not leave user data in
    /// free pages), and statements take as many parameters.
    @Test func stateConnectionsKeepSecureDeleteAndLimits() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custody-sqlite-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try StateDatabase(directory: directory)
        let (journal, secureDelete) = try database.pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA secure_delete"))
        }
        #expect(journal == "wal")
        #expect(secureDelete == 1)
        let options = try database.pool.read { try String.fetchAll($0, sql: "PRAGMA compile_options") }
        #expect(options.contains("DEFAULT_MEMSTATUS=0"))
        #expect(options.contains("MAX_VARIABLE_NUMBER=250000"))
    }

    @Test func versionTextFromNumber() {
        #expect(Self.versionText(3_054_001) == "3.54.1")
        #expect(Self.versionText(3_040_001) == "3.40.1")
    }
}
