import CustodyCore
import CustodyTesting
import Testing

@Suite("TimestampParser: RFC 3339 / ISO 8601")
struct ISOTimestampTests {
    let reference = utcMillis(2026, 10, 10, 5, 55, 36)

    @Test func utcWithZ() {
        #expect(parseBytes("2026-10-10T05:55:36Z", TimestampParser.parseISO) == reference)
    }

    @Test(arguments: [
        "2026-10-10T13:55:36+08:00", "2026-10-10T13:55:36+0800", "2026-10-10T00:55:36-05:00", "2026-10-10T00:55:36-0500",
        "2026-10-10T00:25:36-05:30", "2026-10-10T11:40:36+0545", "2026-10-10T05:55:36+00:00", "2026-10-10T05:55:36-00:00",
    ])
    func offsets(text: String) {
        #expect(parseBytes(text, TimestampParser.parseISO) == reference)
    }

    @Test func offsetCrossesTheDateLine() {
        // 23:30 at -05:00 on the 9th is 04:30 UTC on the 10th.
        #expect(TimestampParser.parse("2026-10-09T23:30:00-05:00") == utcMillis(2026, 10, 10, 4, 30, 0))
        // 01:00 at +08:00 on the 1st of a year is the previous year in UTC.
        #expect(TimestampParser.parse("2027-01-01T01:00:00+08:00") == utcMillis(2026, 12, 31, 17, 0, 0))
    }

    @Test(arguments: ["2026-10-10t05:55:36Z", "2026-10-10T05:55:36z", "2026-10-10t05:55:36z", "2026-10-10 05:55:36Z"])
    func lowercaseAndSpaceSeparators(text: String) {
        #expect(parseBytes(text, TimestampParser.parseISO) == reference)
    }

    @Test(arguments: [
        (".1", 100), (".12", 120), (".123", 123), (".1234", 123), (".12345", 123), (".123456", 123),
        (".1234567", 123), (".12345678", 123), (".123456789", 123), (".999999999", 999), (".0", 0), (".005", 5),
        (",5", 500),
    ])
    func fractionsAreTruncatedToMilliseconds(fraction: String, millis: Int) {
        #expect(parseBytes("2026-10-10T05:55:36\(fraction)Z", TimestampParser.parseISO) == reference + Int64(millis))
        #expect(parseBytes("2026-10-10T13:55:36\(fraction)+08:00", TimestampParser.parseISO) == reference + Int64(millis))
    }

    @Test func leapDays() {
        #expect(TimestampParser.parse("2028-02-29T12:00:00Z") == utcMillis(2028, 2, 29, 12))
        #expect(TimestampParser.parse("2000-02-29T00:00:00Z") == utcMillis(2000, 2, 29))
        #expect(TimestampParser.parse("2026-02-29T12:00:00Z") == nil)
        #expect(TimestampParser.parse("1900-02-29T12:00:00Z") == nil)
        #expect(TimestampParser.parse("2100-02-29T12:00:00Z") == nil)
    }

    @Test(arguments: [
        "2026-13-10T05:55:36Z", "2026-00-10T05:55:36Z", "2026-10-00T05:55:36Z", "2026-10-32T05:55:36Z",
        "2026-04-31T05:55:36Z", "2026-06-31T05:55:36Z", "2026-10-10T24:00:00Z", "2026-10-10T05:60:00Z",
        "2026-10-10T05:55:61Z",
    ])
    func invalidFieldsAreRefused(text: String) {
        #expect(parseBytes(text, TimestampParser.parseISO) == nil)
    }

    @Test(arguments: [
        "2026-10-10T05:55:36", "2026-10-10T05:55:36.123", "2026-10-10 05:55:36", "2026-10-10T05:55:36.123456789",
    ])
    func missingZoneIsRefused(text: String) {
        #expect(parseBytes(text, TimestampParser.parseISO) == nil)
        #expect(TimestampParser.parse(text) == nil)
    }

    @Test(arguments: [
        "", "2026-10-10", "2026-10-10T05:55Z", "2026/10/10T05:55:36Z", "2026-10-10X05:55:36Z", "2026-10-10T05:55:36.Z",
        "2026-10-10T05:55:36Zjunk", "2026-10-10T05:55:36+08:00 ", " 2026-10-10T05:55:36Z", "2026-10-10T05:55:36+8:00",
        "2026-10-10T05:55:36+24:00", "2026-10-10T05:55:36+08:60", "2026-1a-10T05:55:36Z", "2026-10-10T05:55:36Y",
        "2026-10-10T05:55:36+", "twenty-six",
    ])
    func malformedTextIsRefused(text: String) {
        #expect(parseBytes(text, TimestampParser.parseISO) == nil)
    }

    @Test func datesBefore1970() {
        #expect(TimestampParser.parse("1969-12-31T23:59:59.500Z") == -500)
        #expect(TimestampParser.parse("1970-01-01T00:00:00Z") == 0)
        #expect(TimestampParser.parse("1970-01-01T08:00:00+08:00") == 0)
    }
}

@Suite("TimestampParser: Unix epoch numbers")
struct EpochTimestampTests {
    @Test func seconds() {
        #expect(parseBytes("1790000000", TimestampParser.parseEpoch) == 1_790_000_000_000)
        #expect(parseBytes("0", TimestampParser.parseEpoch) == 0)
        #expect(parseBytes("99999999999", TimestampParser.parseEpoch) == 99_999_999_999_000)
    }

    @Test(arguments: [(".5", 500), (".25", 250), (".123", 123), (".123456", 123), (".000001", 0), (".9999", 999)])
    func secondsWithFraction(fraction: String, millis: Int64) {
        #expect(parseBytes("1790000000\(fraction)", TimestampParser.parseEpoch) == 1_790_000_000_000 + millis)
    }

    @Test func millisecondsFrom1e11() {
        #expect(parseBytes("100000000000", TimestampParser.parseEpoch) == 100_000_000_000)
        #expect(parseBytes("1790000000123", TimestampParser.parseEpoch) == 1_790_000_000_123)
        // Both readings name the same instant.
        #expect(parseBytes("1790000000123", TimestampParser.parseEpoch) == parseBytes("1790000000.123", TimestampParser.parseEpoch))
    }

    /// Microseconds were read as milliseconds: a 2020 record landed in year 51970, past every
    /// retention window, and an over-retention error went unseen.
    @Test func microsecondsFrom1e14() {
        #expect(parseBytes("1600000000123456", TimestampParser.parseEpoch) == 1_600_000_000_123)
        #expect(parseBytes("100000000000000", TimestampParser.parseEpoch) == 100_000_000_000)
        // The last millisecond value and the first microsecond one.
        #expect(parseBytes("99999999999999", TimestampParser.parseEpoch) == 99_999_999_999_999)
    }

    @Test func nanosecondsFrom1e17() {
        #expect(parseBytes("1600000000123456789", TimestampParser.parseEpoch) == 1_600_000_000_123)
        #expect(parseBytes("100000000000000000", TimestampParser.parseEpoch) == 100_000_000_000)
        // The largest Int64, and one past it.
        #expect(parseBytes("9223372036854775807", TimestampParser.parseEpoch) == 9_223_372_036_854)
        #expect(parseBytes("9223372036854775808", TimestampParser.parseEpoch) == nil)
    }

    @Test(arguments: [
        "", "-5", "+5", "1e9", "1.", ".5", "17900000x0", "1790000000.5.5", "1790000000 ", "abc",
        "99999999999999999999999", "10000000000000000000",
    ])
    func malformedNumbersAreRefused(text: String) {
        #expect(parseBytes(text, TimestampParser.parseEpoch) == nil)
    }

    /// The rule, a digit at a time (as `parseEpoch` read every number before it took eight
    /// digits a step).
    static func plainEpoch(_ text: [UInt8]) -> Int64? {
        let n = text.count
        guard n > 0, n <= 30 else { return nil }
        var i = 0
        var whole: Int64 = 0
        while i < n, text[i] >= 0x30, text[i] <= 0x39 {
            guard whole <= (Int64.max - Int64(text[i] - 0x30)) / 10 else { return nil }
            whole = whole * 10 + Int64(text[i] - 0x30)
            i += 1
        }
        if i == 0 { return nil }
        var fraction: Int64 = 0
        if i < n && text[i] == 0x2E {
            i += 1
            let start = i
            var scale: Int64 = 100
            while i < n, text[i] >= 0x30, text[i] <= 0x39 {
                fraction += Int64(text[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        guard i == n else { return nil }
        if whole < 100_000_000_000 { return whole * 1000 + fraction }
        if whole < 100_000_000_000_000 { return whole }
        return whole < 100_000_000_000_000_000 ? whole / 1000 : whole / 1_000_000
    }

    /// Numbers of every length up to the limit and past it, with fractions, leading zeros and
    /// one byte changed (to a byte next to a digit's, a dot, a letter): what the plain rule says.
    @Test func eightDigitsAStepAsADigitAStep() {
        var random = SplitMix64(seed: 31)
        let odd: [UInt8] = [0x2F, 0x3A, 0x2E, 0x20, 0x65, 0x00, 0xB0, 0x70, 0x2D]
        var checked = 0
        for _ in 0..<60_000 {
            var text = (0..<Int.random(in: 1...26, using: &random)).map { _ in UInt8(0x30 + random.next() % 10) }
            if random.next() % 3 == 0 { text[Int(random.next() % UInt64(text.count))] = 0x2E }
            if random.next() % 3 == 0 { text[Int(random.next() % UInt64(text.count))] = odd[Int(random.next() % UInt64(odd.count))] }
            if random.next() % 4 == 0 { text.replaceSubrange(0..<min(text.count, 9), with: [UInt8](repeating: 0x30, count: 9)) }
            let got = text.withUnsafeBufferPointer { TimestampParser.parseEpoch($0) }
            #expect(got == Self.plainEpoch(text), "\(String(decoding: text, as: UTF8.self).debugDescription)")
            if got != nil { checked += 1 }
        }
        #expect(checked > 10_000)
    }

    @Test func parseDispatchesEpochText() {
        #expect(TimestampParser.parse("1790000000") == 1_790_000_000_000)
        #expect(TimestampParser.parse("1790000000123") == 1_790_000_000_123)
    }
}

@Suite("TimestampParser: combined log format")
struct CLFTimestampTests {
    @Test func positiveAndNegativeOffsets() {
        #expect(parseBytes("10/Oct/2026:13:55:36 +0800", TimestampParser.parseCLF) == utcMillis(2026, 10, 10, 5, 55, 36))
        #expect(parseBytes("10/Oct/2026:13:55:36 -0500", TimestampParser.parseCLF) == utcMillis(2026, 10, 10, 18, 55, 36))
        #expect(parseBytes("10/Oct/2026:13:55:36 +0000", TimestampParser.parseCLF) == utcMillis(2026, 10, 10, 13, 55, 36))
        #expect(parseBytes("01/Jan/2027:02:00:00 +0800", TimestampParser.parseCLF) == utcMillis(2026, 12, 31, 18))
    }

    @Test(arguments: Array(zip(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1...12)))
    func everyMonthName(name: String, month: Int) {
        #expect(parseBytes("15/\(name)/2026:00:00:00 +0000", TimestampParser.parseCLF) == utcMillis(2026, month, 15))
        #expect(parseBytes("15/\(name.uppercased())/2026:00:00:00 +0000", TimestampParser.parseCLF) == utcMillis(2026, month, 15))
    }

    @Test(arguments: [
        "10/Oct/2026:13:55:36", "10/Okt/2026:13:55:36 +0800", "10/Sept/2026:13:55:36 +0800", "31/Apr/2026:13:55:36 +0800",
        "29/Feb/2026:13:55:36 +0800", "00/Oct/2026:13:55:36 +0800", "10/Oct/2026:24:55:36 +0800", "10/Oct/2026:13:55:36 08:00",
        "10/Oct/2026 13:55:36 +0800", "[10/Oct/2026:13:55:36 +0800]", "10/Oct/2026:13:55:36 +0860", "1/Oct/2026:13:55:36 +0800",
    ])
    func malformedIsRefused(text: String) {
        #expect(parseBytes(text, TimestampParser.parseCLF) == nil)
    }

    @Test func leapDay() {
        #expect(parseBytes("29/Feb/2028:00:00:00 +0000", TimestampParser.parseCLF) == utcMillis(2028, 2, 29))
    }

    @Test func parseDispatchesCLFText() {
        #expect(TimestampParser.parse("10/Oct/2026:13:55:36 +0800") == utcMillis(2026, 10, 10, 5, 55, 36))
    }
}

@Suite("TimestampParser.formatUTC")
struct FormatUTCTests {
    @Test func formats() {
        #expect(TimestampParser.formatUTC(0) == "1970-01-01T00:00:00.000Z")
        #expect(TimestampParser.formatUTC(utcMillis(2026, 10, 10, 5, 55, 36, 123)) == "2026-10-10T05:55:36.123Z")
        #expect(TimestampParser.formatUTC(-1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func roundTripsThroughTheParser() {
        var rng = SplitMix64(seed: 2026)
        for _ in 0..<2000 {
            let millis = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &rng)
            let text = TimestampParser.formatUTC(millis)
            #expect(TimestampParser.parse(text) == millis, "\(text)")
        }
    }
}
