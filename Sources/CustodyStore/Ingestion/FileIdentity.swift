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
public struct FileIdentity: Sendable {
    public static let fingerprintLength = 4096

    /// The first `min(fingerprintLength, content length)` decoded bytes.
    public var prefix: [UInt8]
    public var fingerprint: String
    public var compressed: Bool
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64

    /// Reads the identity of a file; nil for an empty file (nothing to identify yet).
    public static func read(path: String) throws(ReadFault) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ReadFault(offset: 0, message: "cannot stat: \(String(cString: strerror(errno)))") }
        let source = try DecodedSources.open(path: path)
        var prefix = [UInt8](repeating: 0, count: fingerprintLength)
        var filled = 0
        prefix.withUnsafeMutableBytes { buffer in
            while filled < fingerprintLength {
                let n = source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                if n == 0 { break }
                filled += n
            }
        }
        prefix.removeLast(fingerprintLength - filled)
        guard !prefix.isEmpty else { return nil }
        return FileIdentity(prefix: prefix, fingerprint: Self.hash(prefix[...]), compressed: source.isCompressed,
                            inode: UInt64(st.st_ino), size: Int64(st.st_size),
                            modifiedNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    public static func hash(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.withUnsafeBytes { SHA256.hash(data: $0).hex }
    }

    /// Whether a file fingerprinted earlier on `length` bytes as `fingerprint` starts like this one.
    public func continues(fingerprint other: String, length: Int) -> Bool {
        guard length <= prefix.count else { return false }
        if length == prefix.count { return other == fingerprint }
        return other == Self.hash(prefix[0..<length])
    }
}
