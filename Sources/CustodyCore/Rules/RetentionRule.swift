/// The retention rule: every calendar day of the window must have at least one record.
public struct RetentionRule: Sendable {
    public let minimumDays: Int
    public let asOf: CivilDay
    public let since: CivilDay?

    public init(minimumDays: Int, asOf: CivilDay, since: CivilDay?) {
        self.minimumDays = minimumDays
        self.asOf = asOf
        self.since = since
    }

    /// First day of the window: `asOf - minimumDays`.
    public var windowStart: CivilDay { asOf.adding(days: -minimumDays) }
    /// Last day of the window: the day before `asOf`.
    public var windowEnd: CivilDay { asOf.adding(days: -1) }
    /// The window's days (days since the epoch), or nil when the policy sets no minimum
    /// (`minimum_days: 0`): then the window is empty and no count is scoped to it.
    public var windowDays: ClosedRange<Int32>? {
        minimumDays > 0 ? windowStart.daysSinceEpoch...windowEnd.daysSinceEpoch : nil
    }

    /// Evaluates coverage given the days that hold records (any order, any extra days).
    public func evaluate(daysWithRecords: Set<Int32>) -> RetentionResult {
        var covered = 0
        var missing: [CivilDay] = []
        var exempt = 0
        var day = windowStart
        while day <= windowEnd {
            if daysWithRecords.contains(day.daysSinceEpoch) {
                covered += 1
            } else if let since, day < since {
                exempt += 1
            } else {
                missing.append(day)
            }
            day = day.adding(days: 1)
        }
        return RetentionResult(
            minimumDays: minimumDays, windowStart: windowStart, windowEnd: windowEnd,
            coveredDays: covered, exemptDays: exempt, missingDays: missing)
    }
}

public struct RetentionResult: Sendable, Equatable {
    public var minimumDays: Int
    public var windowStart: CivilDay
    public var windowEnd: CivilDay
    public var coveredDays: Int
    /// Days before `--since` that hold no records and are not counted as missing.
    public var exemptDays: Int
    public var missingDays: [CivilDay]
    public var compliant: Bool { missingDays.isEmpty }
}
