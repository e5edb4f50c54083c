import CustodyCore

/// A reporting period: `2026`, `2026H2`, `2026Q3` or `2026-07-01..2026-12-31` (inclusive).
public struct ReportPeriod: Sendable, Equatable {
    public var label: String
    public var first: CivilDay
    public var last: CivilDay

    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let range = t.range(of: "..") {
            guard let a = CivilDay(iso: String(t[..<range.lowerBound])), let b = CivilDay(iso: String(t[range.upperBound...])), a <= b
            else { return nil }
            (label, first, last) = (t, a, b)
            return
        }
        guard t.count >= 4, let year = Int(t.prefix(4)), year >= 1970, year <= 9999 else { return nil }
        let rest = t.dropFirst(4)
        let months: (Int, Int)
        switch rest.uppercased() {
        case "": months = (1, 12)
        case "H1": months = (1, 6)
        case "H2": months = (7, 12)
        case "Q1": months = (1, 3)
        case "Q2": months = (4, 6)
        case "Q3": months = (7, 9)
        case "Q4": months = (10, 12)
        default: return nil
        }
        label = t.uppercased()
        first = CivilDay(year: year, month: months.0, day: 1)!
        last = CivilDay(year: year, month: months.1, day: CivilDay.daysIn(month: months.1, year: year))!
    }

    public func contains(_ day: CivilDay) -> Bool { day >= first && day <= last }

    public var days: Int { Int(last.daysSinceEpoch - first.daysSinceEpoch) + 1 }
}
