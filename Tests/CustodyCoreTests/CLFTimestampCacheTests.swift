import CustodyCore
import CustodyTesting
import Testing

@Suite("CLFTimestampCache gives parseCLF's answers")
struct CLFTimestampCacheTests {
    private func parse(_ cache: inout CLFTimestampCache, _ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { cache.parse($0) }
    }

    private func full(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { TimestampParser.parseCLF($0) }
    }

    @Test func theRememberedMinuteInAnotherZoneOrDayIsAnotherInstant() {
        var cache = CLFTimestampCache()
        #expect(parse(&cache, "10/Oct/2026:13:55:36 +0800") == utcMillis(2026, 10, 10, 5, 55, 36))
        #expect(parse(&cache, "10/Oct/2026:13:55:40 +0800") == utcMillis(2026, 10, 10, 5, 55, 40))
        #expect(parse(&cache, "10/Oct/2026:13:55:40 +0900") == utcMillis(2026, 10, 10, 4, 55, 40))
        #expect(parse(&cache, "10/Oct/2026:13:55:40 -0900") == utcMillis(2026, 10, 10, 22, 55, 40))
        #expect(parse(&cache, "11/Oct/2026:13:55:40 -0900") == utcMillis(2026, 10, 11, 22, 55, 40))
        #expect(parse(&cache, "11/Oct/2026:13:56:40 -0900") == utcMillis(2026, 10, 11, 22, 56, 40))
    }

    /// A fresh cache remembers nothing: a time of NUL bytes around two digits (which the zeroed
    /// remembered words would match) is rejected as `parseCLF` rejects it.
    @Test func aFreshCacheMatchesNothing() {
        var cache = CLFTimestampCache()
        var bytes = [UInt8](repeating: 0, count: 26)
        bytes[18] = 0x30
        bytes[19] = 0x37
        #expect(bytes.withUnsafeBufferPointer { TimestampParser.parseCLF($0) } == nil)
        #expect(bytes.withUnsafeBufferPointer { cache.parse($0) } == nil)
    }

    @Test func aRememberedMinuteStillChecksTheSeconds() {
        var cache = CLFTimestampCache()
        #expect(parse(&cache, "10/Oct/2026:13:55:36 +0800") != nil)
        #expect(parse(&cache, "10/Oct/2026:13:55:61 +0800") == nil)
        #expect(parse(&cache, "10/Oct/2026:13:55:3x +0800") == nil)
        #expect(parse(&cache, "10/Oct/2026:13:55:/6 +0800") == nil)
        #expect(parse(&cache, "10/Oct/2026:13:55:60 +0800") == utcMillis(2026, 10, 10, 5, 56, 0))
        #expect(parse(&cache, "10/Oct/2026:13:55:36 +0800 ") == nil)
        #expect(parse(&cache, "10/Oct/2026:13:55:36+0800") == nil)
    }

    /// Mutated timestamps, mostly sharing everything but a byte or two with the one before: every
    /// answer, in order, must be `parseCLF`'s.
    @Test func agreesWithParseCLFOnMutatedSequences() {
        var random = SplitMix64(seed: 2611)
        let seeds = [
            "10/Oct/2026:13:55:36 +0800", "29/Feb/2024:23:59:59 -0530", "31/Dec/2026:23:59:60 +0000",
            "01/jan/2026:00:00:00 +1400", "30/Feb/2026:10:00:00 +0800",
        ]
        let alphabet = Array("0123456789:/+- JanFebOctDecx".utf8)
        var cache = CLFTimestampCache()
        var previous = Array(seeds[0].utf8)
        var disagreements: [String] = []
        var parsed = 0
        for _ in 0..<60_000 {
            var bytes =
                Int.random(in: 0..<4, using: &random) == 0
                ? Array(seeds[Int.random(in: 0..<seeds.count, using: &random)].utf8) : previous
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<8, using: &random) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &random)], at: at)
                default: bytes[at] = alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                }
                if bytes.isEmpty { bytes = Array(seeds[0].utf8) }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let expected = full(text)
            if parse(&cache, text) != expected { disagreements.append(text) }
            if expected != nil {
                previous = bytes
                parsed += 1
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        // The sequence must really exercise the remembered minute, not only full parses.
        #expect(parsed > 10_000)
    }

    /// A clock moving on by up to a few minutes a line, through hours, days, month and year ends
    /// and a leap day, with now and then an hour, minute or separator that `parseCLF` refuses
    /// (`24`, `60`, `2x`, `;`) or another zone: another minute of the remembered day is read
    /// from its hours and minutes, and every answer must still be `parseCLF`'s.
    @Test func agreesWithParseCLFOnAMovingClock() {
        var random = SplitMix64(seed: 1519)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var cache = CLFTimestampCache()
        var seconds = 1_709_100_000  // 28 Feb 2024
        var disagreements: [String] = []
        var parsed = 0
        for _ in 0..<60_000 {
            seconds += Int.random(in: 0...240, using: &random)
            let day = CivilDay(daysSinceEpoch: Int32(seconds / 86_400)).components
            let s = seconds % 86_400
            let zone = Int.random(in: 0..<50, using: &random) == 0 ? "-0530" : "+0800"
            var bytes = Array(
                "\(two(day.day))/\(months[day.month - 1])/\(day.year):\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60)) \(zone)".utf8)
            if Int.random(in: 0..<10, using: &random) == 0 {
                let at = [12, 13, 14, 15, 16, 17, 18, 19][Int.random(in: 0..<8, using: &random)]
                bytes[at] = Array("2469x;:".utf8)[Int.random(in: 0..<7, using: &random)]
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let expected = full(text)
            if parse(&cache, text) != expected { disagreements.append(text) }
            if expected != nil { parsed += 1 }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(parsed > 50_000)
    }
}
