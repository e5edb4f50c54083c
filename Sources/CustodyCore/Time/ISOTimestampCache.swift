/// Parses the RFC 3339 timestamps of one file's lines, remembering the last date, hour, minute
/// and zone: consecutive log lines mostly share them, so only the seconds are parsed again.
///
/// Gives exactly `TimestampParser.parseISO`'s answers: the remembered part was validated when
/// first parsed, and a timestamp that differs in it is parsed in full.
public struct ISOTimestampCache: Sendable {
    /// Bytes 0..<16 (`YYYY-MM-DDTHH:MM`) of the remembered timestamp; zero matches no timestamp.
    private var prefix: (UInt64, UInt64) = (0, 0)
    /// The remembered zone's bytes (at most six: `+08:00`) as the top bytes of a word.
    private var zone: UInt64 = 0
    private var zoneLength = 0
    /// The remembered minute's start, in Unix milliseconds.
    private var minuteMillis: Int64 = 0

    public init() {}

    @inline(__always)
    public mutating func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20, let base = b.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let head = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard let (secondMillis, zoneStart) = TimestampParser.isoSeconds(b) else { return nil }
        let length = b.count - zoneStart
        if head == prefix, length == zoneLength, Self.zoneWord(raw, b.count, length) == zone {
            return minuteMillis + Int64(secondMillis)
        }
        guard let millis = TimestampParser.parseISO(b) else { return nil }
        if length <= 6 {
            prefix = head
            zoneLength = length
            zone = Self.zoneWord(raw, b.count, length)
            minuteMillis = millis - Int64(secondMillis)
        }
        return millis
    }

    /// The last `length` (1...6) bytes before `end`, as the top bytes of a word.
    @inline(__always)
    private static func zoneWord(_ raw: UnsafeRawPointer, _ end: Int, _ length: Int) -> UInt64 {
        raw.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) >> UInt64(8 * (8 - length))
    }
}
