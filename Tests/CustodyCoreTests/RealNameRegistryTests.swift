import CustodyCore
import CustodyTesting
import Testing

/// One user's publish events and verifications in one file, as a log would hold them.
struct UserFileLog {
    var user: String
    var file: Int32
    /// Publish times; line numbers are their positions (1-based) in this list.
    var publishes: [Int64]
    var verifications: [Int64] = []
    /// Whether the verification line comes before the publish lines in the file.
    var verificationFirst = false

    /// What `FileAudit` would report: publishes not covered by this file's own verification.
    var activity: UserFileActivity {
        let v = verifications.min()
        // FileAudit drops a publish covered by a verification on an earlier line, and prunes the
        // rest once the file is read.
        let covered = verificationFirst ? (v ?? .max) : .max
        var pending = PendingPublishes()
        var first: EventLocation?
        for (i, t) in publishes.enumerated() where t < covered {
            pending.add(t)
            let location = EventLocation(millis: t, file: file, line: i + 1)
            if first.map({ location < $0 }) ?? true { first = location }
        }
        if let v { pending.prune(verifiedAt: v) }
        return UserFileActivity(user: user, verifiedAt: v, pending: pending, firstPending: first)
    }
}

/// The rule straight from its definition, and the recounts a file re-read would give.
struct RealNameOracle {
    var logs: [UserFileLog]

    func verification(of user: String) -> Int64? { logs.filter { $0.user == user }.flatMap(\.verifications).min() }

    func violations() -> [String: Int] {
        var result: [String: Int] = [:]
        for log in logs {
            let v = verification(of: log.user) ?? .max
            let n = log.publishes.filter { $0 < v }.count
            if n > 0 { result[log.user, default: 0] += n }
        }
        return result
    }

    func firstViolation(of user: String) -> EventLocation? {
        let v = verification(of: user) ?? .max
        return logs.filter { $0.user == user }.flatMap { log in
            log.publishes.enumerated().filter { $0.element < v }.map {
                EventLocation(millis: $0.element, file: log.file, line: $0.offset + 1)
            }
        }.min()
    }

    func recounts(_ needed: [RealNameRegistry.Recount]) -> [RealNameRegistry.Recount: Int] {
        var result: [RealNameRegistry.Recount: Int] = [:]
        for r in needed {
            result[r] = logs.filter { $0.file == r.file && $0.user == r.user }.flatMap(\.publishes).filter { $0 < r.verifiedAt }.count
        }
        return result
    }

    /// Merges the files in `order` and settles the rule, recounting where the registry asks.
    /// With `distinct`, a file whose users are all different is merged as a file's audit is
    /// (`distinctUsers`: the first such merge takes the names without looking them up).
    func run(order: [Int32], distinct: Bool = false) -> (RealNameResult, [RealNameRegistry.Recount]) {
        var registry = RealNameRegistry()
        for file in order {
            let activities = logs.filter { $0.file == file }.map(\.activity)
            let unique = Set(activities.map(\.user)).count == activities.count
            registry.merge(fileIndex: file, activities: activities, distinctUsers: distinct && unique)
        }
        let needed = registry.recountsNeeded()
        return (registry.result(recounted: recounts(needed)), needed)
    }
}

func permutations<T>(_ items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    return items.indices.flatMap { i -> [[T]] in
        var rest = items
        let head = rest.remove(at: i)
        return permutations(rest).map { [head] + $0 }
    }
}

@Suite("RealNameRegistry")
struct RealNameRegistryTests {
    func check(_ oracle: RealNameOracle, sourceLocation: SourceLocation = #_sourceLocation) {
        let files = Array(Set(oracle.logs.map(\.file))).sorted()
        let expected = oracle.violations()
        var first: RealNameResult?
        for order in permutations(files) {
            let (result, _) = oracle.run(order: order)
            #expect(
                Dictionary(uniqueKeysWithValues: result.violatingUsers.map { ($0.user, $0.events) }) == expected,
                "order \(order)", sourceLocation: sourceLocation)
            #expect(result.violatingEvents == expected.values.reduce(0, +), sourceLocation: sourceLocation)
            for user in result.violatingUsers {
                #expect(user.first == oracle.firstViolation(of: user.user), "order \(order)", sourceLocation: sourceLocation)
                #expect(user.verifiedAt == oracle.verification(of: user.user), sourceLocation: sourceLocation)
            }
            if let first { #expect(result == first, "order \(order)", sourceLocation: sourceLocation) }
            first = result
            // Merged as files' audits are: the same result and recounts.
            let (distinct, distinctRecounts) = oracle.run(order: order, distinct: true)
            #expect(distinct == result, "order \(order), distinct users", sourceLocation: sourceLocation)
            #expect(Set(distinctRecounts) == Set(oracle.run(order: order).1), sourceLocation: sourceLocation)
        }
    }

    @Test func verificationInALaterMergedFile() {
        let oracle = RealNameOracle(logs: [
            UserFileLog(user: "alice", file: 0, publishes: [100, 200, 300]),
            UserFileLog(user: "alice", file: 1, publishes: [], verifications: [250]),
        ])
        let (result, recounts) = oracle.run(order: [0, 1])
        #expect(recounts.isEmpty)
        #expect(result.usersSeen == 1)
        #expect(result.verifiedUsers == 1)
        #expect(result.violatingUsers.count == 1)
        #expect(result.violatingUsers.first?.events == 2)
        #expect(result.violatingUsers.first?.first == EventLocation(millis: 100, file: 0, line: 1))
        #expect(result.violatingUsers.first?.verifiedAt == 250)
        #expect(result.violatingEvents == 2)
        #expect(!result.compliant)
        check(oracle)
    }

    @Test func publishAtExactlyTheVerificationTimeIsNotViolating() {
        let oracle = RealNameOracle(logs: [
            UserFileLog(user: "bob", file: 0, publishes: [500]),
            UserFileLog(user: "bob", file: 1, publishes: [500], verifications: [500]),
            UserFileLog(user: "bob", file: 2, publishes: [], verifications: [700]),
        ])
        let (result, _) = oracle.run(order: [0, 1, 2])
        #expect(result.violatingUsers.isEmpty)
        #expect(result.verifiedUsers == 1)
        #expect(result.compliant)
        check(oracle)
    }

    @Test func oneMillisecondBeforeVerificationIsViolating() {
        let oracle = RealNameOracle(logs: [
            UserFileLog(user: "bob", file: 0, publishes: [499, 500, 501]),
            UserFileLog(user: "bob", file: 1, publishes: [], verifications: [500]),
        ])
        let (result, _) = oracle.run(order: [1, 0])
        #expect(result.violatingEvents == 1)
        #expect(result.violatingUsers.first?.first.millis == 499)
        check(oracle)
    }

    @Test func neverVerifiedUserViolatesWithEveryPublish() {
        let oracle = RealNameOracle(logs: [
            UserFileLog(user: "carol", file: 0, publishes: [10, 20]),
            UserFileLog(user: "carol", file: 1, publishes: [5]),
            UserFileLog(user: "dave", file: 1, publishes: []),
        ])
        let (result, _) = oracle.run(order: [0, 1])
        #expect(result.usersSeen == 2)
        #expect(result.verifiedUsers == 0)
        #expect(result.violatingUsers.map(\.user) == ["carol"])
        #expect(result.violatingUsers.first?.events == 3)
        #expect(result.violatingUsers.first?.verifiedAt == nil)
        #expect(result.violatingUsers.first?.first == EventLocation(millis: 5, file: 1, line: 1))
        check(oracle)
    }

    @Test func recountForASpanStraddlingTheVerification() throws {
        // 10 publishes before and 10 after the verification, in a file without it: more than
        // PendingPublishes keeps exactly, so only a recount of that file can settle the count.
        let before = (0..<10).map { Int64(1_000 + $0 * 10) }
        let after = (0..<10).map { Int64(5_000 + $0 * 10) }
        let oracle = RealNameOracle(logs: [
            UserFileLog(user: "erin", file: 0, publishes: before + after),
            UserFileLog(user: "erin", file: 1, publishes: [], verifications: [3_000]),
        ])
        var registry = RealNameRegistry()
        registry.merge(fileIndex: 0, activities: [oracle.logs[0].activity])
        registry.merge(fileIndex: 1, activities: [oracle.logs[1].activity])
        let needed = registry.recountsNeeded()
        let recount = try #require(needed.first)
        #expect(needed.count == 1)
        #expect(recount.file == 0 && recount.user == "erin" && recount.verifiedAt == 3_000)
        let result = registry.result(recounted: [recount: 10])
        #expect(result.violatingEvents == 10)
        #expect(result.violatingUsers.first?.first == EventLocation(millis: 1_000, file: 0, line: 1))
        // The recounted number is what the result uses.
        #expect(registry.result(recounted: [recount: 4]).violatingEvents == 4)
        check(oracle)
    }

    @Test func spansWhollyBeforeOrAfterNeedNoRecount() {
        let oracle = RealNameOracle(logs: [
            UserFileLog(user: "frank", file: 0, publishes: (0..<12).map { Int64($0) }),
            UserFileLog(user: "frank", file: 1, publishes: (0..<12).map { Int64(10_000 + $0) }),
            UserFileLog(user: "frank", file: 2, publishes: [], verifications: [5_000]),
        ])
        for order in permutations([Int32(0), 1, 2]) {
            let (result, recounts) = oracle.run(order: order)
            #expect(recounts.isEmpty, "order \(order)")
            #expect(result.violatingEvents == 12, "order \(order)")
        }
        check(oracle)
    }

    @Test func exactTimesOverflowingIntoSpans() {
        // Three files of six publishes each (three before the verification): exact per file, but
        // more than the registry keeps exactly per user once merged.
        var logs: [UserFileLog] = []
        for f in 0..<3 {
            let base = Int64(f * 100)
            let publishes: [Int64] = [base, base + 1, base + 2, base + 10_003, base + 10_004, base + 10_005]
            logs.append(UserFileLog(user: "gina", file: Int32(f), publishes: publishes))
        }
        logs.append(UserFileLog(user: "gina", file: 3, publishes: [], verifications: [5_000]))
        let oracle = RealNameOracle(logs: logs)
        #expect(oracle.violations() == ["gina": 9])
        check(oracle)
    }

    @Test func laterFileWithAnEarlierVerificationCoversPendingEvents() {
        let oracle = RealNameOracle(logs: [
            UserFileLog(user: "hank", file: 0, publishes: [], verifications: [9_000]),
            UserFileLog(user: "hank", file: 1, publishes: (0..<20).map { Int64(1_000 + $0 * 300) }),
            UserFileLog(user: "hank", file: 2, publishes: [50], verifications: [2_000]),
        ])
        #expect(oracle.violations() == ["hank": 5])
        check(oracle)
    }

    @Test func usersWithoutPublishesAreSeen() {
        var registry = RealNameRegistry()
        registry.merge(
            fileIndex: 0,
            activities: [
                UserFileActivity(user: "a", verifiedAt: nil, pending: PendingPublishes(), firstPending: nil),
                UserFileActivity(user: "b", verifiedAt: 10, pending: PendingPublishes(), firstPending: nil),
            ])
        registry.merge(
            fileIndex: 1,
            activities: [
                UserFileActivity(user: "a", verifiedAt: nil, pending: PendingPublishes(), firstPending: nil)
            ])
        #expect(registry.usersSeen == 2)
        let result = registry.result()
        #expect(result.usersSeen == 2)
        #expect(result.verifiedUsers == 1)
        #expect(result.compliant)
    }

    /// Enough users to grow the registry's user table several times, with names of every
    /// length it stores differently (up to eight UTF-8 bytes as a word, longer ones hashed),
    /// long names sharing their first eight bytes, and non-ASCII names.
    @Test func manyUsersWithNamesOfEveryShape() {
        var rng = SplitMix64(seed: 99)
        let shapes: [(Int) -> String] = [
            { "\($0)" }, { "u\($0)" }, { String(format: "%08d", $0) }, { String(format: "user-%06d", $0) },
            { "same-prefix-\($0)" }, { "用户\($0)" }, { String(repeating: "x", count: 40) + "\($0)" },
        ]
        var logs: [UserFileLog] = []
        for u in 0..<1200 {
            let name = shapes[u % shapes.count](u)
            for f in 0..<3 where Int.random(in: 0..<3, using: &rng) > 0 {
                let publishes = (0..<Int.random(in: 0...2, using: &rng)).map { _ in Int64.random(in: 0..<60, using: &rng) * 10 }
                let verifications = Int.random(in: 0..<3, using: &rng) == 0 ? [Int64.random(in: 0..<60, using: &rng) * 10] : []
                logs.append(UserFileLog(user: name, file: Int32(f), publishes: publishes, verifications: verifications))
            }
        }
        #expect(Set(logs.map(\.user)).count > 1000)
        check(RealNameOracle(logs: logs))
        let (result, _) = RealNameOracle(logs: logs).run(order: [2, 0, 1])
        #expect(result.usersSeen == Set(logs.map(\.user)).count)
        #expect(result.verifiedUsers == Set(logs.filter { !$0.verifications.isEmpty }.map(\.user)).count)
    }

    /// Merges larger than the user table's lookup batches (4,096 names): each user counted
    /// once, whatever the order and the overlap between files.
    @Test func largeMergesCountEachUserOnce() {
        func activity(_ n: Int, verifiedAt: Int64? = nil) -> UserFileActivity {
            UserFileActivity(
                user: n % 3 == 0 ? "long-user-name-\(n)" : "u\(n)", verifiedAt: verifiedAt, pending: PendingPublishes(), firstPending: nil)
        }
        var registry = RealNameRegistry()
        registry.merge(fileIndex: 0, activities: (0..<10_000).map { activity($0) })
        registry.merge(fileIndex: 1, activities: (5_000..<15_000).reversed().map { activity($0, verifiedAt: Int64($0)) })
        #expect(registry.usersSeen == 15_000)
        let result = registry.result()
        #expect(result.usersSeen == 15_000)
        #expect(result.verifiedUsers == 10_000)
    }

    /// Room reserved ahead for none, some, all or more than all users: the same result as
    /// without it (the closing audit reserves for the state's users).
    @Test(arguments: [0, 100, 15_000, 40_000])
    func reservingAheadChangesNothing(users: Int) {
        func activity(_ n: Int, file: Int32, verifiedAt: Int64? = nil) -> UserFileActivity {
            let pending =
                n % 4 == 0 ? PendingPublishes(count: 1, earliest: Int64(n), latest: Int64(n), exact: [Int64(n)]) : PendingPublishes()
            return UserFileActivity(
                user: n % 3 == 0 ? "long-user-name-\(n)" : "u\(n)", verifiedAt: verifiedAt, pending: pending,
                firstPending: n % 4 == 0 ? EventLocation(millis: Int64(n), file: file, line: n) : nil)
        }
        func merged(reserving: Int?) -> RealNameResult {
            var registry = RealNameRegistry()
            if let reserving { registry.reserveCapacity(users: reserving) }
            for start in stride(from: 0, to: 10_000, by: 1_000) {
                registry.merge(fileIndex: 0, activities: (start..<start + 1_000).map { activity($0, file: 0) })
            }
            registry.merge(fileIndex: 1, activities: (5_000..<15_000).reversed().map { activity($0, file: 1, verifiedAt: Int64($0 / 2)) })
            return registry.result()
        }
        let plain = merged(reserving: nil)
        let reserved = merged(reserving: users)
        #expect(reserved.usersSeen == 15_000)
        #expect(reserved == plain)
    }

    /// Random users, files and times: every merge order gives the result the definition gives.
    @Test(arguments: 1...12)
    func mergeOrderIndependence(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let fileCount = Int.random(in: 2...5, using: &rng)
        var logs: [UserFileLog] = []
        for u in 0..<4 {
            for f in 0..<fileCount where Int.random(in: 0..<4, using: &rng) > 0 {
                // Few or many publishes (exact or span), times clustered so that ties and
                // straddling spans are common.
                let count = [0, 1, 3, 8, 9, 12, 20].randomElement(using: &rng)!
                let publishes = (0..<count).map { _ in Int64.random(in: 0..<60, using: &rng) * 10 }
                let verifications = Int.random(in: 0..<3, using: &rng) == 0 ? [Int64.random(in: 0..<60, using: &rng) * 10] : []
                logs.append(
                    UserFileLog(
                        user: "u\(u)", file: Int32(f), publishes: publishes, verifications: verifications,
                        verificationFirst: Bool.random(using: &rng)))
            }
        }
        check(RealNameOracle(logs: logs))
    }
}
