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
/// whole or not at all; the same content is stored once.
public struct Vault: Sendable {
    public let directory: String

    /// Opens the vault; with `create` (the default), makes its directory when missing.
    public init(directory: String, create: Bool = true) throws {
        self.directory = directory
        guard create else { return }
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
    }

    /// Deletes half-written objects left by a killed run. Call only while holding the run lock.
    public func removeIncomplete() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".incoming-") {
            try? fm.removeItem(atPath: directory + "/" + name)
        }
    }

    public func path(of sha256: String) -> String {
        "\(directory)/\(sha256.prefix(2))/\(sha256).gz"
    }

    public func contains(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: path(of: sha256))
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
    public func beginObject(
        adoptingGzip source: String? = nil, copyInline: Bool = false, durable: Bool = true
    ) throws
        -> VaultObjectWriter
    {
        try VaultObjectWriter(vault: self, adopting: source, copyInline: copyInline, durable: durable)
    }

    /// Removes an object (purge). Missing objects are not an error.
    public func remove(_ sha256: String) throws {
        let target = path(of: sha256)
        guard FileManager.default.fileExists(atPath: target) else { return }
        try FileManager.default.removeItem(atPath: target)
    }

    /// What re-reading an object finds.
    public enum Integrity: Equatable, Sendable {
        case intact
        case missing
        /// The content no longer hashes to its name, or cannot be decompressed.
        case altered(String)
    }

    /// Re-hashes an object: its stored bytes (an adopted gzip file) or, failing that, its
    /// uncompressed content (content compressed here). Intact if either matches its name.
    public func check(_ sha256: String) -> Integrity {
        let target = path(of: sha256)
        guard FileManager.default.fileExists(atPath: target) else { return .missing }
        if (try? Self.storedHash(target)) == sha256 { return .intact }
        return Self.checkContent(of: target, against: sha256)
    }

    /// Copies an object to `destination` (a private file) and checks the *copy* against the
    /// object's name, so the bytes checked are exactly the bytes a caller then reads: nothing can
    /// change between the check and the read (`request produce` reads only verified bytes).
    public func verifiedCopy(_ sha256: String, to destination: String) -> Integrity {
        let target = path(of: sha256)
        guard FileManager.default.fileExists(atPath: target) else { return .missing }
        let stored: String
        do {
            stored = try VaultObjectWriter.copy(target, to: destination).sha256
        } catch {
            return .altered("cannot be copied: \(error.message)")
        }
        if stored == sha256 { return .intact }
        return Self.checkContent(of: destination, against: sha256)
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

    /// Names of every object file in the vault (`ab/abcdef….gz`), whatever the state says.
    public func storedObjects() -> [String] {
        let fm = FileManager.default
        var names: [String] = []
        for shard in ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted() where !shard.hasPrefix(".") {
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

    /// Calls `body` with the object's uncompressed content, chunk by chunk.
    public func read(_ sha256: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let source = try DecodedSources.open(path: path(of: sha256))
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
    private let writer: GzipWriter?
    private let adopted: AdoptedCopy?
    /// `commit` flushes the object and its directory entry to disk; else the caller does.
    private let durable: Bool
    private var hasher = SHA256()
    public private(set) var size = 0

    init(vault: Vault, adopting source: String?, copyInline: Bool = false, durable: Bool = true) throws {
        self.vault = vault
        self.durable = durable
        let temporaryPath = "\(vault.directory)/.incoming-\(UUID().uuidString).gz"
        self.temporaryPath = temporaryPath
        adopted = source.map { AdoptedCopy(from: $0, to: temporaryPath, sync: durable, inline: copyInline) }
        writer = source == nil ? try GzipWriter(path: temporaryPath, level: Self.compressionLevel, mode: 0o600) : nil
    }

    deinit {
        _ = try? adopted?.wait()  // the copy must not create the file after it is removed
        try? FileManager.default.removeItem(atPath: temporaryPath)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        if let writer {
            hasher.update(bufferPointer: bytes)
            try writer.write(bytes)
        }
        size += bytes.count
    }

    /// Flushes the object to disk (unless it was begun with `durable: false`) and moves it into
    /// place under its hash (unless an identical object is already there). Returns the hash and
    /// the stored (compressed) size.
    public func commit() throws -> (sha256: String, storedSize: Int) {
        let sha: String
        var storedSize = 0
        if let adopted {
            (storedSize, sha) = try adopted.wait()
        } else {
            sha = hasher.finalize().hex
        }
        let target = vault.path(of: sha)
        let fm = FileManager.default
        // An object of this name may have been renamed into place by a run that died before the
        // group's flush (`durable: false`): after a power loss its bytes can be missing. Trust it
        // only once they hash to its name; otherwise the bytes just written replace it.
        if let existing = try? fm.attributesOfItem(atPath: target)[.size] as? Int, vault.check(sha) == .intact {
            return (sha, existing)
        }
        if let writer {
            try writer.close(sync: durable)
            storedSize = writer.bytesWritten
        }
        let shard = (target as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: shard, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(temporaryPath, 0o440) == 0, rename(temporaryPath, target) == 0 else {
            throw StoreError.io(path: target, reason: String(cString: strerror(errno)))
        }
        if durable { syncDirectory(shard) }
        return (sha, storedSize)
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
        var s = ""
        s.reserveCapacity(64)
        for byte in self {
            let h = String(byte, radix: 16)
            if h.count == 1 { s += "0" }
            s += h
        }
        return s
    }
}

extension Error {
    /// A short reason for messages.
    var message: String {
        if let fault = self as? ReadFault { return fault.message }
        return "\(self)"
    }
}
