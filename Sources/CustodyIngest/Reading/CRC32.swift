import CCRC32
import CZlib

/// gzip's CRC-32, with zlib's conventions (start from 0, chain calls), computed with the CPU's
/// carry-less multiply where there is one and by zlib elsewhere. Every decoded byte of every
/// gzip input passes through here (see `GzipFileSource`).
public enum CRC32 {
    private static let foldAvailable = custody_crc32_fold_available() != 0

    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        var remaining = bytes.count
        var crc = crc
        if foldAvailable && remaining >= 64 {
            let whole = remaining & ~15
            crc = custody_crc32_fold(crc, p, whole)
            p += whole
            remaining -= whole
        }
        if remaining > 0 {
            crc = UInt32(truncatingIfNeeded: crc32_z(UInt(crc), p, remaining))
        }
        return crc
    }
}
