/// A calendar day, counted in days since 1970-01-01 (day 0), with no time zone of its own.
///
/// Days are plain integers on the hot path; this type gives them a name, ordering and the
/// `YYYY-MM-DD` form used in reports.
public struct CivilDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var daysSinceEpoch: Int32

    public init(daysSinceEpoch: Int32) { self.daysSinceEpoch = daysSinceEpoch }

    /// The day of a proleptic Gregorian date; nil when the fields are out of range.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CivilDay.daysIn(month: month, year: year) else { return nil }
        self.daysSinceEpoch = Int32(CivilDay.daysFromCivil(year: year, month: month, day: day))
    }

    /// Parses `YYYY-MM-DD`; nil for anything else.
    public init?(iso string: String) {
        let parts = string.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public static func < (a: CivilDay, b: CivilDay) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    public func adding(days: Int) -> CivilDay { CivilDay(daysSinceEpoch: daysSinceEpoch + Int32(days)) }

    public var components: (year: Int, month: Int, day: Int) { CivilDay.civilFromDays(Int(daysSinceEpoch)) }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = components
        guard (0...9999).contains(y) else { return "\(Self.pad(y, 4))-\(Self.pad(m, 2))-\(Self.pad(d, 2))" }
        return String(unsafeUninitializedCapacity: 10) { out in
            Self.writeDate(y, m, d, into: out)
            return 10
        }
    }

    /// Writes `YYYY-MM-DD` (0 ≤ year ≤ 9999) into the first ten bytes of `out`.
    @inline(__always)
    static func writeDate(_ y: Int, _ m: Int, _ d: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
        writeDigits(y, 4, into: out, at: 0)
        out[4] = 0x2D
        writeDigits(m, 2, into: out, at: 5)
        out[7] = 0x2D
        writeDigits(d, 2, into: out, at: 8)
    }

    /// Writes `value` (0 ≤ value < 10^width) as `width` decimal digits, zero-padded, at `offset`.
    @inline(__always)
    static func writeDigits(_ value: Int, _ width: Int, into out: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var v = value
        var i = offset + width - 1
        while i >= offset {
            out[i] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
            v /= 10
            i -= 1
        }
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days: exact for every proleptic Gregorian date.
    @inline(__always)
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
