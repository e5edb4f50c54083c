import CustodyCore
import CustodyTesting
import Testing

@Suite("ISOTimestampCache gives parseISO's answers")
struct ISOTimestampCacheTests {
    private func parse(_ cache: inout ISOTimestampCache, _ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { cache.parse($0) }
    }

    @Test func theSameMinuteInAnotherZoneIsAnotherInstant() {
        var cache = ISOTimestampCache()
        #expect(parse(&cache, "2026-10-10T13:55:36+08:00") == utcMillis(2026, 10, 10, 5, 55, 36))
        #expect(parse(&cache, "2026-10-10T13:55:40+08:00") == utcMillis(2026, 10, 10, 5, 55, 40))
        #expect(parse(&cache, "2026-10-10T13:55:40+09:00") == utcMillis(2026, 10, 10, 4, 55, 40))
        #expect(parse(&cache, "2026-10-10T13:55:40+0900") == utcMillis(2026, 10, 10, 4, 55, 40))
        #expect(parse(&cache, "2026-10-10T13:55:40Z") == utcMillis(2026, 10, 10, 13, 55, 40))
    }

    @Test func aRememberedMinuteStillChecksTheSecondsAndTheZone() {
        var cache = ISOTimestampCache()
        #expect(parse(&cache, "2026-10-10T13:55:36.250+08:00") == utcMillis(2026, 10, 10, 5, 55, 36) + 250)
        #expect(parse(&cache, "2026-10-10T13:55:61.250+08:00") == nil)
        #expect(parse(&cache, "2026-10-10T13:55:3x.250+08:00") == nil)
        #expect(parse(&cache, "2026-10-10T13:55:36.+08:00") == nil)
        #expect(parse(&cache, "2026-10-10T13:55:36.250+08:0") == nil)
        #expect(parse(&cache, "2026-10-10T13:55:36.250+08:00 ") == nil)
        #expect(parse(&cache, "2026-10-10T13:55:60+08:00") == utcMillis(2026, 10, 10, 5, 56, 0))
    }

    /// Mutated timestamps, mostly sharing a prefix with the one before: every answer, in order,
    /// must be `parseISO`'s.
    @Test func agreesWithParseISOOnMutatedSequences() {
        var random = SplitMix64(seed: 2026)
        let seeds = [
            "2026-10-10T13:55:36.123+08:00", "2026-10-10T13:55:36Z", "2026-02-28T23:59:59,5-05:30",
            "2024-02-29 00:00:00+0545", "2026-10-10t05:55:36z", "2026-12-31T23:59:60.999999-00:00",
        ]
        let alphabet = Array("0123456789:-+.,TZtz x".utf8)
        var cache = ISOTimestampCache()
        var previous = Array(seeds[0].utf8)
        var disagreements: [String] = []
        for _ in 0..<50_000 {
            var bytes =
                Int.random(in: 0..<4, using: &random) == 0
                ? Array(seeds[Int.random(in: 0..<seeds.count, using: &random)].utf8) : previous
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &random)], at: at)
                default: bytes[at] = alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                }
                if bytes.isEmpty { bytes = Array(seeds[0].utf8) }
            }
            let expected = bytes.withUnsafeBufferPointer { TimestampParser.parseISO($0) }
            let cached = bytes.withUnsafeBufferPointer { cache.parse($0) }
            if cached != expected { disagreements.append(String(decoding: bytes, as: UTF8.self)) }
            if expected != nil { previous = bytes }
        }
        #expect(disagreements.isEmpty, "first: \(disagreements.prefix(5))")
    }

    /// A clock moving on by up to a few minutes a line, through hours, days, month and year ends
    /// and a leap day, with now and then an hour, minute or separator that `parseISO` refuses
    /// (`24`, `60`, `2x`, `;`) or another zone or form: another minute of the remembered day is
    /// read from its hours and minutes, and every answer must still be `parseISO`'s.
    @Test func agreesWithParseISOOnAMovingClock() {
        var random = SplitMix64(seed: 1520)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var cache = ISOTimestampCache()
        var seconds = 1_709_100_000  // 28 Feb 2024
        var disagreements: [String] = []
        var parsed = 0
        for _ in 0..<60_000 {
            seconds += Int.random(in: 0...240, using: &random)
            let day = CivilDay(daysSinceEpoch: Int32(seconds / 86_400)).components
            let s = seconds % 86_400
            let zone = ["+08:00", "+08:00", "+08:00", "Z", "-05:30", "+0800"][Int.random(in: 0..<6, using: &random)]
            let separator = Int.random(in: 0..<20, using: &random) == 0 ? " " : "T"
            let fraction = Int.random(in: 0..<10, using: &random) == 0 ? "" : ".\(Int.random(in: 100...999, using: &random))"
            var bytes = Array(
                "\(day.year)-\(two(day.month))-\(two(day.day))\(separator)\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))\(fraction)\(zone)"
                    .utf8)
            if Int.random(in: 0..<10, using: &random) == 0 {
                let at = [10, 11, 12, 13, 14, 15, 16][Int.random(in: 0..<7, using: &random)]
                bytes[at] = Array("2469x;:t".utf8)[Int.random(in: 0..<8, using: &random)]
            }
            let expected = bytes.withUnsafeBufferPointer { TimestampParser.parseISO($0) }
            let cached = bytes.withUnsafeBufferPointer { cache.parse($0) }
            if cached != expected { disagreements.append(String(decoding: bytes, as: UTF8.self)) }
            if expected != nil { parsed += 1 }
        }
        #expect(disagreements.isEmpty, "first: \(disagreements.prefix(5))")
        #expect(parsed > 50_000)
    }
}
