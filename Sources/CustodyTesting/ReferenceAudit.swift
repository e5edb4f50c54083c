import CustodyCore

/// A deliberately naive audit over events held in memory: the oracle the streaming pipeline is
/// compared with in tests. Straight from the contract's definitions, no cleverness.
public struct ReferenceAudit: Equatable, Sendable {
    public var records: Int
    public var daysWithRecords: Set<CivilDay>
    public var usersSeen: Int
    public var verifiedUsers: Int
    /// user → number of violating events.
    public var violations: [String: Int]

    public init(events: [ActivityEvent], policy: Policy) {
        records = events.count
        var calendar = DayCalendar(timeZone: policy.timeZone)
        daysWithRecords = Set(events.map { CivilDay(daysSinceEpoch: calendar.day(ofMillis: $0.millis)) })
        var verification: [String: Int64] = [:]
        var users = Set<String>()
        for e in events {
            guard let user = e.user else { continue }
            users.insert(user)
            if policy.role(ofEvent: e.event) == .acceptedVerification {
                verification[user] = min(verification[user] ?? .max, e.millis)
            }
        }
        usersSeen = users.count
        verifiedUsers = verification.count
        var violations: [String: Int] = [:]
        for e in events {
            guard let user = e.user, policy.role(ofEvent: e.event) == .publish else { continue }
            if let v = verification[user], v <= e.millis { continue }
            violations[user, default: 0] += 1
        }
        self.violations = violations
    }
}
