import CustodyCore
import Testing

@Suite("CivilDay")
struct CivilDayTests {
    @Test func epochIsDayZero() throws {
        let day = try #require(CivilDay(iso: "1970-01-01"))
        #expect(day.daysSinceEpoch == 0)
        #expect(CivilDay(daysSinceEpoch: 0).description == "1970-01-01")
    }

    @Test(arguments: [
        ("1969-12-31", -1), ("1969-01-01", -365), ("1900-03-01", -25_508), ("1600-03-01", -135_080),
        ("0001-01-01", -719_162), ("2000-02-29", 11_016), ("2026-10-02", 20_728), ("9999-12-31", 2_932_896),
    ])
    func knownDays(iso: String, days: Int32) throws {
        let day = try #require(CivilDay(iso: iso))
        #expect(day.daysSinceEpoch == days)
        #expect(CivilDay(daysSinceEpoch: days).description == iso)
    }

    @Test func isoRoundTripOverFourDigitYears() {
        // Every 37th day from 0001-01-01 to 9999-12-31, both directions.
        var d: Int32 = -719_162
        while d <= 2_932_896 {
            let text = CivilDay(daysSinceEpoch: d).description
            #expect(CivilDay(iso: text)?.daysSinceEpoch == d, "\(text)")
            d += 37
        }
    }

    @Test func componentsRoundTripEveryDay() {
        // Integer-only check of every day from 1600 to 2400, including negative day numbers.
        var previous = CivilDay.civilFromDays(-135_081)
        for z in -135_080...157_000 {
            let (y, m, d) = CivilDay.civilFromDays(z)
            if CivilDay.daysFromCivil(year: y, month: m, day: d) != z {
                Issue.record("day \(z) -> \(y)-\(m)-\(d) does not round-trip")
                return
            }
            // Consecutive days step by one day of the calendar.
            let expectedNext =
                previous.day < CivilDay.daysIn(month: previous.month, year: previous.year)
                ? (previous.year, previous.month, previous.day + 1)
                : (previous.month == 12 ? (previous.year + 1, 1, 1) : (previous.year, previous.month + 1, 1))
            if (y, m, d) != expectedNext {
                Issue.record("day \(z) is \(y)-\(m)-\(d), expected \(expectedNext)")
                return
            }
            previous = (y, m, d)
        }
    }

    @Test(arguments: [
        "", "2026-1-01", "2026-01-1", "26-01-01", "2026-13-01", "2026-00-10", "2026-02-29", "2026-02-30", "2026-04-31",
        "20261001", "2026-10-01T00:00:00Z", "2026/10/01", "2026-10-01 ", "abcd-ef-gh", "2026--1-01",
    ])
    func invalidISOIsRefused(text: String) {
        #expect(CivilDay(iso: text) == nil)
    }

    @Test func componentInitValidates() {
        #expect(CivilDay(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDay(year: 2023, month: 2, day: 29) == nil)
        #expect(CivilDay(year: 2026, month: 0, day: 1) == nil)
        #expect(CivilDay(year: 2026, month: 12, day: 32) == nil)
        #expect(CivilDay(year: 2026, month: 6, day: 0) == nil)
        #expect(CivilDay(year: 2026, month: 10, day: 2)?.description == "2026-10-02")
    }

    @Test func addingDaysCrossesMonthsYearsAndLeapDays() throws {
        let day = try #require(CivilDay(iso: "2028-02-28"))
        #expect(day.adding(days: 1).description == "2028-02-29")
        #expect(day.adding(days: 2).description == "2028-03-01")
        #expect(day.adding(days: -59).description == "2027-12-31")
        #expect(day.adding(days: 366).description == "2029-02-28")
        #expect(day.adding(days: 0) == day)
        #expect(CivilDay(daysSinceEpoch: 0).adding(days: -1).description == "1969-12-31")
        #expect(try #require(CivilDay(iso: "2026-11-26")).adding(days: -60).description == "2026-09-27")
    }

    @Test func ordering() throws {
        let a = try #require(CivilDay(iso: "1969-12-31"))
        let b = try #require(CivilDay(iso: "1970-01-01"))
        let c = try #require(CivilDay(iso: "2026-10-02"))
        #expect(a < b && b < c)
        #expect([c, a, b].sorted() == [a, b, c])
        #expect(!(b < b))
    }

    @Test func leapYearRule() {
        #expect(CivilDay.isLeap(2000))
        #expect(CivilDay.isLeap(2028))
        #expect(!CivilDay.isLeap(1900))
        #expect(!CivilDay.isLeap(2026))
        #expect(CivilDay.daysIn(month: 2, year: 2000) == 29)
        #expect(CivilDay.daysIn(month: 2, year: 2100) == 28)
        #expect(CivilDay.daysIn(month: 9, year: 2026) == 30)
        #expect(CivilDay.daysIn(month: 12, year: 2026) == 31)
    }

    /// `Int("+026")` is 26, so a sign passes the four-character check.
    @Test
    func signedYearIsRefused() {
        #expect(CivilDay(iso: "+026-10-01") == nil)
        #expect(CivilDay(iso: "2026-+1-01") == nil)
    }
}
