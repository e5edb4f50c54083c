/// Parses the combined log format's timestamps (`dd/Mon/yyyy:HH:MM:SS +zzzz`) of one file's
/// lines, remembering the last date, hour, minute and zone: consecutive access-log lines mostly
/// share them, so only the seconds are read again.
///
/// Gives exactly `TimestampParser.parseCLF`'s answers: the remembered bytes were validated when
/// first parsed, and a timestamp that differs in any of them is parsed in full.
public struct CLFTimestampCache: Sendable {
    /// Bytes 0..<8 and 8..<16 of the remembered timestamp (`dd/Mon/y`, `yyy:HH:M`). Until a
    /// timestamp is remembered nothing matches: zeros would match a time made of NUL bytes.
    @usableFromInline var head: (UInt64, UInt64) = (0, 0)
    @usableFromInline var primed = false
    /// Bytes 16..<18 (`M:`) and 20..<26 (` +zzzz`) of the remembered timestamp: the words at 16
    /// and 18 with the seconds (bytes 18 and 19) masked out.
    @usableFromInline var tail: UInt64 = 0
    /// The remembered minute's start, in Unix milliseconds.
    @usableFromInline var minuteMillis: Int64 = 0
    /// The start of the remembered day in the remembered zone (the minute less its hours and
    /// minutes), in Unix milliseconds: another minute of that day is read from `HH:MM:SS`.
    @usableFromInline var dayMillis: Int64 = 0

    public init() {}

    /// The bytes around the seconds, as one word: bytes 16, 17 and 20...25.
    @inlinable @inline(__always)
    static func tailWord(_ raw: UnsafeRawPointer) -> UInt64 {
        let around = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 18, as: UInt64.self)) >> 16
        let before = UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt16.self)))
        return around << 16 | before
    }

    /// Inlined into the parsers in other modules (the remembered minute's path only), as
    /// `ISOTimestampCache.parse` is.
    @inlinable @inline(__always)
    public mutating func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 26, let base = b.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        if primed && raw.loadUnaligned(as: UInt64.self) == head.0 && raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == head.1
            && Self.tailWord(raw) == tail
        {
            let tens = base[18] &- 0x30
            let ones = base[19] &- 0x30
            if tens < 10 && ones < 10 {
                let second = Int64(tens) &* 10 &+ Int64(ones)
                // A leap second, as `parseCLF` takes it: the next minute's first.
                if second <= 60 { return minuteMillis &+ second &* 1000 }
            }
            return nil
        }
        return parseAgain(b)
    }

    /// `parse` for a time outside the remembered minute and zone: another minute of the
    /// remembered day and zone is read from its hours, minutes and seconds (a log changes minute
    /// every few dozen lines, and the full parse was more than a tenth of a combined line's
    /// time); any other is parsed in full. Either way it is remembered.
    @usableFromInline
    mutating func parseAgain(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 26, let base = b.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let words = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let tail = Self.tailWord(raw)
        // `dd/Mon/yyyy:` (bytes 0..<12) and ` +zzzz` (20..<26) as remembered, which `parseCLF`
        // validated: `parseCLF` is the day's start plus HH:MM:SS, each checked as it checks them.
        if primed && words.0 == head.0 && (words.1 ^ head.1) & 0xFFFF_FFFF == 0 && (tail ^ self.tail) &>> 16 == 0,
            let hour = Self.twoDigits(base, 12), hour <= 23, base[14] == 0x3A, let minute = Self.twoDigits(base, 15),
            minute <= 59, base[17] == 0x3A, let second = Self.twoDigits(base, 18), second <= 60
        {
            let minuteStart = dayMillis &+ Int64(hour &* 3600 &+ minute &* 60) &* 1000
            head = words
            self.tail = tail
            minuteMillis = minuteStart
            return minuteStart &+ Int64(second) &* 1000
        }
        guard let millis = TimestampParser.parseCLF(b) else { return nil }
        let second = Int64(base[18] &- 0x30) * 10 + Int64(base[19] &- 0x30)
        let hoursAndMinutes =
            Int64(base[12] &- 0x30) * 36_000 + Int64(base[13] &- 0x30) * 3600
            + Int64(base[15] &- 0x30) * 600 + Int64(base[16] &- 0x30) * 60
        head = words
        self.tail = tail
        primed = true
        minuteMillis = millis - second * 1000
        dayMillis = minuteMillis - hoursAndMinutes * 1000
        return millis
    }

    /// The two decimal digits at `p + at` as a number, or nil.
    @inline(__always)
    static func twoDigits(_ p: UnsafePointer<UInt8>, _ at: Int) -> Int? {
        let tens = p[at] &- 0x30
        let ones = p[at &+ 1] &- 0x30
        guard tens < 10 && ones < 10 else { return nil }
        return Int(tens) &* 10 &+ Int(ones)
    }
}
