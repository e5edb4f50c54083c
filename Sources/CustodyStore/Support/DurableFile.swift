import Foundation

/// Files flushed to disk before something else names them: vault objects and their directories
/// before a group's rows are committed (`VaultSync`), an evidence package's manifest and
/// directories before the state and the ledger record it.
public enum DurableFile {
    /// Writes `bytes` to a new private file at `path` (mode 0600, replacing one there) and
    /// flushes it to disk.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { try PackFile.writeAll(fd, $0, path: path) }
        guard fsync(fd) == 0 else { throw StoreError.io(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
    }

    /// Flushes what is written to `path` (a file, or with `directory` a directory's entries).
    public static func flush(path: String, directory: Bool = false) throws {
        _ = try flush(path: path, directory: directory, missingIsNothing: false)
    }

    /// `flush` of a file that may not exist: false when there is none (a database's log,
    /// removed by its last checkpoint).
    public static func flushIfPresent(path: String) throws -> Bool {
        try flush(path: path, directory: false, missingIsNothing: true)
    }

    private static func flush(path: String, directory: Bool, missingIsNothing: Bool) throws -> Bool {
        let fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC)
        if fd < 0 {
            if missingIsNothing && errno == ENOENT { return false }
            throw StoreError.io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError.io(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
        return true
    }
}
