import Crypto
import CustodyCore
import Foundation
import GRDB

/// The tamper-evident ledger: every disclosure event and every purge, appended as canonical JSON
/// whose `previous` field is the SHA-256 of the entry before; the head is signed with an Ed25519
/// key kept in the state directory (`ledger-signing.key`, 0600).
///
/// Changing any byte of any entry breaks its hash or the next entry's link; rewriting the whole
/// chain breaks the signatures, and the public key (`custody ledger key`) can be published.
public struct Ledger: Sendable {
    public static let genesis = String(repeating: "0", count: 64)
    public static let keyFileName = "ledger-signing.key"

    public let stateDirectory: String

    public init(stateDirectory: String) { self.stateDirectory = stateDirectory }

    /// Appends an entry inside the caller's transaction; returns its hash.
    @discardableResult
    public func append(_ kind: String, _ body: JSONValue, db: Database, at date: Date = Date()) throws -> String {
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1")
        let seq = (head?[0] as Int64? ?? 0) + 1
        let previous: String = head?[1] ?? Self.genesis
        let recordedAt = StateDatabase.timestamp(date)
        let entry = JSONValue.object([
            ("seq", .int(Int(seq))), ("kind", .string(kind)), ("recorded_at", .string(recordedAt)),
            ("previous", .string(previous)), ("body", body),
        ]).canonicalText
        let hash = Self.sha256(entry)
        try db.execute(sql: "INSERT INTO ledger_entries (seq, kind, recorded_at, entry, hash) VALUES (?, ?, ?, ?, ?)",
                       arguments: [seq, kind, recordedAt, entry, hash])
        return hash
    }

    /// Signs the head if it is not signed yet. Called after each command that appended.
    public func checkpoint(database: StateDatabase) throws {
        let key = try signingKey()
        try database.pool.write { db in
            guard let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1") else { return }
            let seq: Int64 = head[0]
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM ledger_checkpoints WHERE seq = ?", arguments: [seq]) == true { return }
            let signedAt = StateDatabase.timestamp()
            let signature = try key.signature(for: Data(Self.checkpointMessage(seq: seq, hash: head[1], signedAt: signedAt).utf8))
            try db.execute(sql: "INSERT INTO ledger_checkpoints (seq, hash, signed_at, public_key, signature) VALUES (?, ?, ?, ?, ?)",
                           arguments: [seq, head[1] as String, signedAt, key.publicKey.rawRepresentation.base64EncodedString(),
                                       signature.base64EncodedString()])
        }
    }

    /// The head: its sequence number and hash (nil for an empty ledger).
    public func head(database: StateDatabase) throws -> (seq: Int64, hash: String, recordedAt: String)? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash, recorded_at FROM ledger_entries ORDER BY seq DESC LIMIT 1")
                .map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// The base64 raw Ed25519 public key, creating the key pair on first use.
    public func publicKey() throws -> String {
        try signingKey().publicKey.rawRepresentation.base64EncodedString()
    }

    static func checkpointMessage(seq: Int64, hash: String, signedAt: String) -> String {
        "custody-ledger-checkpoint\n\(seq)\n\(hash)\n\(signedAt)"
    }

    static func sha256(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).hex }

    func signingKey() throws -> Curve25519.Signing.PrivateKey {
        let path = stateDirectory + "/" + Self.keyFileName
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
                throw StoreError.io(path: path, reason: "not an Ed25519 private key (base64 of 32 bytes)")
            }
            return key
        }
        let key = Curve25519.Signing.PrivateKey()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        let text = key.rawRepresentation.base64EncodedString() + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        fsync(fd)
        close(fd)
        return key
    }

    /// Re-checks the whole chain and every checkpoint signature.
    public func verify(database: StateDatabase) throws -> LedgerVerification {
        let publicKey = try? signingKey().publicKey
        return try database.pool.read { db in
            var result = LedgerVerification()
            var previous = Self.genesis
            var expectedSeq: Int64 = 1
            var hashes: [Int64: String] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, kind, recorded_at, entry, hash FROM ledger_entries ORDER BY seq")
            while let row = try rows.next() {
                let seq: Int64 = row[0]
                let entryText: String = row[3]
                let storedHash: String = row[4]
                result.entries += 1
                func fail(_ why: String) { if result.firstFailure == nil { result.firstFailure = (seq, why) } }
                if seq != expectedSeq { fail("sequence jumps from \(expectedSeq - 1) to \(seq)") }
                expectedSeq = seq + 1
                if Self.sha256(entryText) != storedHash { fail("entry does not hash to its recorded hash") }
                guard let entry = JSONValue.parse(entryText), entry.canonicalText == entryText else {
                    fail("entry is not canonical JSON")
                    previous = storedHash
                    continue
                }
                if entry["seq"]?.intValue.map(Int64.init) != seq { fail("entry names sequence \(entry["seq"]?.intValue ?? -1)") }
                if entry["previous"]?.stringValue != previous { fail("link to the previous entry is broken") }
                if entry["kind"]?.stringValue != (row[1] as String) { fail("kind column differs from the entry") }
                if entry["recorded_at"]?.stringValue != (row[2] as String) { fail("recorded_at column differs from the entry") }
                hashes[seq] = storedHash
                previous = storedHash
            }
            result.headHash = result.entries > 0 ? previous : nil
            let checkpoints = try Row.fetchAll(db, sql: "SELECT seq, hash, signed_at, public_key, signature FROM ledger_checkpoints ORDER BY seq")
            for row in checkpoints {
                let seq: Int64 = row[0]
                result.checkpoints += 1
                let hash: String = row[1]
                if hashes[seq] != hash {
                    if result.firstFailure == nil { result.firstFailure = (seq, "checkpoint hash does not match entry \(seq)") }
                    continue
                }
                let message = Data(Self.checkpointMessage(seq: seq, hash: hash, signedAt: row[2]).utf8)
                guard let signature = Data(base64Encoded: row[4] as String),
                      let key = publicKey, key.rawRepresentation.base64EncodedString() == (row[3] as String),
                      key.isValidSignature(signature, for: message) else {
                    if result.firstFailure == nil { result.firstFailure = (seq, "checkpoint signature is not valid for this state's key") }
                    continue
                }
                result.lastSignedSeq = seq
            }
            return result
        }
    }
}

public struct LedgerVerification: Sendable {
    public var entries = 0
    public var checkpoints = 0
    public var lastSignedSeq: Int64?
    public var headHash: String?
    /// The first entry that fails, and why.
    public var firstFailure: (seq: Int64, reason: String)?
}
