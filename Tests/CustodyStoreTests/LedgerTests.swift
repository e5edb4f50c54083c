import Crypto
import CustodyCore
import CustodyStore
import Foundation
import GRDB
import Testing

/// The ledger detects any change to any byte of any entry, and names the entry.
@Suite struct LedgerTests {
    /// A deployment in a temporary directory: state in `state/`, the key beside the configuration.
    static func configuration(_ dir: URL, extra: String = "") throws -> CustodyConfiguration {
        try CustodyConfiguration.parse(
            "sources:\n  - path: logs\npolicy: p.yaml\nstate_directory: state\n" + extra,
            file: dir.appendingPathComponent("custody.yaml").path)
    }

    func makeLedger() throws -> (StateDatabase, Ledger, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-ledger-\(UUID().uuidString)")
        let configuration = try Self.configuration(dir)
        let database = try StateDatabase(directory: configuration.stateDirectory)
        try LedgerKey.create(path: configuration.ledgerKey)
        let ledger = Ledger(configuration: configuration)
        try database.pool.write { db in
            try ledger.append(
                "request.received", .object([("id", .string("REQ-1")), ("users", .array([.string("u1"), .string("é")]))]), db: db)
            try ledger.append("hold.placed", .object([("request", .string("REQ-1")), ("vault_objects", .array([]))]), db: db)
            try ledger.append(
                "decision.recorded", .object([("request", .string("REQ-1")), ("user", .string("u1")), ("produce", .bool(true))]), db: db)
        }
        try ledger.checkpoint(database: database)
        return (database, ledger, dir)
    }

    func allowTampering(_ database: StateDatabase) throws {
        try database.pool.write { db in
            try db.execute(sql: "DROP TRIGGER ledger_entries_append_only_update; DROP TRIGGER ledger_entries_append_only_delete")
        }
    }

    /// The signed checkpoint is committed at `synchronous = FULL` (`durableWrite`), so the log is
    /// flushed with the entries it signs before the witness gets its copy; the pool's NORMAL
    /// comes back after. Statements traced on the writer's connection.
    @Test func theCheckpointIsCommittedFlushed() throws {
        let (database, ledger, dir) = try makeLedger()
        defer { try? FileManager.default.removeItem(at: dir) }
        final class Statements: @unchecked Sendable {
            let lock = NSLock()
            var sql: [String] = []
            func add(_ text: String) { lock.withLock { sql.append(text) } }
        }
        let traced = Statements()
        try database.pool.writeWithoutTransaction { db in
            try ledger.append("request.closed", .object([("request", .string("REQ-1"))]), db: db)
            db.trace { traced.add("\($0)") }
        }
        defer { database.pool.writeWithoutTransaction { db in db.trace(nil) } }
        try ledger.checkpoint(database: database)
        let sql = traced.lock.withLock { traced.sql }
        let full = sql.firstIndex { $0.contains("PRAGMA synchronous = FULL") }
        let signed = sql.firstIndex { $0.contains("INTO ledger_checkpoints") }
        let normal = sql.lastIndex { $0.contains("PRAGMA synchronous = NORMAL") }
        #expect(full != nil && signed != nil && normal != nil)
        if let full, let signed, let normal {
            #expect(full < signed && signed < normal)
        }
    }

    /// A report names the head `publishedHead` gives: the last entry, also one appended after
    /// the last checkpoint (in the write-ahead log only, which it flushes).
    @Test func aPublishedHeadIsTheLastEntry() throws {
        let (database, ledger, dir) = try makeLedger()
        defer { try? FileManager.default.removeItem(at: dir) }
        try database.pool.write { db in
            _ = try ledger.append("request.closed", .object([("id", .string("REQ-1"))]), db: db)
        }
        #expect(FileManager.default.fileExists(atPath: database.path + "-wal"))
        let published = try #require(try ledger.publishedHead(database: database))
        #expect(published.seq == 4)
        #expect(published.hash == (try ledger.head(database: database))?.hash)
    }

    @Test func intactLedgerVerifies() throws {
        let (database, ledger, dir) = try makeLedger()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try ledger.verify(database: database)
        #expect(result.entries == 3)
        #expect(result.checkpoints == 1)
        #expect(result.lastSignedSeq == 3)
        #expect(result.firstFailure == nil)
        #expect(try ledger.publicKey().count == 44)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.path + "/ledger.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func theLedgerRefusesUpdatesAndDeletes() throws {
        let (database, _, dir) = try makeLedger()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: (any Error).self) {
            try database.pool.write { db in try db.execute(sql: "UPDATE ledger_entries SET kind = 'x' WHERE seq = 1") }
        }
        #expect(throws: (any Error).self) {
            try database.pool.write { db in try db.execute(sql: "DELETE FROM ledger_entries WHERE seq = 1") }
        }
    }

    @Test func everyFlippedByteOfAnEntryIsDetected() throws {
        let (database, ledger, dir) = try makeLedger()
        defer { try? FileManager.default.removeItem(at: dir) }
        try allowTampering(database)
        for seq in 1...3 {
            let (entry, hash) = try database.pool.read { db in
                try Row.fetchOne(db, sql: "SELECT entry, hash FROM ledger_entries WHERE seq = ?", arguments: [seq]).map {
                    ($0[0] as String, $0[1] as String)
                }!
            }
            for (column, original) in [("entry", entry), ("hash", hash)] {
                let bytes = Array(original.utf8)
                for index in bytes.indices {
                    var flipped = bytes
                    // XOR 1 keeps ASCII ASCII, so the column stays valid text; non-ASCII bytes get
                    // their lowest bit flipped inside a multi-byte sequence.
                    flipped[index] ^= 0x01
                    guard let text = String(bytes: flipped, encoding: .utf8) else { continue }
                    try database.pool.write { db in
                        try db.execute(sql: "UPDATE ledger_entries SET \(column) = ? WHERE seq = ?", arguments: [text, seq])
                    }
                    let failure = try ledger.verify(database: database).firstFailure
                    #expect(failure?.seq == Int64(seq), "\(column) byte \(index) of entry \(seq) not detected")
                    try database.pool.write { db in
                        try db.execute(sql: "UPDATE ledger_entries SET \(column) = ? WHERE seq = ?", arguments: [original, seq])
                    }
                }
            }
        }
        #expect(try ledger.verify(database: database).firstFailure == nil)
    }

    @Test func aRewrittenChainFailsItsSignature() throws {
        let (database, ledger, dir) = try makeLedger()
        defer { try? FileManager.default.removeItem(at: dir) }
        try allowTampering(database)
        // Rewrite the last entry consistently (new body, recomputed hash): only the signature can tell.
        try database.pool.write { db in
            let entry = try String.fetchOne(db, sql: "SELECT entry FROM ledger_entries WHERE seq = 3")!
            let forged = entry.replacingOccurrences(of: "\"produce\":true", with: "\"produce\":false")
            #expect(forged != entry)
            let hash = SHA256Hex.of(forged)
            try db.execute(sql: "UPDATE ledger_entries SET entry = ?, hash = ? WHERE seq = 3", arguments: [forged, hash])
            try db.execute(sql: "UPDATE ledger_checkpoints SET hash = ? WHERE seq = 3", arguments: [hash])
        }
        let failure = try ledger.verify(database: database).firstFailure
        #expect(failure?.seq == 3)
        #expect(failure?.reason.contains("signature") == true)
    }
}

enum SHA256Hex {
    static func of(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }
}
