import CustodyCore

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Reads the nginx/Apache combined (or common) log format:
/// `host ident user [10/Oct/2026:13:55:36 +0800] "METHOD /path HTTP/1.1" status bytes "referer" "agent"`.
///
/// The user is `$remote_user` (`-` is anonymous). The event comes from the policy's
/// `http_events` rules (method + path prefix); an unmatched request is `http_request`.
struct CombinedParser {
    private let events: HTTPEventMatcher
    private var timestamps = CLFTimestampCache()

    init(rules: [HTTPEventRule]) {
        events = HTTPEventMatcher(rules: rules)
    }

    func deallocate() {}

    /// `host ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "`: the shape of the format, whatever the
    /// values.
    static func hasLayout(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = line.count
        for _ in 0..<3 {
            let start = i
            while i < n, line[i] != 0x20 { i += 1 }
            guard i > start, i < n else { return false }
            i += 1
        }
        guard i + 30 <= n, line[i] == 0x5B, line[i + 3] == 0x2F, line[i + 7] == 0x2F, line[i + 27] == 0x5D,
            line[i + 28] == 0x20, line[i + 29] == 0x22
        else { return false }
        return true
    }

    @inline(never)
    mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { parseInline(line) }

    /// `parse`, inlined into the line loops (`LineParser.parseInline`), so that a record is
    /// built where it is used instead of going through memory from a call.
    @inline(__always)
    mutating func parseInline(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        guard let p = line.baseAddress else { return .rejected(.notCombined) }
        let n = line.count
        var i: Int
        let userStart: Int
        let userEnd: Int
        let millis: Int64
        if let (start, end) = Self.leadingUser(p, n), end &+ 28 < n, p[end &+ 28] == 0x5D {
            // The usual line: host, ident and user in its first 32 bytes, and the time's `]`
            // where a 26-byte time ends. A time the cache takes has no `]` in it (its bytes are
            // those of a time `parseCLF` took), so that `]` is the first, as the scan would find;
            // a time it does not take is invalid both ways.
            userStart = start
            userEnd = end
            guard let time = timestamps.parse(UnsafeBufferPointer(start: p + (end &+ 2), count: 26)) else {
                return .rejected(.invalidTimestamp)
            }
            millis = time
            i = end &+ 29
        } else {
            i = 0
            // host and ident. Fields are found 16 bytes a compare (`DelimiterScan`), not a byte
            // a step: the address and the time are 10–30 bytes each.
            let space = DelimiterScan.needle(0x20)
            for _ in 0..<2 {
                let start = i
                i = DelimiterScan.firstIndex(space, 0x20, p, from: i, limit: n) ?? n
                guard i > start, i < n else { return .rejected(.notCombined) }
                i += 1
            }
            userStart = i
            i = DelimiterScan.firstIndex(space, 0x20, p, from: i, limit: n) ?? n
            guard i > userStart, i + 1 < n, p[i + 1] == 0x5B else { return .rejected(.notCombined) }
            userEnd = i
            i += 2
            let timeStart = i
            i = DelimiterScan.firstIndex(of: 0x5D, p, from: i, limit: n) ?? n
            guard i < n else { return .rejected(.notCombined) }
            guard let time = timestamps.parse(UnsafeBufferPointer(start: p + timeStart, count: i - timeStart)) else {
                return .rejected(.invalidTimestamp)
            }
            millis = time
            i += 1
        }
        guard i + 1 < n, p[i] == 0x20, p[i + 1] == 0x22 else { return .rejected(.notCombined) }
        i += 2
        let requestStart = i
        // The closing quote: the first `"` not escaped by a backslash (quotes and backslashes
        // found in one pass).
        guard let (quote, _) = ByteScan.closingQuote(p, from: i, n) else { return .rejected(.notCombined) }
        i = quote
        let requestEnd = i
        i += 1
        // status: three digits
        guard i + 4 <= n, p[i] == 0x20, p[i + 1] &- 0x30 < 10, p[i + 2] &- 0x30 < 10, p[i + 3] &- 0x30 < 10,
            i + 4 == n || p[i + 4] == 0x20
        else { return .rejected(.notCombined) }

        var user: UnsafeBufferPointer<UInt8>? = UnsafeBufferPointer(start: p + userStart, count: userEnd - userStart)
        if userEnd - userStart == 1 && p[userStart] == 0x2D { user = nil }
        let event = events.classify(requestLine: p, requestStart, requestEnd, readable: n)
        // Both prefixes in one load each: the user is followed by at least ` [` and the 26-byte
        // time, and the matcher's event names by eight bytes of its own.
        return .record(
            ParsedLine(
                millis: millis, user: user, userPrefix: user == nil ? 0 : ByteScan.prefixWord(p + userStart, count: userEnd - userStart),
                event: event, eventPrefix: ByteScan.prefixWord(event.baseAddress!, count: event.count)))
    }
}

extension CombinedParser {
    /// Where the user field starts and ends (its first byte, the space after it) when a line of
    /// `n` bytes at `p` starts as the format has it, `host ident user [`, with those three
    /// fields' spaces among its first 32 bytes (the usual line: `10.1.249.39 - - [`); nil for
    /// any other line, which the field-by-field scan takes. One compare of two blocks for the
    /// three spaces, where the scan was three calls with a loop each (a fifth of a line's
    /// instructions). The same answer as the scan: the first three spaces of the line.
    @inline(__always)
    static func leadingUser(_ p: UnsafePointer<UInt8>, _ n: Int) -> (start: Int, end: Int)? {
        #if arch(x86_64)
        guard n >= 32 else { return nil }
        let space = _mm_set1_epi8(0x20)
        let low = _mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self))
        let high = _mm_loadu_si128(UnsafeRawPointer(p + 16).assumingMemoryBound(to: __m128i.self))
        let spaces =
            UInt32(truncatingIfNeeded: _mm_movemask_epi8(_mm_cmpeq_epi8(low, space)))
            | UInt32(truncatingIfNeeded: _mm_movemask_epi8(_mm_cmpeq_epi8(high, space))) &<< 16
        let afterFirst = spaces & (spaces &- 1)
        let afterSecond = afterFirst & (afterFirst &- 1)
        guard afterSecond != 0 else { return nil }
        let first = spaces.trailingZeroBitCount
        let second = afterFirst.trailingZeroBitCount
        let third = afterSecond.trailingZeroBitCount
        // Each field at least one byte, and `[` after the user's space.
        guard first > 0, second &- first > 1, third &- second > 1, third &+ 1 < n,
            p[third &+ 1] == 0x5B
        else { return nil }
        return (second &+ 1, third)
        #else
        return nil
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
