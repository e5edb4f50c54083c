import CustodyCore

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Sixteen bytes at a time: where the quotes and backslashes are, for scanning JSON strings.
///
/// A byte loop over a string mispredicts the branch at its closing quote, once per string, and a
/// log line has a dozen short strings; one block compare finds the quote without a loop. (A
/// word-at-a-time version without SIMD was measured slower than the byte loop: see
/// Benchmarks/RESULTS.md.) SSE2 is part of every x86-64 CPU; elsewhere the masks are built by
/// a plain loop, which gives the same answers.
enum ByteScan {
    static let blockSize = 16

    /// Bit k of `quotes` (of `backslashes`) is set when byte k of the block at `p` is `"` (`\`).
    /// Reads exactly 16 bytes from `p`.
    @inline(__always)
    static func quotesAndBackslashes(_ p: UnsafePointer<UInt8>) -> (quotes: UInt32, backslashes: UInt32) {
        #if arch(x86_64)
        let block = _mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self))
        let quotes = _mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x22)))
        let backslashes = _mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x5C)))
        return (UInt32(truncatingIfNeeded: quotes), UInt32(truncatingIfNeeded: backslashes))
        #else
        var quotes: UInt32 = 0
        var backslashes: UInt32 = 0
        for k in 0..<blockSize {
            if p[k] == 0x22 { quotes |= 1 << UInt32(k) }
            if p[k] == 0x5C { backslashes |= 1 << UInt32(k) }
        }
        return (quotes, backslashes)
        #endif
    }

    /// Bit k of `opens` is set when byte k of the block at `p` is `{` or `[`, of `closes` when it
    /// is `}` or `]`, of `quotes` when it is `"`, of `backslashes` when it is `\`. Reads exactly
    /// 16 bytes from `p`.
    @inline(__always)
    static func structural(_ p: UnsafePointer<UInt8>) -> (opens: UInt32, closes: UInt32, quotes: UInt32, backslashes: UInt32) {
        #if arch(x86_64)
        let block = _mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self))
        // `[` and `{` differ only in bit 5, as do `]` and `}`: one compare each after setting it.
        let folded = _mm_or_si128(block, _mm_set1_epi8(0x20))
        let opens = _mm_movemask_epi8(_mm_cmpeq_epi8(folded, _mm_set1_epi8(0x7B)))
        let closes = _mm_movemask_epi8(_mm_cmpeq_epi8(folded, _mm_set1_epi8(0x7D)))
        let quotes = _mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x22)))
        let backslashes = _mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x5C)))
        return (
            UInt32(truncatingIfNeeded: opens), UInt32(truncatingIfNeeded: closes), UInt32(truncatingIfNeeded: quotes),
            UInt32(truncatingIfNeeded: backslashes)
        )
        #else
        var opens: UInt32 = 0
        var closes: UInt32 = 0
        var quotes: UInt32 = 0
        var backslashes: UInt32 = 0
        for k in 0..<blockSize {
            if p[k] == 0x7B || p[k] == 0x5B { opens |= 1 << UInt32(k) }
            if p[k] == 0x7D || p[k] == 0x5D { closes |= 1 << UInt32(k) }
            if p[k] == 0x22 { quotes |= 1 << UInt32(k) }
            if p[k] == 0x5C { backslashes |= 1 << UInt32(k) }
        }
        return (opens, closes, quotes, backslashes)
        #endif
    }

    /// Bit k set when an odd number of bits 0...k of `x` (16 bits) are: with `x` a block's
    /// quotes, the bytes inside a string (its opening quote included, its closing one not).
    @inline(__always)
    static func prefixXor16(_ x: UInt32) -> UInt32 {
        var y = x
        y ^= y &<< 1
        y ^= y &<< 2
        y ^= y &<< 4
        y ^= y &<< 8
        return y & 0xFFFF
    }

    /// The first `count` (≤ 8) bytes at `p` as a little-endian integer, zero-padded; reads 8 bytes.
    @inline(__always)
    static func prefixWord(_ p: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        // Masking arithmetic: `count` < 8 here, and `<<` would test the shift count each call.
        return count >= 8 ? word : word & ((1 &<< UInt64(truncatingIfNeeded: 8 &* count)) &- 1)
    }

    /// `prefixWord(_:count:)` for bytes that may not be followed by eight readable ones.
    @inline(__always)
    static func prefixWord(_ bytes: UnsafeBufferPointer<UInt8>?) -> UInt64 {
        bytes.map(KeyHash.prefixWord) ?? 0
    }

    /// The first eight bytes of a value a parser found (`ParsedLine.userPrefix`, `eventPrefix`):
    /// one load when eight bytes are readable from its start, that is inside the line (before
    /// `lineEnd`) or at the start of one of the parser's two scratch buffers (each as long as the
    /// line limit); else byte by byte.
    @inline(__always)
    static func prefixWord(
        _ value: UnsafeBufferPointer<UInt8>?, lineEnd: UnsafePointer<UInt8>, scratch first: UnsafeMutablePointer<UInt8>,
        _ second: UnsafeMutablePointer<UInt8>
    ) -> UInt64 {
        guard let value, let base = value.baseAddress else { return 0 }
        if base + 8 <= lineEnd || base == UnsafePointer(first) || base == UnsafePointer(second) {
            return prefixWord(base, count: value.count)
        }
        return prefixWord(value)
    }

    /// The closing quote of a quoted value whose first byte is at `from` in a line of `n` bytes
    /// (a logfmt value, a combined request), and whether the value has a backslash; nil when the
    /// line ends first. The first `"` not escaped by a backslash closes it. Sixteen bytes a
    /// compare (a byte loop was a tenth of a logfmt line's instructions, and the combined
    /// parser scanned a request twice, for its quote and then for a backslash); near the line's
    /// end the block is the line's last sixteen bytes with those already looked at shifted off,
    /// so only the line is read. From a backslash on (rare), a byte loop goes on, as the byte
    /// after a backslash never closes the value.
    @inline(__always)
    static func closingQuote(_ p: UnsafePointer<UInt8>, from: Int, _ n: Int) -> (Int, Bool)? {
        var i = from
        if n >= blockSize {
            while i < n {
                let base = min(i, n &- blockSize)
                let (quotes, backslashes) = quotesAndBackslashes(p + base)
                let skip = UInt32(truncatingIfNeeded: i &- base)
                let q = quotes &>> skip
                let b = backslashes &>> skip
                if b != 0 && (q == 0 || b.trailingZeroBitCount < q.trailingZeroBitCount) {
                    i &+= b.trailingZeroBitCount
                    break
                }
                if q != 0 { return (i &+ q.trailingZeroBitCount, false) }
                i = base &+ blockSize
            }
        }
        var escaped = false
        while i < n, p[i] != 0x22 {
            if p[i] == 0x5C {
                escaped = true
                i &+= 1
            }
            i &+= 1
        }
        return i < n ? (i, escaped) : nil
    }
}
