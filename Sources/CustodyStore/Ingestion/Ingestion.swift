import CZlib
import CustodyCore
import CustodyIngest
import Foundation

/// One unit of ingestion work: read `path` onwards from where `record` (the same file, seen
/// before under this or another name) stopped, or from the start for a new file.
///
/// A class, not a struct: a plan goes from the planner through the run's list, the read and
/// the part to the commit, and a struct this size (a path, an identity, a known record, the
/// file's bytes) was copied field by field at each step, a retain and release per field. Its
/// fields never change once planned.
final class IngestionPlan: Sendable {
    let path: String
    let format: LogFormat
    let identity: FileIdentity
    let record: LogFileRecord?
    /// The whole file, read when it was planned (`WholeFile`): audited and stored from these
    /// bytes, without opening it again. Nil for a file read from its path.
    let contents: [UInt8]?
    /// `contents` decoded, when planning decoded all of it (a small gzip file, cleanly:
    /// `FileIdentity.readDecoding`): a new file is scanned from these bytes, not inflated again.
    let decoded: [UInt8]?

    init(
        path: String, format: LogFormat, identity: FileIdentity, record: LogFileRecord?, contents: [UInt8]? = nil,
        decoded: [UInt8]? = nil
    ) {
        self.path = path
        self.format = format
        self.identity = identity
        self.record = record
        self.contents = contents
        self.decoded = decoded
    }

    var start: LineReader.Position {
        record.map { LineReader.Position(bytes: $0.bytesRead, lines: $0.linesRead) } ?? .start
    }
}

/// What reading a plan produced, ready to be committed in one transaction.
///
/// A class for the same reason as `IngestionPlan`: a part (its plan, its audit's tallies)
/// passes through the run's loop, its pending list, the commit group and the count of what was
/// committed; as a struct, each step copied and released every field (~2 % of a fresh run over
/// 10,000 small files in `swift_retain` alone).
final class IngestedPart: Sendable {
    struct StoredObject: Sendable {
        var sha256: String
        var size: Int
        var storedSize: Int
        /// The stored bytes, to go into the commit group's pack; nil for a loose object or one
        /// already in the vault.
        var packBytes: [UInt8]?
    }

    let plan: IngestionPlan
    let audit: FileAudit
    /// The vault copy of the new content; nil when nothing new was read.
    let object: StoredObject?
    /// Nothing is left to read at the identity's size and modification time.
    let readToEnd: Bool
    /// The file is shorter than what was already ingested from it.
    let shrank: Bool
    /// CRC-32 of the file's decoded bytes from its start to where this read stopped; nil when
    /// the earlier part's is unknown (a row from before checksums were kept).
    let contentChecksum: UInt32?

    init(plan: IngestionPlan, audit: FileAudit, object: StoredObject?, readToEnd: Bool, shrank: Bool, contentChecksum: UInt32?) {
        self.plan = plan
        self.audit = audit
        self.object = object
        self.readToEnd = readToEnd
        self.shrank = shrank
        self.contentChecksum = contentChecksum
    }

    var start: LineReader.Position { plan.start }
    var addedBytes: Int { max(0, audit.end.bytes - start.bytes) }
}

enum Ingestion {
    /// Gzip files up to this size are copied into the vault by the reading task itself, before
    /// it decodes them; larger ones on `WorkerPool.copies` while it decodes.
    static let inlineCopyLimit: Int64 = 1 << 20

    /// Reads the new part of a file, copying exactly the bytes it consumes into the vault.
    /// Plain files may still be growing: an unfinished last line is left for the next run.
    /// With `durable: false` the part's vault object is not yet flushed to disk: the caller makes
    /// it durable (`VaultSync`) before committing the part, and a small object is not written at
    /// all but carried in the part (`StoredObject.packBytes`) for the caller's pack.
    /// With `helpers` (a read announced to the run's board, not with `prefetch`), a read thread
    /// with no file left may inflate the rest of this one.
    static func read(
        _ plan: IngestionPlan, policy: Policy, vault: Vault, prefetch: Bool = false, durable: Bool = true,
        helpers: DecodeHelpers.Ticket? = nil
    ) throws -> IngestedPart {
        // Settled once the file is open; here too, should the read fail before (a helper waiting
        // for it stops waiting).
        defer { helpers?.settle() }
        // A gzip file read whole from its start is stored as it is; anything else is compressed.
        let whole = plan.identity.compressed && plan.start.bytes == 0
        let writer = try vault.beginObject(
            adoptingGzip: whole ? plan.path : nil, contents: whole ? plan.contents : nil,
            copyInline: plan.identity.size <= inlineCopyLimit, durable: durable, pack: !durable)
        var writeError: Error?
        var newPartCRC: UInt32 = 0
        // A new small gzip file decoded whole at planning is scanned from those bytes: they are
        // the bytes its identity was taken from and what its stored copy (`contents`) decodes to.
        let decoded = plan.start == .start ? plan.decoded : nil
        var readerPlan = RecordReader.Plan(
            start: plan.start, completeLinesOnly: !plan.identity.compressed, prefetch: prefetch,
            contents: decoded ?? plan.contents
        ) { bytes in
            newPartCRC = CRC32.update(newPartCRC, bytes)
            guard writeError == nil else { return }
            do { try writer.append(bytes) } catch { writeError = error }
        }
        if !prefetch { readerPlan.helpers = helpers }
        var audit = FileAudit.scan(path: plan.path, index: 0, policy: policy, format: plan.format, plan: readerPlan)
        if decoded != nil, let contents = plan.contents {
            // What the gzip source says at the clean end it was seen to reach when planned: a
            // compressed file, every byte of it consumed.
            audit.compressed = true
            audit.bytesRead = contents.count
        }
        if let writeError { throw writeError }
        let shrank = audit.end.bytes < plan.start.bytes
        var object: IngestedPart.StoredObject?
        if writer.size > 0 && !shrank {
            // A fault means the file holds more than its decoded prefix: compress what was read.
            let stored =
                try
                (whole && audit.issues.fault != nil ? recompressed(plan, audit: audit, vault: vault, durable: durable) : writer.commit())
            // An adopted copy is named by its own bytes; they must be the bytes just decoded.
            if whole && audit.issues.fault == nil && stored.storedSize != audit.bytesRead {
                throw StoreError.io(
                    path: plan.path,
                    reason:
                        "changed while it was being read (\(audit.bytesRead) bytes decoded, \(stored.storedSize) copied); the next run reads it again"
                )
            }
            object = IngestedPart.StoredObject(
                sha256: stored.sha256, size: writer.size, storedSize: stored.storedSize, packBytes: stored.packBytes)
        }
        let readToEnd = plan.identity.compressed || audit.issues.fault != nil || Int64(audit.end.bytes) == plan.identity.size
        var checksum: UInt32?
        if plan.start.bytes == 0 {
            checksum = newPartCRC
        } else if let earlier = plan.record?.contentChecksum {
            checksum = UInt32(
                truncatingIfNeeded: crc32_combine(
                    UInt(UInt32(truncatingIfNeeded: earlier)), UInt(newPartCRC),
                    off_t(max(0, audit.end.bytes - plan.start.bytes))))
        }
        return IngestedPart(plan: plan, audit: audit, object: object, readToEnd: readToEnd, shrank: shrank, contentChecksum: checksum)
    }

    /// The decoded content of a faulty gzip file up to where reading stopped, as a new object.
    private static func recompressed(
        _ plan: IngestionPlan, audit: FileAudit, vault: Vault, durable: Bool
    ) throws -> VaultObjectWriter.Committed {
        let writer = try vault.beginObject(durable: durable, pack: !durable)
        var remaining = audit.end.bytes
        // The bytes just audited: from memory when the file was read whole.
        let source = try plan.contents.map { try DecodedSources.open(contents: $0) } ?? DecodedSources.open(path: plan.path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while remaining > 0 {
            let n = source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, remaining)]))
            if n == 0 { break }
            try writer.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            remaining -= n
        }
        return try writer.commit()
    }
}
