#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Finds the literal that ends a dissect field, inline and without a libc call.
///
/// A described line has a delimiter every 5–40 bytes; `memchr` paid ~30 instructions a call in
/// set-up and call overhead for fields that fit in one block (Benchmarks/RESULTS.md). Here a
/// field costs one 16-byte compare per block: SSE2 on x86-64 (part of every x86-64 CPU), eight
/// bytes a word (SWAR) elsewhere. Only bytes inside the line are read: the last partial block
/// is read as the line's last 16 (8) bytes with the bytes already looked at masked off, and a
/// line shorter than a block is read a byte at a time.
enum DelimiterScan {
    #if arch(x86_64)
    /// A byte repeated over a block, made once per delimiter rather than once per field.
    typealias Needle = __m128i
    @inline(__always) static func needle(_ byte: UInt8) -> Needle { _mm_set1_epi8(Int8(bitPattern: byte)) }
    #else
    typealias Needle = UInt64
    @inline(__always) static func needle(_ byte: UInt8) -> Needle { 0x0101_0101_0101_0101 &* UInt64(byte) }
    #endif

    /// The first `i` in `from..<limit` with `p[i] == byte`. Reads only `p[0..<limit]`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        firstIndex(needle(byte), byte, p, from: from, limit: limit)
    }

    /// `firstIndex(of:_:from:limit:)` with the needle made beforehand.
    @inline(__always)
    static func firstIndex(_ needle: Needle, _ byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        #if arch(x86_64)
        return firstIndexSSE2(needle, byte, p, from: from, limit: limit)
        #else
        return firstIndexSWAR(needle, byte, p, from: from, limit: limit)
        #endif
    }

    /// The first occurrence of the `count` (≥ 1) bytes at `d` in `p[from..<n]`; `needle` is
    /// `needle(d[0])`.
    @inline(__always)
    static func find(
        _ d: UnsafePointer<UInt8>, _ count: Int, _ needle: Needle, _ p: UnsafePointer<UInt8>, from: Int, _ n: Int
    ) -> Int? {
        // A match must start before n - count + 1: a first byte found later cannot be one.
        let limit = n &- count &+ 1
        let first = d[0]
        var i = from
        while let at = firstIndex(needle, first, p, from: i, limit: limit) {
            if count == 1 { return at }
            var k = 1
            while k < count, p[at &+ k] == d[k] { k &+= 1 }
            if k == count { return at }
            i = at &+ 1
        }
        return nil
    }

    /// `find` for callers without a needle at hand (tests).
    static func find(_ d: UnsafePointer<UInt8>, _ count: Int, _ p: UnsafePointer<UInt8>, from: Int, _ n: Int) -> Int? {
        find(d, count, needle(d[0]), p, from: from, n)
    }

    #if arch(x86_64)
    static func firstIndexSSE2(of byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        firstIndexSSE2(needle(byte), byte, p, from: from, limit: limit)
    }

    @inline(__always)
    static func firstIndexSSE2(_ needle: __m128i, _ byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        var i = from
        guard i < limit else { return nil }
        guard limit >= 16 else { return firstIndexBytes(of: byte, p, from: i, limit: limit) }
        while i &+ 16 <= limit {
            let block = _mm_loadu_si128(UnsafeRawPointer(p + i).assumingMemoryBound(to: __m128i.self))
            let mask = UInt32(truncatingIfNeeded: _mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)))
            if mask != 0 { return i &+ mask.trailingZeroBitCount }
            i &+= 16
        }
        guard i < limit else { return nil }
        // The last 16 bytes before `limit`, without the ones already looked at.
        let base = limit &- 16
        let block = _mm_loadu_si128(UnsafeRawPointer(p + base).assumingMemoryBound(to: __m128i.self))
        let mask = UInt32(truncatingIfNeeded: _mm_movemask_epi8(_mm_cmpeq_epi8(block, needle))) & (~0 << UInt32(i &- base))
        return mask != 0 ? base &+ mask.trailingZeroBitCount : nil
    }
    #endif

    /// Eight bytes a word: an exact per-byte "is zero" test on the word XOR the needle (no carry
    /// crosses a byte, so every flag is a match and bytes can be masked off freely).
    static func firstIndexSWAR(of byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        firstIndexSWAR(0x0101_0101_0101_0101 &* UInt64(byte), byte, p, from: from, limit: limit)
    }

    @inline(__always)
    static func firstIndexSWAR(_ needle: UInt64, _ byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        var i = from
        guard i < limit else { return nil }
        guard limit >= 8 else { return firstIndexBytes(of: byte, p, from: i, limit: limit) }
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        @inline(__always) func matches(_ at: Int) -> UInt64 {
            let x = UInt64(littleEndian: UnsafeRawPointer(p + at).loadUnaligned(as: UInt64.self)) ^ needle
            // The high bit of a byte of `(x & 0x7F) + 0x7F | x` is set unless the byte is zero.
            return ~(((x & lows) &+ lows) | x) & ~lows
        }
        while i &+ 8 <= limit {
            let m = matches(i)
            if m != 0 { return i &+ m.trailingZeroBitCount >> 3 }
            i &+= 8
        }
        guard i < limit else { return nil }
        let base = limit &- 8
        // The last 8 bytes before `limit`, without the ones already looked at.
        let m = matches(base) & (~0 << UInt64(8 &* (i &- base)))
        return m != 0 ? base &+ m.trailingZeroBitCount >> 3 : nil
    }

    @inline(__always)
    static func firstIndexBytes(of byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        var i = from
        while i < limit {
            if p[i] == byte { return i }
            i &+= 1
        }
        return nil
    }
}
