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
    public func beginObject() throws -> VaultObjectWriter {
        try VaultObjectWriter(vault: self)
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

/// Streams one object into the vault: hashes and compresses as it goes.
public final class VaultObjectWriter {
    private let vault: Vault
    private let temporaryPath: String
    private let writer: GzipWriter
    private var hasher = SHA256()
    public private(set) var size = 0

    init(vault: Vault) throws {
        self.vault = vault
        temporaryPath = "\(vault.directory)/.incoming-\(UUID().uuidString).gz"
        writer = try GzipWriter(path: temporaryPath, level: 6, mode: 0o600)
    }

    deinit { try? FileManager.default.removeItem(atPath: temporaryPath) }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        try writer.write(bytes)
        size += bytes.count
    }

    /// Flushes the object to disk and moves it into place under its hash (unless an identical
    /// object is already there). Returns the hash and the stored (compressed) size.
    public func commit() throws -> (sha256: String, storedSize: Int) {
        try writer.close(sync: true)
        let sha = hasher.finalize().hex
        let target = vault.path(of: sha)
        let fm = FileManager.default
        if let existing = try? fm.attributesOfItem(atPath: target)[.size] as? Int {
            try? fm.removeItem(atPath: temporaryPath)
            return (sha, existing)
        }
        let shard = (target as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: shard, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(temporaryPath, 0o440) == 0, rename(temporaryPath, target) == 0 else {
            throw StoreError.io(path: target, reason: String(cString: strerror(errno)))
        }
        syncDirectory(shard)
        return (sha, writer.bytesWritten)
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
    /// Lower-case hexadecimal.
    var hex: String {
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
