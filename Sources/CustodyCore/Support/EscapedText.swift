/// The one escaping Custody applies to names and ids it did not write itself: user ids from
/// logs, file names, authority names. Valid UTF-8 stays as it is, except:
///
/// - `\` becomes `\\`;
/// - control characters (C0, DEL and the C1 range U+0080–U+009F, so newlines and ANSI escape
///   sequences too) become `\xNN`, one per byte;
/// - every byte that is not part of valid UTF-8 becomes `\xNN`.
///
/// The escaping is injective (two different byte strings never give the same text), so the
/// escaped text of a user id is also its key in the state: `\xff x` and `\xfe x` stay two users.
/// `unescape` gives the bytes back.
public enum EscapedText {
    /// The escaped text of `bytes`.
    public static func escape<C: Collection>(bytes: C) -> String where C.Element == UInt8 {
        // Most ids and names are plain printable ASCII: taken whole.
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        let b = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(b.count + 8)
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == 0x5C {
                out += [0x5C, 0x5C]
                i += 1
            } else if c < 0x20 || c == 0x7F {
                appendHex(c, to: &out)
                i += 1
            } else if c < 0x80 {
                out.append(c)
                i += 1
            } else {
                let length = validSequenceLength(b, at: i)
                // C1 controls are U+0080–U+009F: C2 80 … C2 9F.
                if length == 0 || (length == 2 && c == 0xC2 && b[i + 1] < 0xA0) {
                    let count = max(length, 1)
                    for k in i..<(i + count) { appendHex(b[k], to: &out) }
                    i += count
                } else {
                    out += b[i..<(i + length)]
                    i += length
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The escaped text of bytes in memory: the same as the generic `escape(bytes:)`, without
    /// going through a generic collection. It runs once per user of every file a check reads
    /// (200,000 a high-entropy file), after the file's last line and before its merge, and the
    /// unspecialised generic path cost a tenth of that serial tail (perf, 2026-11-29).
    public static func escape(bytes: UnsafeBufferPointer<UInt8>) -> String {
        var plain = true
        for c in bytes where c < 0x20 || c >= 0x7F || c == 0x5C {
            plain = false
            break
        }
        if plain { return String(decoding: bytes, as: UTF8.self) }
        return escape(bytes: bytes[...])
    }

    /// The escaped text of a string's UTF-8 bytes (for names that are already Swift strings).
    public static func escape(_ text: String) -> String { escape(bytes: text.utf8) }

    /// The bytes `escape` was given. Text that is not an escape's output (a lone `\`, `\q`) is
    /// taken literally.
    public static func unescape(_ text: String) -> [UInt8] {
        let b = Array(text.utf8)
        guard b.contains(0x5C) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == 0x5C, i + 1 < b.count {
                if b[i + 1] == 0x5C {
                    out.append(0x5C)
                    i += 2
                    continue
                }
                if b[i + 1] == 0x78, i + 3 < b.count, let hi = hexValue(b[i + 2]), let lo = hexValue(b[i + 3]) {
                    out.append(hi << 4 | lo)
                    i += 4
                    continue
                }
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendHex(_ byte: UInt8, to out: inout [UInt8]) {
        out += [0x5C, 0x78, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// The length of the valid UTF-8 sequence starting at `i` (a byte ≥ 0x80), or 0 (RFC 3629:
    /// no overlong forms, no surrogates, nothing above U+10FFFF).
    private static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let c = b[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return 0
        }
        guard i + length <= b.count else { return 0 }
        guard b[i + 1] >= low && b[i + 1] <= high else { return 0 }
        for k in (i + 2)..<(i + length) where b[k] < 0x80 || b[k] > 0xBF { return 0 }
        return length
    }
}
