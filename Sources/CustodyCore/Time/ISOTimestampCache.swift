/// Parses the RFC 3339 timestamps of one file's lines, remembering the last date, hour, minute
/// and zone: consecutive log lines mostly share them, so only the seconds are parsed again.
///
/// Gives exactly `TimestampParser.parseISO`'s answers: the remembered part was validated when
/// first parsed, and a timestamp that differs in it is parsed in full.
public struct ISOTimestampCache: Sendable {
    /// Bytes 0..<16 (`YYYY-MM-DDTHH:MM`) of the remembered timestamp; zero matches no timestamp.
    @usableFromInline var prefix: (UInt64, UInt64) = (0, 0)
    /// The remembered zone's bytes (at most six: `+08:00`) as the top bytes of a word.
    @usableFromInline var zone: UInt64 = 0
    @usableFromInline var zoneLength = 0
    /// The remembered minute's start, in Unix milliseconds.
    @usableFromInline var minuteMillis: Int64 = 0
    /// The start of the remembered day in the remembered zone (the minute less its hours and
    /// minutes), in Unix milliseconds: another minute of that day is read from `HH:MM`.
    @usableFromInline var dayMillis: Int64 = 0

    public init() {}

    /// Inlined into the parsers in other modules (the usual line's path only): the call into
    /// this module and back was a quarter of a cached timestamp's instructions.
    @inlinable @inline(__always)
    public mutating func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        // The usual line: the remembered minute and zone, with `:SS.mmm` between them.
        if zoneLength > 0, b.count == 23 &+ zoneLength, let base = b.baseAddress {
            let raw = UnsafeRawPointer(base)
            if raw.loadUnaligned(as: UInt64.self) == prefix.0, raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == prefix.1,
                Self.zoneWord(raw, b.count, zoneLength) == zone,
                let secondMillis = Self.secondsWithMillis(raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            {
                return minuteMillis &+ Int64(secondMillis)
            }
        }
        return parseAgain(b)
    }

    /// `parse` for a timestamp outside the remembered minute or zone (or of another shape).
    @usableFromInline
    mutating func parseAgain(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20, let base = b.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let head = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard let (secondMillis, zoneStart) = TimestampParser.isoSeconds(b) else { return nil }
        let length = b.count - zoneStart
        let sameZone = zoneLength > 0 && length == zoneLength && Self.zoneWord(raw, b.count, length) == zone
        if sameZone && head == prefix {
            return minuteMillis + Int64(secondMillis)
        }
        // Another minute of the remembered day (`YYYY-MM-DDT`, bytes 0..<11, which `parseISO`
        // validated) and zone: `parseISO` is the day's start plus HH:MM and the seconds, each
        // checked as it checks them. (A log changes minute every few dozen lines, and the full
        // parse was the tenth of a logfmt line's instructions.)
        if sameZone && head.0 == prefix.0 && (head.1 ^ prefix.1) & 0xFF_FFFF == 0 && base[13] == 0x3A,
            let hour = CLFTimestampCache.twoDigits(base, 11), hour <= 23, let minute = CLFTimestampCache.twoDigits(base, 14),
            minute <= 59
        {
            prefix = head
            minuteMillis = dayMillis &+ Int64(hour &* 3600 &+ minute &* 60) &* 1000
            return minuteMillis &+ Int64(secondMillis)
        }
        guard let millis = TimestampParser.parseISO(b) else { return nil }
        if length <= 6 {
            prefix = head
            zoneLength = length
            zone = Self.zoneWord(raw, b.count, length)
            minuteMillis = millis - Int64(secondMillis)
            let hoursAndMinutes =
                Int64(base[11] &- 0x30) * 36_000 + Int64(base[12] &- 0x30) * 3600
                + Int64(base[14] &- 0x30) * 600 + Int64(base[15] &- 0x30) * 60
            dayMillis = minuteMillis - hoursAndMinutes * 1000
        }
        return millis
    }

    /// `:SS.mmm` or `:SS,mmm` (the low seven bytes of `word`, little-endian) as milliseconds
    /// into the minute, checked as `TimestampParser.isoSeconds` checks them (seconds ≤ 60), or
    /// nil. The eighth byte is the zone's first, which the caller has compared already.
    @inlinable @inline(__always)
    static func secondsWithMillis(_ word: UInt64) -> Int? {
        let littleWord = UInt64(littleEndian: word)
        // Bytes 1, 2, 4, 5 and 6 must be digits: subtracting "0" leaves 0...9, so adding 6 must
        // not carry into the high nibble either.
        let digitBytes: UInt64 = 0x00FF_FFFF_00FF_FF00
        let d = (littleWord ^ 0x0030_3030_0030_3000) & digitBytes
        guard (d | (d &+ 0x0006_0606_0006_0600)) & 0x00F0_F0F0_00F0_F000 == 0 else { return nil }
        let separator = (littleWord >> 24) & 0xFF
        guard littleWord & 0xFF == 0x3A, separator == 0x2E || separator == 0x2C else { return nil }
        let second = Int((d >> 8) & 0xFF) * 10 + Int((d >> 16) & 0xFF)
        guard second <= 60 else { return nil }
        return second * 1000 + Int((d >> 32) & 0xFF) * 100 + Int((d >> 40) & 0xFF) * 10 + Int((d >> 48) & 0xFF)
    }

    /// The last `length` (1...6) bytes before `end`, as the top bytes of a word.
    @inlinable @inline(__always)
    static func zoneWord(_ raw: UnsafeRawPointer, _ end: Int, _ length: Int) -> UInt64 {
        // Wrapping and masking arithmetic (`end` ≥ 20, `length` 1...6): `-` and `>>` tested
        // their operands on every line.
        raw.loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self) &>> UInt64(truncatingIfNeeded: 8 &* (8 &- length))
    }
}
