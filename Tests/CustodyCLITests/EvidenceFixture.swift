import Crypto
import CustodyCore
import CustodyStore
import Foundation
import GRDB
import Testing

/// A deployment that ingested the sample logs and took one request through intake, decisions
/// and production: the evidence the tamper tests attack.
extension StateFixture {
    static let requestID = "REQ-1"
    var package: String { dir.path("package") }

    /// `custody SUBCOMMAND… --config …` for commands with subcommands (`request add`, `ledger init`).
    func sub(_ arguments: [String], asOf: String? = nil) throws -> CustodyProcess.Result {
        let (command, subcommand) = (arguments[0], arguments[1])
        return try CustodyProcess.run(
            [command, subcommand, "--config", config] + (asOf.map { ["--as-of", $0] } ?? []) + arguments.dropFirst(2))
    }

    static func disclosed(extraConfig: String = "") throws -> StateFixture {
        let fixture = try StateFixture.withSampleLogs(extraConfig: extraConfig)
        try fixture.addRequest()
        try fixture.decideAndProduce()
        return fixture
    }

    func addRequest(id: String = StateFixture.requestID, from: String = "2026-10-25", to: String = "2026-11-05") throws {
        let added = try sub([
            "request", "add", "--id", id, "--received", "2026-11-20T09:00:00+08:00",
            "--authority", "Shanghai Public Security Bureau", "--jurisdiction", "CN",
            "--legal-basis", "Criminal Procedure Law art. 54", "--process-type", "criminal_evidence",
            "--user", "u00001", "--user", "u09001", "--from", from, "--to", to,
        ])
        try #require(added.status == 0, "\(added.stderr)")
    }

    func decideAndProduce() throws {
        try #require(try sub(["request", "decide", Self.requestID, "--user", "u00001", "--produce", "--reason", "named"]).status == 0)
        try #require(try sub(["request", "decide", Self.requestID, "--user", "u09001", "--withhold", "--reason", "not named"]).status == 0)
        let produced = try sub(["request", "produce", Self.requestID, "--out", package])
        try #require(produced.status == 0, "\(produced.stderr)")
    }

    /// The state database opened as an insider with `sqlite3` would: no foreign keys enforced.
    func insider() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        return try DatabaseQueue(path: state + "/state.db", configuration: configuration)
    }

    /// Drops the triggers that keep the ledger append-only, as an insider can.
    func unlockLedger(_ db: Database) throws {
        try db.execute(
            sql: "DROP TRIGGER IF EXISTS ledger_entries_append_only_update; DROP TRIGGER IF EXISTS ledger_entries_append_only_delete")
    }

    func vaultPath(_ sha: String) -> String { "\(state)/vault/\(sha.prefix(2))/\(sha).gz" }

    /// True when the vault holds an intact copy of the object, loose or packed.
    func vaultHolds(_ sha: String) -> Bool {
        (try? Vault(directory: state + "/vault", create: false))?.check(sha) == .intact
    }

    /// True when the object's name appears in a loose file name or anywhere in a pack's bytes.
    func vaultMentions(_ sha: String) throws -> Bool {
        if FileManager.default.fileExists(atPath: vaultPath(sha)) { return true }
        let packs = state + "/vault/packs"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: packs)) ?? [] {
            if try Data(contentsOf: URL(fileURLWithPath: packs + "/" + name)).range(of: Data(sha.utf8)) != nil { return true }
        }
        return false
    }

    /// Copies state.db and its WAL aside (after checkpointing the WAL), to roll back to later.
    func snapshotState(to name: String) throws {
        let queue = try DatabaseQueue(path: state + "/state.db")
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        try FileManager.default.copyItem(atPath: state + "/state.db", toPath: dir.path(name))
    }

    func restoreState(from name: String) throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state + "/state.db" + suffix) }
        try FileManager.default.copyItem(atPath: dir.path(name), toPath: state + "/state.db")
    }

    /// Appends an entry chained onto the head, as anyone who can write `state.db` can (a hash
    /// chain needs no key): `body` copied from the newest `request.state` entry with `replace`
    /// applied, and the `requests` row changed to match, so the tables agree with the ledger.
    func appendForgedEntry(replacing old: String, with new: String, column: String, value: String) throws {
        let queue = try insider()
        try queue.write { db in
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1")!
            let seq: Int64 = head[0]
            let last = try String.fetchOne(
                db, sql: "SELECT entry FROM ledger_entries WHERE kind = 'request.state' ORDER BY seq DESC LIMIT 1")!
            let body = try #require(JSONValue.parse(last)?["body"])
            let forgedBody = try #require(JSONValue.parse(body.canonicalText.replacingOccurrences(of: old, with: new)))
            let recordedAt = "2026-11-29T00:00:00Z"
            let text = JSONValue.object([
                ("seq", .int(Int(seq + 1))), ("kind", .string("request.state")), ("recorded_at", .string(recordedAt)),
                ("previous", .string(head[1])), ("body", forgedBody),
            ]).canonicalText
            let hash = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            try db.execute(
                sql: "INSERT INTO ledger_entries (seq, kind, recorded_at, entry, hash) VALUES (?, ?, ?, ?, ?)",
                arguments: [seq + 1, "request.state", recordedAt, text, hash])
            try db.execute(sql: "UPDATE requests SET \(column) = ?", arguments: [value])
        }
    }

    /// Rewrites every ledger entry with `replace` applied, re-links and re-hashes the chain, and
    /// signs the new head with a key of the insider's own: what a key kept in the state allowed.
    func resignLedger(replacing old: String, with new: String) throws {
        let key = Curve25519.Signing.PrivateKey()
        let queue = try insider()
        try queue.write { db in
            try unlockLedger(db)
            var previousOld = String(repeating: "0", count: 64)
            var previousNew = previousOld
            for row in try Row.fetchAll(db, sql: "SELECT seq, entry, hash FROM ledger_entries ORDER BY seq") {
                let seq: Int64 = row[0]
                let entry: String = row[1]
                let text = entry.replacingOccurrences(of: old, with: new)
                    .replacingOccurrences(of: "\"previous\":\"\(previousOld)\"", with: "\"previous\":\"\(previousNew)\"")
                let hash = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
                try db.execute(sql: "UPDATE ledger_entries SET entry = ?, hash = ? WHERE seq = ?", arguments: [text, hash, seq])
                previousOld = row[2]
                previousNew = hash
            }
            try db.execute(sql: "DELETE FROM ledger_checkpoints")
            let head = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM ledger_entries")!
            let signedAt = "2026-11-29T00:00:00Z"
            let signature = try key.signature(for: Data("custody-ledger-checkpoint\n\(head)\n\(previousNew)\n\(signedAt)".utf8))
            try db.execute(
                sql: "INSERT INTO ledger_checkpoints (seq, hash, signed_at, public_key, signature) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    head, previousNew, signedAt, key.publicKey.rawRepresentation.base64EncodedString(),
                    signature.base64EncodedString(),
                ])
            try db.execute(sql: "UPDATE requests SET authority = ?", arguments: [new])
        }
    }
}

/// gzip and gunzip through the system's `gzip`, as an insider would re-pack a vault object.
enum GzipFixture {
    static func gunzip(_ data: Data) throws -> Data { try run(["-dc"], data) }
    static func gzip(_ data: Data) throws -> Data { try run(["-c", "-n"], data) }

    private static func run(_ arguments: [String], _ data: Data) throws -> Data {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("custody-gz-\(UUID().uuidString)")
        try data.write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = arguments + [input.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return out
    }
}
