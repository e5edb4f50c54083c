import Crypto
import CustodyCore
import CustodyIngest
import Foundation

/// The content-addressed vault: verified copies of ingested log content, kept so retention holds
/// after the app's own rotation deletes its logs.
///
/// An object is gzip-compressed content (`ab/abcdef….gz`, mode 0440) named by a SHA-256 that
/// covers every byte it holds: of its *uncompressed* bytes when Custody compressed them, of the
/// *stored* bytes when a gzip file was adopted as it is (hashing a log's 40 MB of gzip instead
/// of its 290 MB of content was the difference between `run` at 1.6 and 1.4 × `check`). It is
/// written to a temporary file, flushed, and renamed into place, so an object either exists
/// whole or not at all; the same content is stored once as a loose object (a packed one may be
/// packed again, see `commit`).
///
/// Small objects written by a run (an adopted gzip file of at most `packLimit` bytes, or content
/// of at most `packLimit` bytes before compression) are not files of their own:
/// each commit group's go into one pack (`packs/<uuid>.pack`, `PackFile`), under the same names.
/// Every operation here works on loose and packed objects alike, and a packed object's bytes are
/// checked against its name whenever they are used.
public struct Vault: Sendable {
    public let directory: String
    /// Objects a run stores of at most this many bytes go into packs; 0: none.
    public var packLimit = Vault.defaultPackLimit
    public static let defaultPackLimit = 1 << 20
    let packs: PackStore
    /// The shard directories loose objects can be in (`looseStoredSize`).
    let shards: LooseShards

    /// Opens the vault; with `create` (the default), makes its directory when missing.
    public init(directory: String, create: Bool = true) throws {
        self.directory = directory
        packs = PackStore(vaultDirectory: directory)
        if create {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        shards = LooseShards(vaultDirectory: directory)
    }

    /// Deletes half-written objects left by a killed run. Call only while holding the run lock.
    public func removeIncomplete() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".incoming-") {
            try? fm.removeItem(atPath: directory + "/" + name)
        }
        packs.removeIncomplete()
    }

    public func path(of sha256: String) -> String {
        "\(directory)/\(sha256.prefix(2))/\(sha256).gz"
    }

    /// True when the object is in the vault, loose or as a complete pack entry (not checked).
    public func contains(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: path(of: sha256)) || packs.locations(of: sha256).contains { $0.entry.complete }
    }

    /// Where the object is, for messages: its loose file, or the pack holding it and the offset
    /// of its bytes; the loose path when it is nowhere.
    public func location(of sha256: String) -> String {
        let loose = path(of: sha256)
        if FileManager.default.fileExists(atPath: loose) { return loose }
        guard let packed = packs.locations(of: sha256).first else { return loose }
        return "\(packed.pack) at byte \(packed.entry.offset)"
    }

    /// The file a finding about the object names: its loose file, or the pack holding it.
    public func file(of sha256: String) -> String {
        let loose = path(of: sha256)
        if FileManager.default.fileExists(atPath: loose) { return loose }
        return packs.locations(of: sha256).first?.pack ?? loose
    }

    /// The stored size of an intact loose copy of the object, or nil. (Packed copies are not
    /// looked for when storing: see `VaultObjectWriter.commit`.)
    func looseStoredSize(of sha256: String) -> Int? {
        // No loose object can be in a shard that did not exist when the vault was opened and
        // that no object was stored in since: a fresh run over 10,000 small files looked for
        // each of them in vain (a failing `stat` per file).
        guard shards.mayHold(sha256) else { return nil }
        var status = stat()
        // stat, not FileManager: a missing file (the usual case) is not worth an NSError.
        guard stat(path(of: sha256), &status) == 0, Self.check(file: path(of: sha256), against: sha256) == .intact else {
            return nil
        }
        return Int(status.st_size)
    }

    /// Writes small objects of one commit group (`VaultObjectWriter.commit`'s `packBytes`) as one
    /// pack; returns its path, nil when there was nothing to write. Not flushed: the caller makes
    /// it durable (`VaultSync`) before any state row names its objects.
    func writePack(_ objects: [(sha256: String, bytes: [UInt8])]) throws -> String? {
        try packs.write(objects, sync: false)
    }

    /// Starts a new object; feed it bytes, then `commit` it.
    ///
    /// With `adoptingGzip`, the bytes fed in are only counted, and the object is a copy of that
    /// gzip file as it is, named by the hash of its bytes: its decompressed content is exactly
    /// the bytes fed in (the caller reads the whole file from its start without a fault and
    /// checks the copy's size against what it decoded), and copying it is far cheaper than
    /// compressing the content again. `copyInline` copies the file at once, on the caller's
    /// thread (right for small files); otherwise the copy runs on `WorkerPool.copies` while the caller
    /// decodes.
    ///
    /// With `durable: false`, `commit` does not wait for the disk: the caller must make the
    /// object durable (`VaultSync.sync`) before any state row names it.
    ///
    /// With `pack`, an object of at most `packLimit` stored bytes is kept in memory and not
    /// written: `commit` hands its bytes back (`packBytes`) for the caller to write, with the rest
    /// of its group, as one pack (`writePack`). Larger objects are loose files as without it.
    ///
    /// `contents`, with `adoptingGzip`: the gzip file's bytes, already read whole (`WholeFile`).
    /// The object is those bytes, hashed and stored from memory; the file is not read again.
    public func beginObject(
        adoptingGzip source: String? = nil, contents: [UInt8]? = nil, copyInline: Bool = false, durable: Bool = true,
        pack: Bool = false
    ) throws
        -> VaultObjectWriter
    {
        try VaultObjectWriter(
            vault: self, adopting: source, contents: contents, copyInline: copyInline, durable: durable, pack: pack)
    }

    /// Removes an object (purge): its loose file, and every pack entry of it (each pack holding
    /// one is rewritten without it, the other entries kept as they are). Missing objects are not
    /// an error.
    public func remove(_ sha256: String) throws {
        try remove([sha256])
    }

    /// Removes objects (purge), rewriting each pack that holds any of them once.
    public func remove(_ names: Set<String>) throws {
        for sha256 in names.sorted() {
            let target = path(of: sha256)
            if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
        }
        if names.contains(where: { !packs.locations(of: $0).isEmpty }) { try packs.remove(names) }
    }

    /// What re-reading an object finds.
    public enum Integrity: Equatable, Sendable {
        case intact
        case missing
        /// The content no longer hashes to its name, or cannot be decompressed.
        case altered(String)
    }

    /// Re-hashes an object: its stored bytes (an adopted gzip file) or, failing that, its
    /// uncompressed content (content compressed here). Intact if either matches its name. An
    /// object with several copies (loose, or in several packs) is intact when one of them is;
    /// a pack entry cut short by a truncated pack counts as missing.
    public func check(_ sha256: String) -> Integrity {
        var verdict = Integrity.missing
        let target = path(of: sha256)
        if FileManager.default.fileExists(atPath: target) {
            verdict = Self.check(file: target, against: sha256)
            if verdict == .intact { return .intact }
        }
        for location in packs.locations(of: sha256) {
            guard let bytes = packs.bytes(at: location) else { continue }
            let packed = Self.check(bytes: bytes, against: sha256)
            if packed == .intact { return .intact }
            if case .altered(let why) = packed, verdict == .missing {
                verdict = .altered("\(why) (entry at byte \(location.entry.offset) of \(location.pack))")
            }
        }
        return verdict
    }

    private static func check(file: String, against sha256: String) -> Integrity {
        if (try? storedHash(file)) == sha256 { return .intact }
        return checkContent(of: file, against: sha256)
    }

    /// Checks stored bytes held in memory (a pack entry).
    private static func check(bytes: [UInt8], against sha256: String) -> Integrity {
        if SHA256.hash(data: bytes).hex == sha256 { return .intact }
        // Content compressed here is named by its uncompressed bytes: decode a private copy.
        let scratch = privateFileName()
        defer { unlink(scratch) }
        do { try writePrivate(bytes, to: scratch) } catch { return .altered("cannot be copied: \(error.message)") }
        return checkContent(of: scratch, against: sha256)
    }

    /// A new name for a private scratch file in the system's temporary directory.
    static func privateFileName() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("custody-object-\(UUID().uuidString)").path
    }

    private static func writePrivate(_ bytes: [UInt8], to destination: String) throws {
        let fd = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: destination, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { try PackFile.writeAll(fd, $0, path: destination) }
    }

    /// Copies an object to `destination` (a private file) and checks the *copy* against the
    /// object's name, so the bytes checked are exactly the bytes a caller then reads: nothing can
    /// change between the check and the read (`request produce` reads only verified bytes). A
    /// packed object's entry is copied out the same way.
    public func verifiedCopy(_ sha256: String, to destination: String) -> Integrity {
        var verdict = Integrity.missing
        let target = path(of: sha256)
        if FileManager.default.fileExists(atPath: target) {
            do {
                let stored = try VaultObjectWriter.copy(target, to: destination).sha256
                verdict = stored == sha256 ? .intact : Self.checkContent(of: destination, against: sha256)
            } catch {
                verdict = .altered("cannot be copied: \(error.message)")
            }
            if verdict == .intact { return .intact }
        }
        for location in packs.locations(of: sha256) {
            guard let bytes = packs.bytes(at: location) else { continue }
            let packed: Integrity
            do {
                try Self.writePrivate(bytes, to: destination)
                packed = try Self.storedHash(destination) == sha256 ? .intact : Self.checkContent(of: destination, against: sha256)
            } catch {
                packed = .altered("cannot be copied: \(error.message)")
            }
            if packed == .intact { return .intact }
            if case .altered(let why) = packed, verdict == .missing {
                verdict = .altered("\(why) (entry at byte \(location.entry.offset) of \(location.pack))")
            }
        }
        return verdict
    }

    /// Calls `body` with the path of a file holding the object's stored bytes once they were
    /// checked against its name: a packed object is copied out to a private file and the copy
    /// checked (the bytes `body` reads are the bytes checked); a loose object is its own file,
    /// checked first unless `checkLoose` is false (a loose object is then only required to
    /// exist, as callers that recount it have always done). Returns what the check found and, when
    /// intact, what `body` returned.
    public func withVerifiedObject<T>(
        _ sha256: String, checkLoose: Bool = true, _ body: (String) throws -> T
    ) rethrows -> (integrity: Integrity, value: T?) {
        let loose = path(of: sha256)
        if FileManager.default.fileExists(atPath: loose) {
            let verdict = checkLoose ? Self.check(file: loose, against: sha256) : .intact
            if verdict == .intact { return (.intact, try body(loose)) }
            if packs.locations(of: sha256).isEmpty { return (verdict, nil) }
        }
        if packs.locations(of: sha256).isEmpty { return (.missing, nil) }
        let scratch = Self.privateFileName()
        defer { unlink(scratch) }
        let verdict = verifiedCopy(sha256, to: scratch)
        guard verdict == .intact else { return (verdict, nil) }
        return (.intact, try body(scratch))
    }

    private static func checkContent(of target: String, against sha256: String) -> Integrity {
        let source: DecodedSource
        do {
            source = try DecodedSources.open(path: target)
        } catch {
            return .altered(error.message)
        }
        guard source.isCompressed else { return .altered("not gzip") }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = source.read(into: buffer)
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        if let fault = source.fault { return .altered("\(fault.message) at byte \(fault.offset)") }
        let digest = hasher.finalize().hex
        return digest == sha256 ? .intact : .altered("content hashes to \(digest)")
    }

    /// Names of every object in the vault, loose (`ab/abcdef….gz`) or packed (a complete entry
    /// of a pack), whatever the state says; sorted, each once.
    public func storedObjects() -> [String] {
        let packed = packs.names()
        guard !packed.isEmpty else { return looseObjects() }
        return Array(Set(looseObjects()).union(packed)).sorted()
    }

    /// Files and regions in `packs/` that hold bytes no pack entry describes (see
    /// `PackStore.damage`): unlisted content, like an orphan object.
    public func packDamage() -> [(path: String, reason: String)] {
        packs.damage()
    }

    private func looseObjects() -> [String] {
        let fm = FileManager.default
        var names: [String] = []
        for shard in ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        where !shard.hasPrefix(".") && shard != PackFile.directoryName {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: directory + "/" + shard, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for name in ((try? fm.contentsOfDirectory(atPath: directory + "/" + shard)) ?? []).sorted()
            where name.hasSuffix(".gz") && !name.hasPrefix(".") {
                names.append(String(name.dropLast(3)))
            }
        }
        return names
    }

    private static func storedHash(_ path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().hex
    }

    /// Calls `body` with the object's uncompressed content, chunk by chunk. A packed object is
    /// checked against its name first (throws when it is missing or altered).
    public func read(_ sha256: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !FileManager.default.fileExists(atPath: path(of: sha256)) {
            var failure: Error?
            let (integrity, _) = withVerifiedObject(sha256) { scratch in
                do { try Self.read(path: scratch, body) } catch { failure = error }
            }
            guard integrity == .intact else {
                throw StoreError.io(path: location(of: sha256), reason: "vault object \(sha256) is \(integrity)")
            }
            if let failure { throw failure }
            return
        }
        try Self.read(path: path(of: sha256), body)
    }

    private static func read(path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let source = try DecodedSources.open(path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = source.read(into: buffer)
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        if let fault = source.fault { throw fault }
    }
}

/// Streams one object into the vault: hashes and compresses as it goes; or, adopting a gzip
/// file, only counts the decoded bytes fed in while a copy (in the background, or done at once
/// for a small file) stores and hashes the file itself.
public final class VaultObjectWriter {
    /// zlib level for content compressed here: plain (usually still-growing) log files. Level 3
    /// is several times faster than the default 6 for a few percent more bytes.
    static let compressionLevel: Int32 = 3

    private let vault: Vault
    private let temporaryPath: String
    /// Compresses content to `temporaryPath`: from the start, or (packing) once the content
    /// outgrows the pack limit.
    private var writer: GzipWriter?
    /// Content compressed here, while it may still go into a pack.
    private var content: [UInt8]?
    /// An adopted small gzip file read into memory for a pack, with its hash.
    private let adoptedBytes: (bytes: [UInt8], sha256: String)?
    private let adopted: AdoptedCopy?
    private let compressing: Bool
    /// `commit` flushes the object and its directory entry to disk; else the caller does.
    private let durable: Bool
    private var hasher = SHA256()
    public private(set) var size = 0

    /// What `commit` stored.
    public struct Committed: Sendable {
        public var sha256: String
        public var storedSize: Int
        /// The object's stored bytes, for the caller to write into its group's pack; nil when the
        /// object is a loose file, or already in the vault.
        public var packBytes: [UInt8]?
    }

    init(
        vault: Vault, adopting source: String?, contents: [UInt8]? = nil, copyInline: Bool = false, durable: Bool = true,
        pack: Bool = false
    ) throws {
        self.vault = vault
        self.durable = durable
        let packing = pack && vault.packLimit > 0
        // Bytes for a pack: the file's, read already or now (small files only).
        let packed: [UInt8]? =
            if let source, packing {
                if let contents {
                    contents.count <= vault.packLimit ? contents : nil
                } else if copyInline {
                    try? Self.readSmall(source, limit: vault.packLimit)
                } else {
                    nil
                }
            } else { nil }
        // A packed object is never a file of its own: no name to make (a UUID each was 1 % of a
        // fresh run over 10,000 small files).
        let temporaryPath = packed == nil ? "\(vault.directory)/.incoming-\(UUID().uuidString).gz" : ""
        self.temporaryPath = temporaryPath
        compressing = source == nil
        if let packed {
            adoptedBytes = (packed, SHA256.hash(data: packed).hex)
            adopted = nil
        } else {
            adoptedBytes = nil
            adopted = source.map { source in
                if let contents {
                    AdoptedCopy(contents: contents, to: temporaryPath, sync: durable)
                } else {
                    AdoptedCopy(from: source, to: temporaryPath, sync: durable, inline: copyInline)
                }
            }
        }
        if source == nil {
            if packing {
                content = []
            } else {
                writer = try GzipWriter(path: temporaryPath, level: Self.compressionLevel, mode: 0o600)
            }
        }
    }

    deinit {
        _ = try? adopted?.wait()  // the copy must not create the file after it is removed
        if adopted != nil || writer != nil { unlink(temporaryPath) }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        if compressing {
            hasher.update(bufferPointer: bytes)
            if content != nil {
                if content!.count + bytes.count <= vault.packLimit {
                    content!.append(contentsOf: bytes)
                } else {
                    // Too big for a pack: a loose object after all.
                    let spill = try GzipWriter(path: temporaryPath, level: Self.compressionLevel, mode: 0o600)
                    writer = spill
                    try spill.write(content!)
                    content = nil
                }
            }
            if let writer, content == nil { try writer.write(bytes) }
        }
        size += bytes.count
    }

    /// Flushes the object to disk (unless it was begun with `durable: false`) and moves it into
    /// place under its hash (unless an intact object of that name is already there); a small
    /// object begun with `pack` is handed back in `packBytes` instead. Returns the hash and the
    /// stored (compressed) size.
    public func commit() throws -> Committed {
        let sha: String
        var storedSize = 0
        if let adoptedBytes {
            sha = adoptedBytes.sha256
        } else if let adopted {
            (storedSize, sha) = try adopted.wait()
        } else {
            sha = hasher.finalize().hex
        }
        // An object of this name may have been renamed into place by a run that died before the
        // group's flush (`durable: false`): after a power loss its bytes can be missing. Trust it
        // only once they hash to its name; otherwise the bytes just written replace it. Only a
        // loose copy is looked for: finding a packed one would mean reading every pack's entry
        // headers on every run (their number grows with the vault), and a second copy in a new
        // pack is harmless (an object is intact when one copy is; purge removes every copy).
        if let existing = vault.looseStoredSize(of: sha) {
            return Committed(sha256: sha, storedSize: existing)
        }
        if let adoptedBytes {
            return Committed(sha256: sha, storedSize: adoptedBytes.bytes.count, packBytes: adoptedBytes.bytes)
        }
        if let content {
            let stored = GzipWriter.compress(content, level: Self.compressionLevel)
            return Committed(sha256: sha, storedSize: stored.count, packBytes: stored)
        }
        let target = vault.path(of: sha)
        let fm = FileManager.default
        if let writer {
            try writer.close(sync: durable)
            storedSize = writer.bytesWritten
        }
        let shard = (target as NSString).deletingLastPathComponent
        vault.shards.add(sha)  // before the object is there: a later lookup must not miss it
        try fm.createDirectory(atPath: shard, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(temporaryPath, 0o440) == 0, rename(temporaryPath, target) == 0 else {
            throw StoreError.io(path: target, reason: String(cString: strerror(errno)))
        }
        if durable { syncDirectory(shard) }
        return Committed(sha256: sha, storedSize: storedSize)
    }

    /// A whole file of at most `limit` bytes, or nil when it is larger (it is then copied as a
    /// loose object).
    private static func readSmall(_ path: String, limit: Int) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        guard status.st_size <= limit else { return nil }
        // One byte more than the size: a file that grew since is seen to have grown.
        let want = min(limit, Int(status.st_size)) + 1
        var n = 0
        let bytes = try [UInt8](unsafeUninitializedCapacity: want) { buffer, count in
            n = try PackFile.readFully(fd, buffer.baseAddress!, count: want, at: 0, path: path)
            count = n
        }
        guard n <= limit else { return nil }
        return bytes
    }

    /// Writes bytes already in memory (an adopted file read whole) to `destination` (a private
    /// file), flushed to disk with `sync`; returns their size and SHA-256.
    static func store(_ contents: [UInt8], to destination: String, sync: Bool) throws -> (size: Int, sha256: String) {
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw StoreError.io(path: destination, reason: String(cString: strerror(errno))) }
        defer { close(output) }
        try contents.withUnsafeBytes { try PackFile.writeAll(output, $0, path: destination) }
        guard !sync || fsync(output) == 0 else {
            throw StoreError.io(path: destination, reason: "fsync: \(String(cString: strerror(errno)))")
        }
        return (contents.count, SHA256.hash(data: contents).hex)
    }

    /// Copies a file, hashing the bytes as they pass, and flushes the copy to disk (with `sync`);
    /// returns its size and SHA-256. Name and stored bytes agree by construction: both come from
    /// one read.
    static func copy(_ source: String, to destination: String, sync: Bool = true) throws -> (size: Int, sha256: String) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StoreError.io(path: source, reason: String(cString: strerror(errno))) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw StoreError.io(path: destination, reason: String(cString: strerror(errno))) }
        defer { close(output) }
        var hasher = SHA256()
        var total = 0
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(input, buffer, 1 << 20)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw StoreError.io(path: source, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer, count: n))
            var written = 0
            while written < n {
                let w = write(output, buffer + written, n - written)
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { throw StoreError.io(path: destination, reason: String(cString: strerror(errno))) }
                written += w
            }
            total += n
        }
        guard !sync || fsync(output) == 0 else {
            throw StoreError.io(path: destination, reason: "fsync: \(String(cString: strerror(errno)))")
        }
        return (total, hasher.finalize().hex)
    }
}

/// Copies (and hashes) an adopted gzip file into the vault's incoming area, started with the
/// object: on `WorkerPool.copies`, so the copy waits on the disk while the caller decodes the same file (a
/// fresh four-file `run` went from 1.75 to 1.69 s when it left the commit); or, `inline`, at once
/// on the caller's thread, which for a small file costs less than handing it to another thread.
final class AdoptedCopy: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    // Written once (by the pool, or by init when inline) before `finished` is signalled; read
    // after waiting.
    private var result: Result<(size: Int, sha256: String), Error> = .success((0, ""))

    init(from source: String, to destination: String, sync: Bool, inline: Bool) {
        guard !inline else {
            result = Result { try VaultObjectWriter.copy(source, to: destination, sync: sync) }
            finished.signal()
            return
        }
        WorkerPool.copies.submit { [self] in
            result = Result { try VaultObjectWriter.copy(source, to: destination, sync: sync) }
            finished.signal()
        }
    }

    /// Stores bytes already in memory (the adopted file, read whole), at once.
    init(contents: [UInt8], to destination: String, sync: Bool) {
        result = Result { try VaultObjectWriter.store(contents, to: destination, sync: sync) }
        finished.signal()
    }

    /// The copy's size and SHA-256, once it is on disk; waiting again returns the same.
    func wait() throws -> (size: Int, sha256: String) {
        finished.wait()
        finished.signal()
        return try result.get()
    }
}

/// Makes a rename durable: fsync on the directory that holds the new name.
func syncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
}

extension Digest {
    /// Lower-case hexadecimal, as vault names and manifests write SHA-256 values.
    public var hex: String {
        // Straight into a buffer: `String(byte, radix: 16)` per byte was 3 % of a fresh run
        // over 10,000 small files (a name per object).
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                digits.withUTF8Buffer { table in
                    for (i, byte) in bytes.enumerated() {
                        out[2 * i] = table[Int(byte >> 4)]
                        out[2 * i + 1] = table[Int(byte & 0x0F)]
                    }
                }
                return bytes.count * 2
            }
        }
    }
}

extension Error {
    /// A short reason for messages.
    var message: String {
        if let fault = self as? ReadFault { return fault.message }
        return "\(self)"
    }
}

/// Which of the vault's 256 shard directories (`ab/` for names starting `ab`) may hold loose
/// objects: those there when the vault was opened, and those this process stored one in since.
/// Only a hint for `Vault.looseStoredSize`: a shard it does not list holds no loose object this
/// run could reuse (a run holds the lock, so no other process stores any meanwhile). When the
/// vault's directory cannot be listed, every shard may hold some.
final class LooseShards: @unchecked Sendable {
    private let lock = NSLock()
    /// By the shard's number (its two hex digits).
    private var present = [Bool](repeating: false, count: 256)

    init(vaultDirectory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: vaultDirectory) else {
            present = [Bool](repeating: true, count: 256)
            return
        }
        for name in names {
            if let shard = Self.shard(of: name), name.utf8.count == 2 { present[shard] = true }
        }
    }

    /// Whether the object named `sha256` may be a loose file (always, for a name that is not hex).
    func mayHold(_ sha256: String) -> Bool {
        guard let shard = Self.shard(of: sha256) else { return true }
        lock.lock()
        defer { lock.unlock() }
        return present[shard]
    }

    /// Notes that the object named `sha256` is stored as a loose file.
    func add(_ sha256: String) {
        guard let shard = Self.shard(of: sha256) else { return }
        lock.lock()
        present[shard] = true
        lock.unlock()
    }

    /// The shard number of a name's first two characters, nil unless both are lowercase hex.
    private static func shard(of name: String) -> Int? {
        var digits = name.utf8.prefix(2).makeIterator()
        guard let high = digits.next().flatMap(hexValue), let low = digits.next().flatMap(hexValue) else { return nil }
        return high << 4 | low
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        default: nil
        }
    }
}
