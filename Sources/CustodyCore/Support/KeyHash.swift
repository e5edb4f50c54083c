/// The hash behind Custody's byte-keyed tables (`ByteInterner` while scanning a file,
/// `UserIndex` when merging files): keys of up to eight bytes are their own slot word, so a
/// lookup compares one word; longer keys are hashed eight bytes at a time.
///
/// Public and `@inlinable` only so that the per-record lookups in CustodyIngest inline it: as a
/// `package` function it was called, not inlined (0.8% of a check, perf).
public enum KeyHash {
    /// The slot word (the key itself, little-endian and zero-padded, if at most eight bytes;
    /// else a hash) and the hash that picks the slot.
    @inlinable @inline(__always)
    public static func wordAndHash(_ key: UnsafeBufferPointer<UInt8>) -> (word: UInt64, hash: UInt64) {
        wordAndHash(key, prefix: key.count <= 8 ? prefixWord(key) : 0)
    }

    /// The first eight bytes (or fewer) as a little-endian integer, zero-padded; reads no byte
    /// past the key.
    @inlinable @inline(__always)
    public static func prefixWord(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var word: UInt64 = 0
        for i in 0..<min(key.count, 8) { word |= UInt64(key[i]) << UInt64(8 * i) }
        return word
    }

    /// The hash of a key of at most eight bytes, from its slot word and length alone (a table
    /// that grows rehashes such keys without reading them again).
    @inlinable @inline(__always)
    public static func shortHash(word: UInt64, count: Int) -> UInt64 {
        var h = (word ^ UInt64(count)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        return h
    }

    /// `wordAndHash(_:)` given the key's first eight bytes (used as they are for short keys).
    @inlinable @inline(__always)
    public static func wordAndHash(_ key: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> (word: UInt64, hash: UInt64) {
        guard let base = key.baseAddress else { return (0, 0x9E37_79B9_7F4A_7C15) }
        let n = key.count
        if n <= 8 { return (prefix, shortHash(word: prefix, count: n)) }
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(base[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        return (h, h)
    }
}
