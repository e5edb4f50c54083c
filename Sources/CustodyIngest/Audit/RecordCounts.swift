import CustodyCore

/// What every record adds to a file's audit whatever its user: its day, the time range, and its
/// event's role. One rule for the single pass (`FileAudit.scan`) and the block parsers
/// (`BlockParser`), whose reports must be the same for every `--jobs`.
struct RecordCounts {
    private var calendar: DayCalendar
    private let roles: EventRoleTable
    private var days = DayTally()
    private(set) var earliest = Int64.max
    private(set) var latest = Int64.min

    init(policy: Policy) {
        calendar = DayCalendar(timeZone: policy.timeZone)
        roles = EventRoleTable(policy: policy)
    }

    /// Counts the record's day and time; returns its event's role (nil without an event).
    @inline(__always)
    mutating func count(_ record: ParsedLine) -> EventRole? {
        days.add(calendar.day(ofMillis: record.millis))
        if record.millis < earliest { earliest = record.millis }
        if record.millis > latest { latest = record.millis }
        guard let event = record.event else { return nil }
        return roles.role(of: event, prefix: record.eventPrefix)
    }

    /// Records per day (days since 1970-01-01 in the policy's zone).
    mutating func finishDays() -> [Int32: Int] { days.finish() }

    /// Earliest and latest record time, in Unix milliseconds; nil before any record.
    var timeRange: ClosedRange<Int64>? { earliest <= latest ? earliest...latest : nil }
}
