/// Parses the timestamp forms Custody accepts, straight from bytes, into Unix milliseconds.
///
/// - RFC 3339 / ISO 8601 with `Z` or an offset (`2026-10-10T13:55:36.123+08:00`); the date and
///   time may be separated by `T`, `t` or a space; a fraction of any length is truncated to
///   milliseconds. A time without a zone is refused: it would mean a different day in each zone.
/// - Unix epoch numbers, their unit told by their size: seconds below 1e11 (a fraction allowed),
///   milliseconds below 1e14, microseconds below 1e17, else nanoseconds.
/// - The combined log format's `10/Oct/2026:13:55:36 +0800`.
public enum TimestampParser {
    /// RFC 3339 text → milliseconds, or nil.
    public static func parseISO(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let minute = isoMinute(b), let (secondMillis, zoneStart) = isoSeconds(b),
            let offsetSeconds = isoZoneOffset(b, from: zoneStart)
        else { return nil }
        return (minute - Int64(offsetSeconds)) * 1000 + Int64(secondMillis)
    }

    /// `YYYY-MM-DDTHH:MM` (bytes 0..<16, validated) as seconds since the epoch, before the zone.
    /// Needs at least 20 bytes.
    static func isoMinute(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20 else { return nil }
        guard let year = digits(b, 0, 4), b[4] == 0x2D, let month = digits(b, 5, 2), b[7] == 0x2D,
            let day = digits(b, 8, 2)
        else { return nil }
        let sep = b[10]
        guard sep == 0x54 || sep == 0x74 || sep == 0x20 else { return nil }
        guard let hour = digits(b, 11, 2), b[13] == 0x3A, let minute = digits(b, 14, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDay.daysIn(month: month, year: year),
            hour <= 23, minute <= 59
        else { return nil }
        return Int64(CivilDay.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60)
    }

    /// `:SS` and an optional fraction from byte 16: milliseconds into the minute, and where the
    /// zone starts (there must be one).
    @inline(__always)
    static func isoSeconds(_ b: UnsafeBufferPointer<UInt8>) -> (millis: Int, zoneStart: Int)? {
        let n = b.count
        guard n >= 20, b[16] == 0x3A, let second = digits(b, 17, 2), second <= 60 else { return nil }
        var i = 19
        var millis = 0
        if b[i] == 0x2E || b[i] == 0x2C {
            i += 1
            let start = i
            var scale = 100
            while i < n, b[i] &- 0x30 < 10 {
                if scale > 0 {
                    millis += Int(b[i] &- 0x30) * scale
                    scale /= 10
                }
                i += 1
            }
            if i == start { return nil }
        }
        guard i < n else { return nil }
        return (second * 1000 + millis, i)
    }

    /// `Z`, `±HH:MM`, `±HHMM` or `±HH` running to the end: the offset east of UTC in seconds.
    static func isoZoneOffset(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let n = b.count
        var i = start
        var offsetSeconds = 0
        switch b[i] {
        case 0x5A, 0x7A:  // Z z
            i += 1
        case 0x2B, 0x2D:  // + -
            let negative = b[i] == 0x2D
            i += 1
            guard let oh = digits(b, i, 2) else { return nil }
            i += 2
            var om = 0
            if i < n && b[i] == 0x3A { i += 1 }
            if i + 2 <= n, let m = digits(b, i, 2) {
                om = m
                i += 2
            }
            guard oh <= 23, om <= 59 else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (negative ? -1 : 1)
        default:
            return nil
        }
        guard i == n else { return nil }
        return offsetSeconds
    }

    /// A JSON/logfmt number of Unix epoch time, in milliseconds; the unit is told by the size
    /// (as log tools tell it): seconds below 1e11 (a fraction allowed), milliseconds below 1e14,
    /// microseconds below 1e17, nanoseconds above (up to nineteen digits). Each range starts
    /// past year 5000 of the one before, so no time of this age is read in the wrong unit:
    /// microseconds read as milliseconds put a 2020 record in year 51970, past every window.
    public static func parseEpoch(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = b.count
        guard n > 0, n <= 30, let base = b.baseAddress else { return nil }
        var i = 0
        var whole: Int64 = 0
        // Eight digits a step while eight bytes of the number are left, for at most sixteen (so
        // that `whole` cannot overflow there): epoch milliseconds have thirteen, and a digit a
        // step was a tenth of parsing a JSON line with such a time (perf).
        while i + 8 <= n && i < 16, let eight = eightDigits(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
            whole = whole &* 100_000_000 &+ eight
            i += 8
        }
        while i < n, b[i] &- 0x30 < 10 {
            let (tens, over) = whole.multipliedReportingOverflow(by: 10)
            let (next, overAgain) = tens.addingReportingOverflow(Int64(b[i] &- 0x30))
            if over || overAgain { return nil }
            whole = next
            i += 1
        }
        if i == 0 { return nil }
        var fractionMillis: Int64 = 0
        if i < n && b[i] == 0x2E {
            i += 1
            let start = i
            var scale: Int64 = 100
            while i < n, b[i] &- 0x30 < 10 {
                fractionMillis += Int64(b[i] &- 0x30) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        guard i == n else { return nil }
        if whole < 100_000_000_000 { return whole * 1000 + fractionMillis }
        if whole < 100_000_000_000_000 { return whole }
        if whole < 100_000_000_000_000_000 { return whole / 1000 }
        return whole / 1_000_000
    }

    /// The value of eight ASCII digits loaded as a little-endian word (the first digit in the
    /// lowest byte), or nil when a byte is not a digit: pairs, then fours, then the eight are
    /// combined by three multiplies (as simdjson parses eight digits).
    @inline(__always)
    static func eightDigits(_ raw: UInt64) -> Int64? {
        let word = UInt64(littleEndian: raw)
        let d = word &- 0x3030_3030_3030_3030
        // Each byte 0x30...0x3F, and 0...9 once 0x30 is taken off (adding 6 leaves the high nibble 0).
        guard word & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030, (d &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0
        else { return nil }
        var v = (d &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        v = ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
        return Int64(truncatingIfNeeded: v & 0xFFFF_FFFF)
    }

    /// The combined log format's `[dd/Mon/yyyy:HH:MM:SS +zzzz]` (without the brackets).
    public static func parseCLF(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 26 else { return nil }
        guard let day = digits(b, 0, 2), b[2] == 0x2F, b[6] == 0x2F, let year = digits(b, 7, 4), b[11] == 0x3A,
            let hour = digits(b, 12, 2), b[14] == 0x3A, let minute = digits(b, 15, 2), b[17] == 0x3A,
            let second = digits(b, 18, 2), b[20] == 0x20, b[21] == 0x2B || b[21] == 0x2D,
            let oh = digits(b, 22, 2), let om = digits(b, 24, 2)
        else { return nil }
        guard let month = monthNumber(b[3], b[4], b[5]) else { return nil }
        guard day >= 1, day <= CivilDay.daysIn(month: month, year: year), hour <= 23, minute <= 59, second <= 60,
            oh <= 23, om <= 59
        else { return nil }
        let offset = (oh * 3600 + om * 60) * (b[21] == 0x2D ? -1 : 1)
        let days = CivilDay.daysFromCivil(year: year, month: month, day: day)
        return Int64(days * 86_400 + hour * 3600 + minute * 60 + second - offset) * 1000
    }

    /// Convenience for tests and configuration: parses any accepted form from a string.
    public static func parse(_ text: String) -> Int64? {
        var copy = text
        return copy.withUTF8 { b in parseISO(b) ?? parseEpoch(b) ?? parseCLF(b) }
    }

    @inline(__always)
    static func digits(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        guard at + count <= b.count else { return nil }
        var v = 0
        for k in at..<(at + count) {
            let d = b[k] &- 0x30
            if d > 9 { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    static func monthNumber(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        // Case-insensitive three-letter English month names, as nginx and Apache write them.
        let key = (UInt32(a | 0x20) << 16) | (UInt32(b | 0x20) << 8) | UInt32(c | 0x20)
        switch key {
        case 0x6A616E: return 1  // jan
        case 0x666562: return 2  // feb
        case 0x6D6172: return 3  // mar
        case 0x617072: return 4  // apr
        case 0x6D6179: return 5  // may
        case 0x6A756E: return 6  // jun
        case 0x6A756C: return 7  // jul
        case 0x617567: return 8  // aug
        case 0x736570: return 9  // sep
        case 0x6F6374: return 10  // oct
        case 0x6E6F76: return 11  // nov
        case 0x646563: return 12  // dec
        default: return nil
        }
    }

    /// Formats milliseconds as RFC 3339 UTC with milliseconds: `2026-10-10T05:55:36.123Z`.
    public static func formatUTC(_ millis: Int64) -> String {
        let seconds = floorDiv(millis, 1000)
        let ms = Int(millis - seconds * 1000)
        let days = floorDiv(seconds, 86_400)
        let rem = Int(seconds - days * 86_400)
        let day = CivilDay(daysSinceEpoch: Int32(days))
        let (y, m, d) = day.components
        // Written into the string's own storage: a check report formats one or two of these for
        // every user who published before verifying, and the interpolated form below built a
        // string for each of its seven parts.
        guard (0...9999).contains(y) else {
            return
                "\(day)T\(CivilDay.pad(rem / 3600, 2)):\(CivilDay.pad(rem / 60 % 60, 2)):\(CivilDay.pad(rem % 60, 2)).\(CivilDay.pad(ms, 3))Z"
        }
        return String(unsafeUninitializedCapacity: 24) { out in
            CivilDay.writeDate(y, m, d, into: out)
            out[10] = 0x54  // T
            CivilDay.writeDigits(rem / 3600, 2, into: out, at: 11)
            out[13] = 0x3A
            CivilDay.writeDigits(rem / 60 % 60, 2, into: out, at: 14)
            out[16] = 0x3A
            CivilDay.writeDigits(rem % 60, 2, into: out, at: 17)
            out[19] = 0x2E
            CivilDay.writeDigits(ms, 3, into: out, at: 20)
            out[23] = 0x5A  // Z
            return 24
        }
    }
}
