/// A general, slower JSON walk for described formats: finds members by name (compared after
/// unescaping), skips values, decodes strings. The built-in JSON-lines format has its own
/// faster walk (`JSONLineParser`); this one serves field paths (`ctx.user.uid`), Docker's
/// `log` and described formats.
enum JSONScan {
    enum Member {
        case absent
        case found(start: Int, end: Int)
        case ambiguous
        case invalid
    }

    /// Calls `body` with each member's key (unescaped when needed, into `keyScratch`) and the
    /// span of its raw value, for the object starting at or after `from`. False when the text
    /// is not one valid object up to `n`, or when `body` returns false.
    static func members(
        _ p: UnsafePointer<UInt8>, from: Int, _ n: Int, keyScratch: UnsafeMutablePointer<UInt8>,
        _ body: (UnsafeBufferPointer<UInt8>, Int, Int) -> Bool
    ) -> Bool {
        var i = skipSpace(p, from, n)
        guard i < n, p[i] == 0x7B else { return false }
        i = skipSpace(p, i + 1, n)
        if i < n, p[i] == 0x7D { return skipSpace(p, i + 1, n) == n }
        while true {
            guard i < n, p[i] == 0x22, let (keyEnd, escaped) = stringEnd(p, i, n) else { return false }
            let key = escaped ? unescape(p, i, keyEnd, into: keyScratch) : UnsafeBufferPointer(start: p + i + 1, count: keyEnd - i - 2)
            i = skipSpace(p, keyEnd, n)
            guard i < n, p[i] == 0x3A else { return false }
            i = skipSpace(p, i + 1, n)
            guard let valueEnd = valueEnd(p, i, n) else { return false }
            if !body(key, i, valueEnd) { return false }
            i = skipSpace(p, valueEnd, n)
            guard i < n else { return false }
            if p[i] == 0x2C {
                i = skipSpace(p, i + 1, n)
                continue
            }
            guard p[i] == 0x7D else { return false }
            return skipSpace(p, i + 1, n) == n
        }
    }

    /// The raw value of member `key` of the object `p[start..<end]`.
    static func member(
        _ key: [UInt8], _ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, keyScratch: UnsafeMutablePointer<UInt8>
    ) -> Member {
        var result = Member.absent
        var ambiguous = false
        let valid = members(p, from: start, end, keyScratch: keyScratch) { k, s, e in
            guard k.elementsEqual(key) else { return true }
            if case .found = result {
                ambiguous = true
                return false
            }
            result = .found(start: s, end: e)
            return true
        }
        if ambiguous { return .ambiguous }
        return valid ? result : .invalid
    }

    @inline(__always)
    static func skipSpace(_ p: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int {
        var i = from
        while i < n, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0D || p[i] == 0x0A { i += 1 }
        return i
    }

    /// From an opening quote: the index after the closing quote, and whether escapes occur.
    static func stringEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> (Int, Bool)? {
        var i = start + 1
        var escaped = false
        while i < n {
            let c = p[i]
            if c == 0x22 { return (i + 1, escaped) }
            if c == 0x5C {
                escaped = true
                i += 2
                continue
            }
            i += 1
        }
        return nil
    }

    /// The end of the value starting at `i` (strings, objects, arrays, literals, numbers).
    static func valueEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> Int? {
        guard start < n else { return nil }
        switch p[start] {
        case 0x22: return stringEnd(p, start, n)?.0
        case 0x7B, 0x5B:
            var depth = 0
            var i = start
            while i < n {
                switch p[i] {
                case 0x22:
                    guard let (end, _) = stringEnd(p, i, n) else { return nil }
                    i = end
                    continue
                case 0x7B, 0x5B: depth += 1
                case 0x7D, 0x5D:
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            var i = start
            while i < n, p[i] != 0x2C, p[i] != 0x7D, p[i] != 0x5D, p[i] > 0x20 { i += 1 }
            return i > start ? i : nil
        }
    }

    /// A raw JSON value as text: strings decoded (into `scratch` when escaped), `null` absent,
    /// numbers and other values as written.
    static func text(
        _ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, scratch: UnsafeMutablePointer<UInt8>
    ) -> UnsafeBufferPointer<UInt8>? {
        guard start < end else { return nil }
        if p[start] == 0x22 {
            guard end - start >= 2 else { return nil }
            for k in (start + 1)..<(end - 1) where p[k] == 0x5C { return unescape(p, start, end, into: scratch) }
            return UnsafeBufferPointer(start: p + start + 1, count: end - start - 2)
        }
        if end - start == 4, p[start] == 0x6E, p[start + 1] == 0x75, p[start + 2] == 0x6C, p[start + 3] == 0x6C { return nil }
        return UnsafeBufferPointer(start: p + start, count: end - start)
    }

    /// Decodes a JSON string (quotes included in `start..<end`) into UTF-8. `out` may be where
    /// the string itself is: output never overtakes input.
    static func unescape(
        _ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into out: UnsafeMutablePointer<UInt8>
    ) -> UnsafeBufferPointer<UInt8> {
        var i = start + 1
        let stop = end - 1
        var o = 0
        while i < stop {
            let c = p[i]
            guard c == 0x5C, i + 1 < stop else {
                out[o] = c
                o += 1
                i += 1
                continue
            }
            let e = p[i + 1]
            i += 2
            switch e {
            case 0x6E:
                out[o] = 0x0A
                o += 1
            case 0x74:
                out[o] = 0x09
                o += 1
            case 0x72:
                out[o] = 0x0D
                o += 1
            case 0x62:
                out[o] = 0x08
                o += 1
            case 0x66:
                out[o] = 0x0C
                o += 1
            case 0x75:
                guard var scalar = hex4(p, i, stop) else {
                    out[o] = e
                    o += 1
                    continue
                }
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= stop, p[i] == 0x5C, p[i + 1] == 0x75,
                    let low = hex4(p, i + 2, stop), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let value = Unicode.Scalar(scalar) else {
                    // A lone surrogate (`\ud800` with no pair) is no character. Written as the
                    // three bytes UTF-8 would give it (not valid UTF-8, so they show escaped),
                    // it stays itself: as U+FFFD, `\ud800`, `\udfff` and `\ufffd` were one user.
                    out[o] = UInt8(0xE0 | scalar >> 12)
                    out[o + 1] = UInt8(0x80 | (scalar >> 6) & 0x3F)
                    out[o + 2] = UInt8(0x80 | scalar & 0x3F)
                    o += 3
                    continue
                }
                for byte in UTF8.encode(value)! {
                    out[o] = byte
                    o += 1
                }
            default:
                out[o] = e
                o += 1
            }
        }
        return UnsafeBufferPointer(start: out, count: o)
    }

    private static func hex4(_ p: UnsafePointer<UInt8>, _ i: Int, _ stop: Int) -> UInt32? {
        guard i + 4 <= stop else { return nil }
        var v: UInt32 = 0
        for k in i..<(i + 4) {
            let c = p[k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}
