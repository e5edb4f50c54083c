import Crypto
import CustodyCore
import CustodyIngest
import CustodyStore
import Foundation
import GRDB

/// Writes the evidence package for a decided request: the matching records of each user whose
/// production was approved, as the original lines unaltered (gzip JSON lines… or whatever format
/// the app logged), and `manifest.json` with every file's SHA-256 (of its bytes and of its
/// uncompressed content), record counts, and each record's source vault object and line — the
/// integrity check value the 2016 electronic-data rules ask for.
///
/// Only vault objects whose time range meets the scope are read. Records files are byte-identical
/// when the same request is produced twice.
public enum EvidencePackage {
    public struct Summary: Sendable {
        public var directory: String
        public var manifestSHA256: String
        public var records: Int
        public var usersAffected: [String]
        public var files: Int
    }

    public static func produce(book: RequestBook, policy: Policy, id: String, out directory: String, at: Date = Date()) throws -> Summary {
        let current = try book.record(id)
        guard current.request.processType != .preservation else {
            throw DisclosureError("request \(id) is a preservation request: it holds records and produces none")
        }
        guard current.status == .decided || current.status == .produced else {
            throw DisclosureError("request \(id) is \(current.status.rawValue): only a decided request can be produced")
        }
        let approved = Set(current.decisions.filter(\.produce).map(\.user))
        guard !approved.isEmpty else { throw DisclosureError("request \(id) was rejected for every user: nothing to produce") }
        // The decisions and scope above are read from tables: produced from, an edit there (a
        // withheld user's decision flipped, a scope widened) was handed over.
        try LedgerConsistency.requireAgreement(book: book)
        // An object the state does not list might hold the very records asked for: its row was
        // deleted, or the state replaced. Producing without it would hand over less than the truth.
        let listed = Set(try book.database.pool.read { db in try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects") })
        if let orphan = book.vault.storedObjects().first(where: { !listed.contains($0) }) {
            throw IntegrityError("vault object \(orphan) is in the vault but not in the state: nothing produced (run custody verify)")
        }
        try RequestBook.requireNotBeforeReceipt(at, current.request, what: "the production time \(StateDatabase.timestamp(at))")
        try prepare(directory)

        let request = current.request
        let objects = try book.database.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT sha256 FROM vault_objects
                    WHERE purged_at IS NULL AND first_record_at_ms <= ? AND last_record_at_ms >= ?
                    ORDER BY first_record_at_ms, sha256
                    """, arguments: [request.scopeEnd, request.scopeStart])
        }
        let writers = PackageWriters(directory: directory)
        let wantContent = request.dataCategories.contains(.content)
        let wantNonContent = request.dataCategories.contains(.nonContent)
        var contentRecords = 0  // what was produced, not what was asked: reports classify by it
        // Each object is copied to a private file and the copy checked against the object's name
        // before a line of it is read: only verified bytes reach the package.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("custody-produce-\(UUID().uuidString)").path
        defer { unlink(scratch) }
        for (order, object) in objects.enumerated() {
            switch book.vault.verifiedCopy(object, to: scratch) {
            case .intact: break
            case .missing:
                try? FileManager.default.removeItem(atPath: directory)
                throw IntegrityError("vault object \(object) is missing: nothing produced (run custody verify)")
            case .altered(let why):
                try? FileManager.default.removeItem(atPath: directory)
                throw IntegrityError("vault object \(object) does not match its SHA-256 (\(why)): nothing produced (run custody verify)")
            }
            let source = try DecodedSources.open(path: scratch)
            // Each object is sniffed on its own: objects may hold different formats.
            var parser = LineParser(policy: policy, format: book.formats.format(of: object))
            defer { parser.deallocate() }
            LineReader.forEachLine(in: source) { event in
                guard case .line(let bytes, let number) = event, !bytes.isEmpty else { return }
                guard case .record(let record) = parser.parse(bytes), let userBytes = record.user,
                    record.millis >= request.scopeStart, record.millis <= request.scopeEnd
                else { return }
                let user = EscapedText.escape(bytes: userBytes)
                guard approved.contains(user) else { return }
                let isContent = record.event.map { policy.role(ofEvent: String(decoding: $0, as: UTF8.self)) == .publish } ?? false
                guard isContent ? wantContent : wantNonContent else { return }
                writers.append(
                    line: bytes, user: user, format: parser.format, millis: record.millis,
                    object: object, objectOrder: order, line: number)
                if isContent { contentRecords += 1 }
            }
            if let fault = source.fault { throw IntegrityError("vault object \(object) is damaged (\(fault.message)): run custody verify") }
        }
        let files = try writers.finish()
        let producedAt = StateDatabase.timestamp(at)
        var affected: [String] = []
        for file in files where affected.last != file.user { affected.append(file.user) }
        let total = files.reduce(0) { $0 + $1.records }
        let manifest =
            JSONValue.object([
                ("schema", .string("custody.production.v1")),
                ("request", request.json),
                ("produced_at", .string(producedAt)),
                ("policy", .string(policy.id)),
                ("hash_algorithm", .string("SHA-256")),
                ("records", .int(total)),
                ("users_affected", .array(affected.map { .string($0) })),
                ("users_without_records", .array(approved.subtracting(affected).sorted().map { .string($0) })),
                ("users_not_produced", .array(Set(request.users).subtracting(approved).sorted().map { .string($0) })),
                ("files", .array(files.map(\.json))),
            ]).rendered() + "\n"
        let manifestPath = directory + "/manifest.json"
        // The package on disk before the state and the ledger name it: the record files are
        // flushed as they are closed, the manifest as it is written; their directory entries
        // here. (The ledger's checkpoint flushes the entry that names the manifest's hash.)
        try DurableFile.write(Array(manifest.utf8), to: manifestPath)
        try DurableFile.flush(path: directory + "/records", directory: true)
        try DurableFile.flush(path: directory, directory: true)
        let manifestSHA = SHA256.hash(data: Data(manifest.utf8)).hex

        try book.database.pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO productions (request_id, produced_at, directory, manifest_sha256, records, users_affected, content_records) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    id, producedAt, directory, manifestSHA, total, JSONValue.array(affected.map { .string($0) }).rendered(pretty: false),
                    contentRecords,
                ])
            let outcome = total == 0 ? RequestOutcome.noDataFound.rawValue : current.outcome?.rawValue
            try db.execute(
                sql: "UPDATE requests SET status = 'produced', outcome = ?, produced_at = ? WHERE id = ?",
                arguments: [outcome, producedAt, id])
            try book.ledger.append(
                "request.produced",
                .object([
                    ("request", .string(id)), ("directory", .string(directory)), ("manifest_sha256", .string(manifestSHA)),
                    ("records", .int(total)), ("content_records", .int(contentRecords)),
                    ("users_affected", .array(affected.map { .string($0) })),
                    ("files", .array(files.map { .object([("path", .string($0.path)), ("sha256", .string($0.sha256))]) })),
                ]), db: db)
            try book.recordState(id, db: db)
        }
        try book.ledger.checkpoint(database: book.database)
        return Summary(directory: directory, manifestSHA256: manifestSHA, records: total, usersAffected: affected, files: files.count)
    }

    /// The output directory must be new or empty; it is made private (0700).
    static func prepare(_ directory: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DisclosureError("\(directory) exists and is not a directory") }
            guard (try fm.contentsOfDirectory(atPath: directory)).isEmpty else {
                throw DisclosureError("\(directory) exists and is not empty: choose a new directory for the package")
            }
        }
        try fm.createDirectory(atPath: directory + "/records", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
    }
}

/// One gzip records file per user and source format (`records/<user>.<format>.gz`), its
/// records in time order (ties in vault-object and line order): a user's JSON lines and logfmt
/// lines never share a file. Records are gathered first and written at the end; a package holds
/// the records of a few users, not a log.
final class PackageWriters {
    struct File {
        var user: String
        var format: LogFormat
        var path: String
        var sha256: String
        var contentSHA256: String
        var records: Int
        var sources: [(object: String, line: Int)]

        var json: JSONValue {
            .object([
                ("path", .string(path)), ("user", .string(user)), ("format", .string(format.rawValue)),
                ("sha256", .string(sha256)), ("content_sha256", .string(contentSHA256)), ("records", .int(records)),
                ("sources", .array(sources.map { .object([("vault_object", .string($0.object)), ("line", .int($0.line))]) })),
            ])
        }
    }

    private struct Record {
        var millis: Int64
        var objectOrder: Int
        var line: Int
        var object: String
        var bytes: [UInt8]
    }

    private struct Key: Hashable {
        var user: String
        var format: LogFormat
    }

    private let directory: String
    private var records: [Key: [Record]] = [:]

    init(directory: String) { self.directory = directory }

    func append(
        line: UnsafeBufferPointer<UInt8>, user: String, format: LogFormat, millis: Int64,
        object: String, objectOrder: Int, line number: Int
    ) {
        records[Key(user: user, format: format), default: []]
            .append(Record(millis: millis, objectOrder: objectOrder, line: number, object: object, bytes: Array(line)))
    }

    func finish() throws -> [File] {
        var files: [File] = []
        let keys = records.keys.sorted { ($0.user, $0.format.rawValue) < ($1.user, $1.format.rawValue) }
        for key in keys {
            let sorted = records[key]!.sorted { ($0.millis, $0.objectOrder, $0.line) < ($1.millis, $1.objectOrder, $1.line) }
            let relative = "records/\(Self.fileName(for: key.user)).\(key.format.rawValue).gz"
            let writer = try GzipWriter(path: directory + "/" + relative, level: 6, mode: 0o600)
            var hasher = SHA256()
            for record in sorted {
                try (record.bytes + [0x0A]).withUnsafeBytes { bytes in
                    try writer.write(bytes)
                    hasher.update(bufferPointer: bytes)
                }
            }
            try writer.close(sync: true)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + relative))
            files.append(
                File(
                    user: key.user, format: key.format, path: relative, sha256: SHA256.hash(data: bytes).hex,
                    contentSHA256: hasher.finalize().hex, records: sorted.count,
                    sources: sorted.map { ($0.object, $0.line) }))
        }
        return files
    }
    /// User ids become file names: anything but letters, digits, `-`, `_` and `.` is %-escaped.
    static func fileName(for user: String) -> String {
        var out = ""
        for byte in user.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (c.isLetter || c.isNumber || c == "-" || c == "_" || (c == "." && !out.isEmpty)) {
                out.append(c)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
