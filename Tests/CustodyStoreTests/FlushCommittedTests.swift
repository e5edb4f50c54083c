import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// `StateDatabase.flushCommitted`: the write-ahead log is flushed before a signed report names
/// the ledger's head; no log is nothing to flush, and a log that cannot be opened is an error
/// naming it, never a silent pass.
@Suite struct FlushCommittedTests {
    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("custody-flush-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theLogOfCommittedWritesIsFlushed() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try StateDatabase(directory: directory + "/state")
        try database.pool.write { db in
            try db.execute(sql: "INSERT INTO runs (started_at, outcome) VALUES ('2026-11-19T00:00:00Z', 'running')")
        }
        #expect(FileManager.default.fileExists(atPath: database.path + "-wal"))
        #expect(try database.flushCommitted() == true)
        // Nothing changed by the flush.
        #expect(try database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") } == 1)
    }

    @Test func noLogIsNothingToFlush() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try DurableFile.flushIfPresent(path: directory + "/state.db-wal") == false)
    }

    @Test func aLogThatCannotBeOpenedIsAnErrorNamingIt() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loop = directory + "/state.db-wal"
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: loop)
        #expect {
            try DurableFile.flushIfPresent(path: loop)
        } throws: { error in
            "\(error)".hasPrefix(loop + ": ")
        }
    }
}
