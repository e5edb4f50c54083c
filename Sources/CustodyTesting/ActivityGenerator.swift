import CustodyCore

/// Generates realistic, deterministic app activity: users register, verify by phone or identity
/// document, then browse and publish. A chosen number of users publish before verifying (some
/// verify later, some never), and chosen days can be left without any record.
public struct ActivityGenerator: Sendable {
    public struct Scenario: Sendable {
        public var firstDay: CivilDay
        public var days: Int
        public var users: Int
        public var eventsPerDay: Int
        public var seed: UInt64
        /// Users who publish before verifying and verify later.
        public var lateVerifiers: Int
        /// Users who publish and never verify.
        public var neverVerified: Int
        /// Days with no record at all.
        public var silentDays: Set<CivilDay>
        /// Offset of the app's local time from UTC, in seconds (China: +8 h).
        public var utcOffsetSeconds: Int
        /// Share of events with no user (anonymous browsing), in percent.
        public var anonymousPercent: Int

        public init(
            firstDay: CivilDay, days: Int, users: Int, eventsPerDay: Int, seed: UInt64 = 1,
            lateVerifiers: Int = 0, neverVerified: Int = 0, silentDays: Set<CivilDay> = [],
            utcOffsetSeconds: Int = 8 * 3600, anonymousPercent: Int = 5
        ) {
            self.firstDay = firstDay
            self.days = days
            self.users = users
            self.eventsPerDay = eventsPerDay
            self.seed = seed
            self.lateVerifiers = lateVerifiers
            self.neverVerified = neverVerified
            self.silentDays = silentDays
            self.utcOffsetSeconds = utcOffsetSeconds
            self.anonymousPercent = anonymousPercent
        }
    }

    public static let browseEvents = ["view", "view", "view", "search", "like", "login", "follow"]
    public static let publishEvents = ["post", "comment", "message", "upload", "live_start"]

    public let scenario: Scenario

    public init(_ scenario: Scenario) { self.scenario = scenario }

    public static func userName(_ index: Int) -> String {
        let s = String(index + 1)
        return "u" + String(repeating: "0", count: max(0, 5 - s.count)) + s
    }

    /// All events, sorted by time (ties in generation order).
    public func events() -> [ActivityEvent] {
        var rng = SplitMix64(seed: scenario.seed)
        let s = scenario
        let dayMillis: Int64 = 86_400_000
        let offset = Int64(s.utcOffsetSeconds) * 1000
        // Local midnight of the first day, as a UTC instant.
        let start = Int64(s.firstDay.daysSinceEpoch) * dayMillis - offset
        func isSilent(_ millis: Int64) -> Bool {
            let day = CivilDay(daysSinceEpoch: Int32((millis + offset).floorDiv(dayMillis)))
            return s.silentDays.contains(day)
        }
        func randomTime(onDay day: Int) -> Int64 {
            start + Int64(day) * dayMillis + Int64.random(in: 0..<dayMillis, using: &rng)
        }

        var events: [ActivityEvent] = []
        events.reserveCapacity(s.days * s.eventsPerDay + s.users * 4)
        var registeredAt = [Int64](repeating: 0, count: s.users)
        var verifiedAt = [Int64?](repeating: nil, count: s.users)
        let registrationSpan = max(1, s.days * 3 / 10)
        for u in 0..<s.users {
            let name = Self.userName(u)
            var t = randomTime(onDay: Int.random(in: 0..<registrationSpan, using: &rng))
            while isSilent(t) { t += dayMillis }
            registeredAt[u] = t
            events.append(ActivityEvent(millis: t, user: name, event: "register"))
            let method = Bool.random(using: &rng) ? "verify_phone" : "verify_id"
            let late = u < s.lateVerifiers
            let never = !late && u < s.lateVerifiers + s.neverVerified
            if late || never {
                // Planted: publish within the first hour after registering, before any verification.
                let first = t + Int64.random(in: 1_000..<3_600_000, using: &rng)
                if !isSilent(first) { events.append(ActivityEvent(millis: first, user: name, event: "post")) }
            }
            if !never {
                var v = t + Int64.random(in: 1_000..<600_000, using: &rng)
                if late { v = t + 2 * dayMillis + Int64.random(in: 0..<dayMillis, using: &rng) }
                while isSilent(v) { v += dayMillis }
                verifiedAt[u] = v
                events.append(ActivityEvent(millis: v, user: name, event: method))
            }
        }
        for day in 0..<s.days {
            for _ in 0..<s.eventsPerDay {
                let t = randomTime(onDay: day)
                if isSilent(t) { continue }
                if Int.random(in: 0..<100, using: &rng) < s.anonymousPercent {
                    events.append(ActivityEvent(millis: t, user: nil, event: "view"))
                    continue
                }
                let u = Int.random(in: 0..<s.users, using: &rng)
                let name = Self.userName(u)
                if t < registeredAt[u] {
                    events.append(ActivityEvent(millis: t, user: nil, event: "view"))
                    continue
                }
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    // Honest apps let only verified users publish; the planted users are the exceptions above.
                    if let v = verifiedAt[u], t >= v {
                        events.append(ActivityEvent(millis: t, user: name, event: Self.publishEvents.randomElement(using: &rng)!))
                        continue
                    }
                }
                events.append(ActivityEvent(millis: t, user: name, event: Self.browseEvents.randomElement(using: &rng)!))
            }
        }
        // Stable sort by time keeps generation order for equal times.
        return events.enumerated().sorted { ($0.element.millis, $0.offset) < ($1.element.millis, $1.offset) }.map(\.element)
    }
}

extension Int64 {
    func floorDiv(_ b: Int64) -> Int64 {
        let q = self / b
        return (self % b != 0 && (self < 0) != (b < 0)) ? q - 1 : q
    }
}
