import CustodyCore
import CustodyTesting
import Foundation
import Testing

@Suite("DayCalendar")
struct DayCalendarTests {
    func dayText(_ calendar: inout DayCalendar, _ iso: String) -> String {
        CivilDay(daysSinceEpoch: calendar.day(ofMillis: TimestampParser.parse(iso)!)).description
    }

    @Test func shanghaiDayBoundary() {
        var calendar = DayCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        #expect(dayText(&calendar, "2026-10-02T15:59:59Z") == "2026-10-02")
        #expect(dayText(&calendar, "2026-10-02T15:59:59.999Z") == "2026-10-02")
        #expect(dayText(&calendar, "2026-10-02T16:00:00Z") == "2026-10-03")
        // Back again: the cached day must not answer for an instant outside it.
        #expect(dayText(&calendar, "2026-10-02T15:59:59.999Z") == "2026-10-02")
        #expect(dayText(&calendar, "2026-10-01T16:00:00Z") == "2026-10-02")
        #expect(dayText(&calendar, "2026-10-01T15:59:59.999Z") == "2026-10-01")
    }

    @Test func newYorkSpringForward() {
        // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT; the local day lasts 23 hours,
        // from 05:00Z on the 8th to 04:00Z on the 9th.
        var calendar = DayCalendar(timeZone: TimeZone(identifier: "America/New_York")!)
        #expect(dayText(&calendar, "2026-03-08T04:59:59.999Z") == "2026-03-07")
        #expect(dayText(&calendar, "2026-03-08T05:00:00Z") == "2026-03-08")
        #expect(dayText(&calendar, "2026-03-08T06:59:59Z") == "2026-03-08")
        #expect(dayText(&calendar, "2026-03-08T07:00:00Z") == "2026-03-08")
        #expect(dayText(&calendar, "2026-03-09T03:59:59.999Z") == "2026-03-08")
        #expect(dayText(&calendar, "2026-03-09T04:00:00Z") == "2026-03-09")
        #expect(dayText(&calendar, "2026-03-09T04:30:00Z") == "2026-03-09")
        #expect(dayText(&calendar, "2026-03-08T04:30:00Z") == "2026-03-07")
    }

    @Test func newYorkFallBack() {
        // 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST; the local day lasts 25 hours,
        // from 04:00Z on the 1st to 05:00Z on the 2nd.
        var calendar = DayCalendar(timeZone: TimeZone(identifier: "America/New_York")!)
        #expect(dayText(&calendar, "2026-11-01T03:59:59.999Z") == "2026-10-31")
        #expect(dayText(&calendar, "2026-11-01T04:00:00Z") == "2026-11-01")
        #expect(dayText(&calendar, "2026-11-02T04:30:00Z") == "2026-11-01")
        #expect(dayText(&calendar, "2026-11-02T04:59:59.999Z") == "2026-11-01")
        #expect(dayText(&calendar, "2026-11-02T05:00:00Z") == "2026-11-02")
        #expect(dayText(&calendar, "2026-11-01T12:00:00Z") == "2026-11-01")
        #expect(dayText(&calendar, "2026-11-02T04:30:00Z") == "2026-11-01")
    }

    @Test func utcBeforeTheEpoch() {
        var calendar = DayCalendar(timeZone: TimeZone(identifier: "UTC")!)
        #expect(calendar.day(ofMillis: -1) == -1)
        #expect(calendar.day(ofMillis: 0) == 0)
        #expect(calendar.day(ofMillis: -86_400_000) == -1)
        #expect(calendar.day(ofMillis: -86_400_001) == -2)
        #expect(calendar.day(ofMillis: 86_399_999) == 0)
    }

    @Test func dayOfDate() {
        var calendar = DayCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        let date = Date(timeIntervalSince1970: TimeInterval(TimestampParser.parse("2026-10-02T16:00:00Z")!) / 1000)
        #expect(calendar.day(of: date).description == "2026-10-03")
    }

    /// One reused calendar (exercising its cache) against Foundation, instant by instant, across
    /// both 2026 DST changes, in forward, backward and shuffled order.
    @Test(arguments: ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Shanghai", "Asia/Kathmandu"])
    func agreesWithFoundationAcrossDSTChanges(zoneName: String) {
        let zone = TimeZone(identifier: zoneName)!
        var foundation = Calendar(identifier: .gregorian)
        foundation.timeZone = zone
        func expected(_ millis: Int64) -> Int32 {
            let date = Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
            let c = foundation.dateComponents([.year, .month, .day], from: date)
            return CivilDay(year: c.year!, month: c.month!, day: c.day!)!.daysSinceEpoch
        }
        var instants: [Int64] = []
        for (start, end) in [("2026-03-06T00:00:00Z", "2026-04-07T00:00:00Z"), ("2026-09-30T00:00:00Z", "2026-11-04T00:00:00Z")] {
            var t = TimestampParser.parse(start)!
            let stop = TimestampParser.parse(end)!
            while t < stop {
                instants.append(t)
                t += 17 * 60_000 + 999
            }
        }
        var rng = SplitMix64(seed: 8)
        for order in [instants, instants.reversed(), instants.shuffled(using: &rng)] {
            var calendar = DayCalendar(timeZone: zone)
            for t in order where calendar.day(ofMillis: t) != expected(t) {
                Issue.record("\(zoneName) \(TimestampParser.formatUTC(t)): \(calendar.day(ofMillis: t)) != \(expected(t))")
                return
            }
        }
    }
}
