import Crypto
import CustodyCore
import Foundation
import GRDB

/// The tamper-evident ledger: every disclosure event, legal hold and purge, appended as
/// canonical JSON whose `previous` field is the SHA-256 of the entry before; the head is signed
/// with an Ed25519 key kept *outside* the state directory (`ledger_key`), and each signed head
/// can be written as a checkpoint to a witness directory on other storage.
///
/// Changing any byte of any entry breaks its hash or the next entry's link; rewriting the whole
/// chain breaks the signatures (the key is not in the state); deleting entries at the tail, or
/// all of them, or rolling `state.db` back, is caught by any checkpoint kept elsewhere.
public struct Ledger: Sendable {
    public static let genesis = String(repeating: "0", count: 64)

    public let stateDirectory: String
    /// The signing key's path; nil for a ledger that only appends (signing then fails).
    public let keyPath: String?
    /// Where a checkpoint file is written after every newly signed head.
    public let witnessDirectory: String?

    /// A ledger that appends entries; it cannot sign them.
    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
        keyPath = nil
        witnessDirectory = nil
    }

    public init(configuration: CustodyConfiguration) {
        stateDirectory = configuration.stateDirectory
        keyPath = configuration.ledgerKey
        witnessDirectory = configuration.witnessDirectory
    }

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
        try db.execute(
            sql: "INSERT INTO ledger_entries (seq, kind, recorded_at, entry, hash) VALUES (?, ?, ?, ?, ?)",
            arguments: [seq, kind, recordedAt, entry, hash])
        AppendedHere.shared.insert(hash)
        return hash
    }

    /// Whether this process appended the entry with this hash (see `AppendedHere`).
    public static func recordedHere(_ hash: String) -> Bool { AppendedHere.shared.contains(hash) }

    /// The hashes of the entries this process appended: the only unsigned entries `checkpoint`
    /// vouches for. An entry inserted into `state.db` by anything else (chained correctly, which
    /// needs no key) was signed by the next command, and then passed `verify` and a published
    /// report's check as if Custody had recorded it.
    final class AppendedHere: @unchecked Sendable {
        static let shared = AppendedHere()
        private let lock = NSLock()
        private var hashes = Set<String>()

        func insert(_ hash: String) { lock.withLock { _ = hashes.insert(hash) } }
        func contains(_ hash: String) -> Bool { lock.withLock { hashes.contains(hash) } }
    }

    /// Signs the head if it is not signed yet, and writes that checkpoint to the witness
    /// directory. Called after each command that appended. Returns the head's checkpoint.
    ///
    /// Refuses (an `IntegrityError`) to sign a head the ledger cannot vouch for: a chain that
    /// fails verification, one that no longer contains the newest checkpoint in the witness
    /// directory (rolled back or rewritten), or entries no checkpoint signs yet that this process
    /// did not append (unless `acceptingUnsigned`: an operator who looked at them, after a
    /// command was interrupted between recording and signing). Signing would launder tampering.
    @discardableResult
    public func checkpoint(database: StateDatabase, acceptingUnsigned: Bool = false) throws -> LedgerCheckpoint {
        let key = try signingKey()
        let newestWitness = witnessDirectory.flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasPrefix("checkpoint-") && $0.hasSuffix(".json") }.max().map { directory + "/" + $0 }
        }
        let state = try verify(database: database, checkpoints: newestWitness.map { LedgerCheckpoint.read([$0]) } ?? [])
        if let failure = state.firstFailure {
            throw IntegrityError(
                "the ledger fails verification at entry \(failure.seq) (\(failure.reason)): not signing it; run custody verify")
        }
        if let failure = state.checkpointFailures.first {
            throw IntegrityError(
                "the ledger does not contain the witness checkpoint \(failure.source) (\(failure.reason)): not signing it; run custody verify"
            )
        }
        if !acceptingUnsigned, let named = LedgerVerification.naming(state.unsignedNotRecordedHere) {
            throw IntegrityError(
                "ledger \(named) signed by no checkpoint and not recorded by this command: not signing; run custody verify")
        }
        // Flushed with the entries it signs before the witness gets a copy (`durableWrite`).
        let (checkpoint, isNew) = try database.durableWrite { db -> (LedgerCheckpoint, Bool) in
            guard let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1") else {
                return (try LedgerCheckpoint.sign(entries: 0, headHash: Self.genesis, signedAt: StateDatabase.timestamp(), key: key), false)
            }
            let seq: Int64 = head[0]
            let hash: String = head[1]
            if let row = try Row.fetchOne(
                db, sql: "SELECT signed_at, public_key, signature FROM ledger_checkpoints WHERE seq = ?", arguments: [seq]),
                (row[1] as String) == LedgerKey.publicText(key.publicKey)
            {
                return (LedgerCheckpoint(entries: seq, headHash: hash, signedAt: row[0], publicKey: row[1], signature: row[2]), false)
            }
            let signed = try LedgerCheckpoint.sign(entries: seq, headHash: hash, signedAt: StateDatabase.timestamp(), key: key)
            try db.execute(
                sql: "INSERT OR REPLACE INTO ledger_checkpoints (seq, hash, signed_at, public_key, signature) VALUES (?, ?, ?, ?, ?)",
                arguments: [seq, hash, signed.signedAt, signed.publicKey, signed.signature])
            return (signed, true)
        }
        if isNew, let witnessDirectory {
            try FileManager.default.createDirectory(atPath: witnessDirectory, withIntermediateDirectories: true)
            try checkpoint.write(to: witnessDirectory + "/" + Self.witnessFileName(entries: checkpoint.entries))
        }
        return checkpoint
    }

    /// `checkpoint-000000000042.json`: names sort in ledger order.
    public static func witnessFileName(entries: Int64) -> String {
        let digits = String(entries)
        return "checkpoint-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".json"
    }

    /// The head: its sequence number and hash (nil for an empty ledger).
    public func head(database: StateDatabase) throws -> (seq: Int64, hash: String, recordedAt: String)? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash, recorded_at FROM ledger_entries ORDER BY seq DESC LIMIT 1")
                .map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// The head for something published to name (a signed report): read, then the state's
    /// log flushed (`StateDatabase.flushCommitted`), so that the head is on disk before the
    /// report that names it exists.
    public func publishedHead(database: StateDatabase) throws -> (seq: Int64, hash: String, recordedAt: String)? {
        let head = try head(database: database)
        try database.flushCommitted()
        return head
    }

    /// The base64 raw Ed25519 public key. Never creates a key.
    public func publicKey() throws -> String {
        LedgerKey.publicText(try signingKey().publicKey)
    }

    static func checkpointMessage(seq: Int64, hash: String, signedAt: String) -> String {
        LedgerCheckpoint.message(entries: seq, headHash: hash, signedAt: signedAt)
    }

    static func sha256(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).hex }

    func signingKey() throws -> Curve25519.Signing.PrivateKey {
        guard let keyPath else { throw StoreError.io(path: stateDirectory, reason: "no ledger key configured (ledger_key)") }
        return try LedgerKey.load(path: keyPath, stateDirectory: stateDirectory)
    }

    /// Every entry in order, as stored (for replaying facts and for exports).
    public func entries(database: StateDatabase) throws -> [LedgerEntry] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, kind, recorded_at, entry, hash FROM ledger_entries ORDER BY seq").map {
                LedgerEntry(seq: $0[0], kind: $0[1], recordedAt: $0[2], text: $0[3], hash: $0[4])
            }
        }
    }

    /// Re-checks the whole chain, every in-state checkpoint signature against this ledger's key,
    /// and that the ledger still contains and extends every given checkpoint.
    public func verify(
        database: StateDatabase, checkpoints given: [(source: String, checkpoint: LedgerCheckpoint?)] = []
    ) throws -> LedgerVerification {
        let publicKey = try signingKey().publicKey
        let publicText = LedgerKey.publicText(publicKey)
        var result = try database.pool.read { db in
            var result = LedgerVerification()
            result.keyID = LedgerKey.id(ofPublicKey: publicText)
            var previous = Self.genesis
            var expectedSeq: Int64 = 1
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
                result.hashes[seq] = storedHash
                previous = storedHash
            }
            result.headHash = result.entries > 0 ? previous : nil
            let checkpoints = try Row.fetchAll(
                db, sql: "SELECT seq, hash, signed_at, public_key, signature FROM ledger_checkpoints ORDER BY seq")
            for row in checkpoints {
                let seq: Int64 = row[0]
                result.checkpoints += 1
                let hash: String = row[1]
                if result.hashes[seq] != hash {
                    if result.firstFailure == nil { result.firstFailure = (seq, "checkpoint hash does not match entry \(seq)") }
                    continue
                }
                let message = Data(Self.checkpointMessage(seq: seq, hash: hash, signedAt: row[2]).utf8)
                guard let signature = Data(base64Encoded: row[4] as String), publicText == (row[3] as String),
                    publicKey.isValidSignature(signature, for: message)
                else {
                    if result.firstFailure == nil {
                        result.firstFailure = (
                            seq,
                            "checkpoint signature is not valid for this ledger's key \(result.keyID) (it names key \(LedgerKey.id(ofPublicKey: row[3])))"
                        )
                    }
                    continue
                }
                result.lastSignedSeq = seq
            }
            return result
        }
        for (source, checkpoint) in given {
            result.checkpointsGiven += 1
            if let why = result.contains(checkpoint, publicKey: publicText) {
                result.checkpointFailures.append((source, why))
            }
        }
        result.legacyKeyInState = FileManager.default.fileExists(atPath: stateDirectory + "/" + LedgerKey.legacyFileName)
        return result
    }
}

/// One stored ledger entry.
public struct LedgerEntry: Sendable {
    public var seq: Int64
    public var kind: String
    public var recordedAt: String
    /// Canonical JSON of the whole entry.
    public var text: String
    public var hash: String

    public var body: JSONValue? { JSONValue.parse(text)?["body"] }
}

public struct LedgerVerification: Sendable {
    public var entries = 0
    public var checkpoints = 0
    public var lastSignedSeq: Int64?
    public var headHash: String?
    /// The first entry that fails, and why.
    public var firstFailure: (seq: Int64, reason: String)?
    /// The key id of the configured signing key.
    public var keyID = ""
    /// Checkpoints given (files and the witness directory) and those the ledger fails.
    public var checkpointsGiven = 0
    public var checkpointFailures: [(source: String, reason: String)] = []
    /// An old-layout signing key still sits in the state directory.
    public var legacyKeyInState = false
    var hashes: [Int64: String] = [:]

    /// The entries after the last signed checkpoint (all of them with none), in order. Every
    /// command that appends signs its entries before it ends, so these were recorded outside
    /// Custody, or by a command interrupted between recording and signing.
    public var unsignedEntries: [(seq: Int64, hash: String)] {
        let from = (lastSignedSeq ?? 0) + 1
        guard Int64(entries) >= from else { return [] }
        return (from...Int64(entries)).compactMap { seq in hashes[seq].map { (seq, $0) } }
    }

    /// `unsignedEntries` this process did not append (`Ledger.recordedHere`): entries no
    /// command of this process can vouch for.
    public var unsignedNotRecordedHere: [(seq: Int64, hash: String)] {
        unsignedEntries.filter { !Ledger.recordedHere($0.hash) }
    }

    /// `entry 7 is` or `entries 7–9 are`, for the first and last of `entries`; nil for none.
    public static func naming(_ entries: [(seq: Int64, hash: String)]) -> String? {
        guard let first = entries.first, let last = entries.last else { return nil }
        return first.seq == last.seq ? "entry \(first.seq) is" : "entries \(first.seq)–\(last.seq) are"
    }

    /// Why the ledger does not contain and extend `checkpoint`, or nil when it does.
    func contains(_ checkpoint: LedgerCheckpoint?, publicKey: String) -> String? {
        guard let checkpoint else { return "not a readable custody checkpoint" }
        guard checkpoint.isValidlySigned else { return "the checkpoint's signature is not valid" }
        guard checkpoint.publicKey == publicKey else {
            return "signed by key \(checkpoint.keyID), not this ledger's key \(keyID)"
        }
        if checkpoint.entries == 0 { return nil }
        guard Int64(entries) >= checkpoint.entries else {
            return
                "the checkpoint saw \(checkpoint.entries) entries (signed \(checkpoint.signedAt)); the ledger now holds \(entries): entries were deleted or state.db was rolled back"
        }
        guard hashes[checkpoint.entries] == checkpoint.headHash else {
            return
                "entry \(checkpoint.entries) is not the one the checkpoint signed (signed \(checkpoint.signedAt)): the ledger was rewritten"
        }
        return nil
    }
}
