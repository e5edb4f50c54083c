import Crypto
import CustodyCore
import CustodyIngest
import Foundation

/// What identifies a log file across renames, compression and growth: a fingerprint of its first
/// decoded bytes (not its name or inode), plus what the file system says now.
///
/// Filebeat and Vector have both lost or doubled data by trusting inodes (reused after
/// deletion) or names (changed by rotation). A fingerprint of the *decompressed* content makes
/// `app.log`, `app.log.1` and `app.log.2.gz` one file. Files shorter than `fingerprintLength`
/// are fingerprinted on what they have; a later, longer read is matched by prefix.
///
/// A fingerprint match is only a candidate: two different files can share their first 4 KiB (a
/// startup banner). `IngestionRun.plan` confirms a candidate before reading on from where it
/// stopped: the same inode as when last read (renamed or grown in place), or the same CRC-32 over
/// the bytes already ingested (`contentChecksum`, e.g. a rotated copy compressed).
public struct FileIdentity: Sendable {
    /// What `stat` says of a file: enough to tell an untouched file without reading it.
    public struct Status: Sendable, Equatable {
        public var inode: UInt64
        public var size: Int64
        public var modifiedNanoseconds: Int64
    }

    public static let fingerprintLength = 4096

    /// The first `min(fingerprintLength, content length)` decoded bytes; empty once let go
    /// (`droppingPrefix()`).
    public private(set) var prefix: [UInt8]
    /// How many decoded bytes `fingerprint` covers (`prefix.count` as read, kept when the
    /// prefix is let go).
    public let prefixLength: Int
    public var fingerprint: String
    public var compressed: Bool
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64

    /// Reads the identity of a file; nil for an empty file (nothing to identify yet).
    public static func read(path: String) throws(ReadFault) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ReadFault(offset: 0, message: "cannot stat: \(String(cString: strerror(errno)))") }
        return try identify(DecodedSources.open(path: path), status: Status(st))
    }

    /// The identity of a whole file read into memory (`WholeFile`), with the `stat` of the very
    /// descriptor its bytes were read from; nil for an empty file.
    public static func read(_ file: WholeFile) throws(ReadFault) -> FileIdentity? {
        try readDecoding(file)?.identity
    }

    /// `read(_:)`, and the file's whole decoded content when reading the identity decoded all of
    /// it: a gzip file whose members end cleanly, with nothing after them, before
    /// `fingerprintLength` decoded bytes, and whose content reads as plain bytes
    /// (`DecodedSources.readsAsPlain`). Then `decoded` is the identity's prefix, and reading
    /// `decoded` as a plain file gives the records, lines and bytes that decoding `file` again
    /// gives: `custody run` scans such a file from them rather than inflate it twice (each
    /// inflation ~20,000 instructions for a small file, most of them building its Huffman
    /// tables). Nil `decoded` for anything else (plain files, faults, longer content).
    public static func readDecoding(_ file: WholeFile) throws(ReadFault) -> (identity: FileIdentity, decoded: [UInt8]?)? {
        let source = try DecodedSources.open(contents: file.contents)
        let (prefix, ended) = readPrefix(source)
        guard let identity = identity(prefix, source: source, status: file.status) else { return nil }
        let whole =
            ended && source.isCompressed && source.fault == nil && source.compressedBytesRead == file.contents.count
            && DecodedSources.readsAsPlain(prefix)
        return (identity, whole ? prefix : nil)
    }

    private static func identify(_ source: DecodedSource, status: Status) -> FileIdentity? {
        identity(readPrefix(source).prefix, source: source, status: status)
    }

    /// The first `fingerprintLength` decoded bytes, or fewer when the source ends (or faults)
    /// first; `ended` when it said so (a read of 0 bytes).
    private static func readPrefix(_ source: DecodedSource) -> (prefix: [UInt8], ended: Bool) {
        // Read on the stack, then kept at its own length: the plans hold every file's prefix
        // until the run ends, and an array made with room for 4 KiB keeps 4 KiB however little
        // was read (10,000 small files of 1.6 KB: 40 MB, a fifth of a fresh run's page faults).
        withUnsafeTemporaryAllocation(byteCount: fingerprintLength, alignment: 16) { bytes in
            var filled = 0
            var ended = false
            while filled < fingerprintLength {
                let n = source.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[filled...]))
                if n == 0 {
                    ended = true
                    break
                }
                filled += n
            }
            return ([UInt8](UnsafeRawBufferPointer(rebasing: bytes[0..<filled])), ended)
        }
    }

    private static func identity(_ prefix: [UInt8], source: DecodedSource, status: Status) -> FileIdentity? {
        guard !prefix.isEmpty else { return nil }
        return FileIdentity(
            prefix: prefix, prefixLength: prefix.count, fingerprint: Self.hash(prefix[...]), compressed: source.isCompressed,
            inode: status.inode, size: status.size, modifiedNanoseconds: status.modifiedNanoseconds)
    }

    /// The file's `stat`, nil when it cannot be stat'ed.
    public static func status(path: String) -> Status? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Status(st)
    }

    /// CRC-32 of the first `length` decoded bytes; nil when the file has fewer or cannot be read.
    public static func contentChecksum(path: String, length: Int) -> UInt32? {
        contentChecksum(of: .path(path), length: length)
    }

    /// Where a file's bytes are read from: its path, or the bytes of it already read whole
    /// (`WholeFile`), which are then what it is judged by, as they are what will be ingested.
    public enum Content: Sendable {
        case path(String)
        case bytes([UInt8])

        func open() -> DecodedSource? {
            switch self {
            case .path(let path): return try? DecodedSources.open(path: path)
            case .bytes(let bytes): return try? DecodedSources.open(contents: bytes)
            }
        }
    }

    /// `contentChecksum(path:length:)` of a file's bytes wherever they are.
    public static func contentChecksum(of content: Content, length: Int) -> UInt32? {
        guard let source = content.open() else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var crc: UInt32 = 0
        var remaining = length
        while remaining > 0 {
            let n = source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, remaining)]))
            if n == 0 { return nil }
            crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            remaining -= n
        }
        return crc
    }

    /// Whether two files' decoded contents agree over the length of the shorter: one is the
    /// other, a copy of it, or an earlier or later state of it. A read fault ends the comparison
    /// like the end of the file.
    public static func oneContinuesTheOther(_ a: String, _ b: String) -> Bool {
        oneContinuesTheOther(.path(a), .path(b))
    }

    /// `oneContinuesTheOther` of two files' bytes wherever they are.
    public static func oneContinuesTheOther(_ a: Content, _ b: Content) -> Bool {
        guard let left = a.open(), let right = b.open() else { return false }
        let size = 256 * 1024
        let l = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        let r = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer {
            l.deallocate()
            r.deallocate()
        }
        while true {
            let n = fill(left, l)
            let m = fill(right, r)
            let common = min(n, m)
            if common > 0 && memcmp(l.baseAddress!, r.baseAddress!, common) != 0 { return false }
            if n < size || m < size { return true }
        }
    }

    /// Reads until `buffer` is full or the source ends.
    private static func fill(_ source: DecodedSource, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    public static func hash(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.withUnsafeBytes { SHA256.hash(data: $0).hex }
    }

    /// This identity without its prefix's bytes, once planning has matched the file: a run's
    /// plans hold their identities until it ends, and what is written afterwards needs only the
    /// fingerprint and its length (10,000 small files: 16 MB of prefixes). Not to be matched
    /// again (`continues`, `KnownFiles`).
    public func droppingPrefix() -> FileIdentity {
        var identity = self
        identity.prefix = []
        return identity
    }

    /// Whether a file fingerprinted earlier on `length` bytes as `fingerprint` starts like this
    /// one (an identity that still holds its prefix).
    public func continues(fingerprint other: String, length: Int) -> Bool {
        guard length <= prefix.count else { return false }
        if length == prefix.count { return other == fingerprint }
        return other == Self.hash(prefix[0..<length])
    }
}

extension FileIdentity.Status {
    init(_ status: InputCollector.FileStatus) {
        self.init(inode: status.inode, size: status.size, modifiedNanoseconds: status.modifiedNanoseconds)
    }

    init(_ st: stat) {
        self.init(
            inode: UInt64(st.st_ino), size: Int64(st.st_size),
            modifiedNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }
}
