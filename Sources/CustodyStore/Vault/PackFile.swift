import Foundation

/// The layout of a vault pack (`packs/<uuid>.pack`): many small objects in one file, so that a
/// group of small files costs one file creation and one rename instead of one of each per file.
///
/// A pack describes itself, so the vault can be enumerated and checked without the state:
///
/// ```
/// header   "CSTDPACK" (8 bytes) | version, UInt32 little-endian (1) | 4 zero bytes
/// entry    "PENT" (4 bytes) | 4 zero bytes | length, UInt64 little-endian
///          | object name, 64 lower-case hex digits (SHA-256) | `length` bytes: the object
/// entry    …
/// ```
///
/// An entry's bytes are exactly what a loose object file (`ab/abcd….gz`) of that name would hold.
enum PackFile {
    static let magic: [UInt8] = Array("CSTDPACK".utf8)
    static let version: UInt32 = 1
    static let headerSize = 16
    static let entryMagic: [UInt8] = Array("PENT".utf8)
    static let entryHeaderSize = 80
    static let directoryName = "packs"
    static let suffix = ".pack"

    /// One entry found by scanning a pack.
    struct Entry: Equatable, Sendable {
        var sha256: String
        /// Where the object's bytes start, from the start of the pack.
        var offset: Int
        var length: Int
        /// False when the pack ends before the entry's last byte (a truncated pack).
        var complete: Bool
        /// Where the entry's header starts.
        var headerOffset: Int { offset - entryHeaderSize }
    }

    /// What scanning a pack found.
    struct Scan: Sendable {
        var entries: [Entry] = []
        /// Bytes after the last entry that do not form an entry header (damage), or nil.
        var unreadableFrom: Int?
        var size = 0
    }

    static func header() -> [UInt8] {
        var bytes = magic
        withUnsafeBytes(of: version.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [0, 0, 0, 0])
        return bytes
    }

    static func entryHeader(sha256: String, length: Int) -> [UInt8] {
        var bytes = entryMagic
        bytes.append(contentsOf: [0, 0, 0, 0])
        withUnsafeBytes(of: UInt64(length).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(sha256.utf8))
        return bytes
    }

    /// Reads a pack's header and entry headers (not its objects' bytes). Throws when the file
    /// cannot be opened or is not a pack.
    static func scan(path: String) throws -> Scan {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        var scan = Scan(size: Int(status.st_size))
        var buffer = [UInt8](repeating: 0, count: entryHeaderSize)
        guard try readFully(fd, &buffer, count: headerSize, at: 0, path: path) == headerSize,
            Array(buffer[0..<8]) == magic,
            UInt32(buffer[8]) | UInt32(buffer[9]) << 8 | UInt32(buffer[10]) << 16 | UInt32(buffer[11]) << 24 == version
        else {
            throw StoreError.io(path: path, reason: "not a Custody pack (bad magic or version)")
        }
        var offset = headerSize
        while offset < scan.size {
            let n = try readFully(fd, &buffer, count: entryHeaderSize, at: offset, path: path)
            guard n == entryHeaderSize, Array(buffer[0..<4]) == entryMagic,
                let sha = hexName(buffer[16..<80])
            else {
                scan.unreadableFrom = offset
                break
            }
            var length: UInt64 = 0
            for i in 0..<8 { length |= UInt64(buffer[8 + i]) << (8 * i) }
            let start = offset + entryHeaderSize
            guard length <= UInt64(Int.max - start) else {
                scan.unreadableFrom = offset
                break
            }
            let end = start + Int(length)
            scan.entries.append(Entry(sha256: sha, offset: start, length: Int(length), complete: end <= scan.size))
            offset = end
        }
        return scan
    }

    /// The 64 hex digits as a name, or nil when they are not lower-case hex.
    private static func hexName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads up to `count` bytes at `offset`; returns how many were read (fewer at the end).
    static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, count: Int, at offset: Int, path: String) throws -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func readFully(_ fd: Int32, _ buffer: inout [UInt8], count: Int, at offset: Int, path: String) throws -> Int {
        try buffer.withUnsafeMutableBytes { try readFully(fd, $0.baseAddress!, count: count, at: offset, path: path) }
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var written = 0
        while written < bytes.count {
            let w = write(fd, bytes.baseAddress! + written, bytes.count - written)
            if w < 0 && errno == EINTR { continue }
            guard w > 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
            written += w
        }
    }
}
