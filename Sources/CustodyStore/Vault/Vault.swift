import Crypto
import CustodyCore
import CustodyIngest
import Foundation

/// The content-addressed vault: verified copies of ingested log content, kept so retention holds
/// after the app's own rotation deletes its logs.
///
/// An object is gzip-compressed content named by the SHA-256 of its *uncompressed* bytes
/// (`ab/abcdef….gz`, mode 0440). It is written to a temporary file, flushed, and renamed into
/// place, so an object either exists whole or not at all; the same content is stored once.
public struct Vault: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
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
    /// With `adoptingGzip`, the bytes fed in are only hashed, and `commit` stores a copy of that
    /// gzip file as it is: its decompressed content is exactly the bytes fed in (the caller read
    /// the whole file from its start without a fault), and copying it is far cheaper than
    /// compressing the content again.
    public func beginObject(adoptingGzip source: String? = nil) throws -> VaultObjectWriter {
        try VaultObjectWriter(vault: self, adopting: source)
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

    /// Re-hashes an object's uncompressed content.
    public func check(_ sha256: String) -> Integrity {
        let target = path(of: sha256)
        guard FileManager.default.fileExists(atPath: target) else { return .missing }
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

/// Streams one object into the vault: hashes and compresses as it goes (or, adopting a gzip
/// file, hashes only and copies the file at commit).
public final class VaultObjectWriter {
    /// zlib level for content compressed here: plain (usually still-growing) log files. Level 3
    /// is several times faster than the default 6 for a few percent more bytes.
    static let compressionLevel: Int32 = 3

    private let vault: Vault
    private let temporaryPath: String
    private let writer: GzipWriter?
    private let adopted: BackgroundCopy?
    private var hasher = SHA256()
    public private(set) var size = 0

    init(vault: Vault, adopting source: String?) throws {
        self.vault = vault
        let temporaryPath = "\(vault.directory)/.incoming-\(UUID().uuidString).gz"
        self.temporaryPath = temporaryPath
        adopted = source.map { BackgroundCopy(from: $0, to: temporaryPath) }
        writer = source == nil ? try GzipWriter(path: temporaryPath, level: Self.compressionLevel, mode: 0o600) : nil
    }

    deinit {
        _ = try? adopted?.wait() // the copy must not create the file after it is removed
        try? FileManager.default.removeItem(atPath: temporaryPath)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        try writer?.write(bytes)
        size += bytes.count
    }

    /// Flushes the object to disk and moves it into place under its hash (unless an identical
    /// object is already there). Returns the hash and the stored (compressed) size.
    public func commit() throws -> (sha256: String, storedSize: Int) {
        let sha = hasher.finalize().hex
        let target = vault.path(of: sha)
        let fm = FileManager.default
        if let existing = try? fm.attributesOfItem(atPath: target)[.size] as? Int {
            return (sha, existing)
        }
        let storedSize: Int
        if let adopted {
            storedSize = try adopted.wait()
        } else {
            try writer!.close(sync: true)
            storedSize = writer!.bytesWritten
        }
        let shard = (target as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: shard, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(temporaryPath, 0o440) == 0, rename(temporaryPath, target) == 0 else {
            throw StoreError.io(path: target, reason: String(cString: strerror(errno)))
        }
        syncDirectory(shard)
        return (sha, storedSize)
    }

    /// Copies a file and flushes the copy to disk; returns its size.
    static func copy(_ source: String, to destination: String) throws -> Int {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StoreError.io(path: source, reason: String(cString: strerror(errno))) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw StoreError.io(path: destination, reason: String(cString: strerror(errno))) }
        defer { close(output) }
        var total = 0
        // In the kernel (sendfile), without a round trip through user memory: the copy of a 40 MB log
        // was 9% of a `run` as read + write (perf). Other file systems may refuse: then copy.
        while true {
            let n = sendfile(output, input, nil, 1 << 30)
            if n < 0 && errno == EINTR { continue }
            if n > 0 {
                total += n
                continue
            }
            if n == 0 {
                guard fsync(output) == 0 else { throw StoreError.io(path: destination, reason: "fsync: \(String(cString: strerror(errno)))") }
                return total
            }
            guard total == 0, [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP].contains(errno) else {
                throw StoreError.io(path: destination, reason: String(cString: strerror(errno)))
            }
            break
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(input, buffer, 1 << 20)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw StoreError.io(path: source, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = write(output, buffer + written, n - written)
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { throw StoreError.io(path: destination, reason: String(cString: strerror(errno))) }
                written += w
            }
            total += n
        }
        guard fsync(output) == 0 else { throw StoreError.io(path: destination, reason: "fsync: \(String(cString: strerror(errno)))") }
        return total
    }
}

/// Copies an adopted gzip file into the vault's incoming area on its own thread, started with
/// the object: the copy and its fsync wait on the disk while the caller decodes and hashes the
/// same file (in `run`, they were a fifth of the wall time when done at commit).
final class BackgroundCopy: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    // Written once by the copying thread before `finished` is signalled; read after waiting.
    private var result: Result<Int, Error> = .success(0)

    init(from source: String, to destination: String) {
        Thread.detachNewThread { [self] in
            result = Result { try VaultObjectWriter.copy(source, to: destination) }
            finished.signal()
        }
    }

    /// The copied size, once the copy is on disk; waiting again returns the same.
    func wait() throws -> Int {
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
