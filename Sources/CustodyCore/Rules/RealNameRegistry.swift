import CPrefetch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real-name rule over all inputs: merges what each file says about each user, in any order,
/// and settles who published before verifying.
///
/// Memory grows with users (12 bytes and a name each, more for users with uncovered publish
/// events) and, briefly, with files whose publish events are not yet known to be covered;
/// never with events.
public struct RealNameRegistry: Sendable {
    struct Span: Sendable {
        var file: Int32
        var count: Int
        var earliest: Int64
        var latest: Int64
    }

    /// A user's publish events not (yet) covered by their verification time, and the first of
    /// them: kept only for users who have some (`uncoveredIndex`).
    struct Uncovered: Sendable {
        /// Exact times of publish events not (yet) covered.
        var exact: [Int64] = []
        /// Per-file spans of uncovered publish events too many to keep exactly.
        var spans: [Span] = []
        var firstPending: EventLocation?

        mutating func cover(by verifiedAt: Int64) {
            // removeAll(where:) on an empty array still makes it unique (an allocation).
            if !exact.isEmpty { exact.removeAll { $0 >= verifiedAt } }
            if !spans.isEmpty { spans.removeAll { $0.earliest >= verifiedAt } }
        }
    }

    /// A file that must be re-read to count one user's publish events before `verifiedAt`.
    public struct Recount: Hashable, Sendable {
        public var file: Int32
        public var user: String
        public var verifiedAt: Int64
    }

    // Per user, by id (see `UserIndex`): 12 bytes for every user, more only for those with
    // uncovered publish events (with 500,000 users, a 64-byte entry each was 33 MB).
    private var users = UserIndex()
    /// Earliest accepted verification; `.max` for none.
    private var verifiedAt: [Int64] = []
    /// Index into `uncovered`, or -1.
    private var uncoveredIndex: [Int32] = []
    private var uncovered: [Uncovered] = []

    public init() {}

    /// A registry whose users are `index`'s names, with their ids there, each seen and nothing
    /// more known of them yet: `merge(user:…)` then folds in what is known of each, by id. For a
    /// caller that holds its users' names indexed already (the closing audit of `custody run`
    /// takes the state writer's, checked name by name against the rows it reads), so that they
    /// are not hashed again (500,000 names: the largest single cost of that audit).
    public init(seenUsers index: consuming UserIndex) {
        verifiedAt = Array(repeating: .max, count: index.count)
        uncoveredIndex = Array(repeating: -1, count: index.count)
        users = index
    }

    public var usersSeen: Int { verifiedAt.count }

    /// The users' names, by id.
    public var userNames: [String] { users.names }

    /// Folds in a user's earliest verification and first uncovered publish event from
    /// `fileIndex`, the user given by id (see `init(seenUsers:)`), as merging an activity of
    /// theirs with no publish events of its own does.
    public mutating func merge(user id: Int32, fileIndex: Int32, verifiedAt newVerification: Int64?, firstPending: EventLocation?) {
        Self.fold(
            verifiedAt: newVerification, pending: PendingPublishes(), first: firstPending, from: fileIndex,
            verifiedAt: &verifiedAt[Int(id)], uncoveredIndex: &uncoveredIndex[Int(id)], uncovered: &uncovered)
    }

    /// Makes room for `users` users in all (a hint: more may be merged). Merging that many in
    /// batches then grows nothing as it goes; the result is the same with or without it.
    public mutating func reserveCapacity(users count: Int) {
        users.reserveCapacity(count)
        verifiedAt.reserveCapacity(count)
        uncoveredIndex.reserveCapacity(count)
    }

    /// Folds one file's per-user activity in. Merge order never changes the result.
    ///
    /// With `distinctUsers` (no two activities name the same user, as in one file's audit), the
    /// first merge takes the names without looking them up.
    public mutating func merge(fileIndex: Int32, activities: [UserFileActivity], distinctUsers: Bool = false) {
        let ids =
            (distinctUsers ? users.adoptDistinct(count: activities.count) { activities[$0].user } : nil)
            ?? users.intern(count: activities.count) { activities[$0].user }
        if verifiedAt.count < users.count {
            verifiedAt.append(contentsOf: repeatElement(.max, count: users.count - verifiedAt.count))
            uncoveredIndex.append(contentsOf: repeatElement(-1, count: users.count - uncoveredIndex.count))
        }
        // Taken out while the columns are borrowed, so that all can be mutated together.
        var uncovered = self.uncovered
        self.uncovered = []
        defer { self.uncovered = uncovered }
        activities.withUnsafeBufferPointer { activities in
            verifiedAt.withUnsafeMutableBufferPointer { verifiedAt in
                uncoveredIndex.withUnsafeMutableBufferPointer { uncoveredIndex in
                    for i in activities.indices {
                        // Users are visited in the file's order, not theirs: fetch a few ahead.
                        if i + UserIndex.lookahead < ids.count {
                            custody_prefetch(verifiedAt.baseAddress! + Int(ids[i + UserIndex.lookahead]))
                        }
                        // Most users neither verify nor publish in a given file: being seen is
                        // all there is. (Checked in place: copying each activity out costs a
                        // retain and a release.)
                        if activities[i].isOnlySeen { continue }
                        let id = Int(ids[i])
                        Self.fold(
                            verifiedAt: activities[i].verifiedAt, pending: activities[i].pending, first: activities[i].firstPending,
                            from: fileIndex, verifiedAt: &verifiedAt[id], uncoveredIndex: &uncoveredIndex[id], uncovered: &uncovered)
                    }
                }
            }
        }
    }

    /// Folds one activity of a user (its verification, pending publishes and first pending
    /// publish) into the user's columns.
    private static func fold(
        verifiedAt newVerification: Int64?, pending: PendingPublishes, first: EventLocation?, from fileIndex: Int32,
        verifiedAt: inout Int64, uncoveredIndex: inout Int32, uncovered: inout [Uncovered]
    ) {
        if let v = newVerification, v < verifiedAt {
            verifiedAt = v
            if uncoveredIndex >= 0 { uncovered[Int(uncoveredIndex)].cover(by: v) }
        }
        var pending = pending
        if verifiedAt != .max { pending.prune(verifiedAt: verifiedAt) }
        guard !pending.isEmpty || first != nil else { return }
        if uncoveredIndex < 0 {
            uncoveredIndex = Int32(uncovered.count)
            uncovered.append(Uncovered())
        }
        let k = Int(uncoveredIndex)
        if !pending.isEmpty {
            if pending.isExact && uncovered[k].exact.count + pending.count <= 2 * PendingPublishes.exactLimit {
                // A user's first times are shared with the file's activity, not copied (an
                // allocation per user with publishes, ~70,000 after one file of such logs).
                if uncovered[k].exact.isEmpty {
                    uncovered[k].exact = pending.exact
                } else {
                    uncovered[k].exact += pending.exact
                }
            } else {
                uncovered[k].spans.append(Span(file: fileIndex, count: pending.count, earliest: pending.earliest, latest: pending.latest))
            }
        }
        if let first, uncovered[k].firstPending.map({ first < $0 }) ?? true {
            uncovered[k].firstPending = first
        }
    }

    /// The (file, user) pairs whose uncovered events straddle the user's final verification time:
    /// only re-reading the file can say how many came before it.
    public func recountsNeeded() -> [Recount] {
        var result: [Recount] = []
        for id in verifiedAt.indices where verifiedAt[id] != .max && uncoveredIndex[id] >= 0 {
            let v = verifiedAt[id]
            for span in uncovered[Int(uncoveredIndex[id])].spans where span.earliest < v && span.latest >= v {
                result.append(Recount(file: span.file, user: users.names[id], verifiedAt: v))
            }
        }
        return result.sorted { ($0.file, $0.user) < ($1.file, $1.user) }
    }

    /// Settles the rule, asking `recount` to re-read one file: given users and their
    /// verification times, how many of each one's publish events in that file come before it
    /// (nil when the file can no longer be read; its straddling events then count as none).
    public func result(recount: (_ file: Int32, _ verifiedAt: [String: Int64]) throws -> [String: Int]?) rethrows -> RealNameResult {
        var recounted: [Recount: Int] = [:]
        for (file, group) in Dictionary(grouping: recountsNeeded(), by: \.file).sorted(by: { $0.key < $1.key }) {
            guard let counts = try recount(file, Dictionary(uniqueKeysWithValues: group.map { ($0.user, $0.verifiedAt) })) else { continue }
            for entry in group { recounted[entry] = counts[entry.user] ?? 0 }
        }
        return result(recounted: recounted)
    }

    /// Settles the rule. `recounted` holds, for each pair from `recountsNeeded()`, the number of
    /// the user's publish events in that file strictly before their verification time.
    public func result(recounted: [Recount: Int] = [:]) -> RealNameResult {
        var violating: [ViolatingUser] = []
        var events = 0
        for id in verifiedAt.indices where uncoveredIndex[id] >= 0 {
            let entry = uncovered[Int(uncoveredIndex[id])]
            let user = users.names[id]
            let v = verifiedAt[id]
            var count = entry.exact.reduce(0) { $0 + ($1 < v ? 1 : 0) }
            for span in entry.spans {
                if span.latest < v {
                    count += span.count
                } else if span.earliest < v {
                    count += recounted[Recount(file: span.file, user: user, verifiedAt: v)] ?? 0
                }
            }
            if count > 0, let first = entry.firstPending, first.millis < v {
                violating.append(ViolatingUser(user: user, events: count, first: first, verifiedAt: v == .max ? nil : v))
                events += count
            }
        }
        Self.sortByUser(&violating)
        let verified = verifiedAt.reduce(0) { $0 + ($1 != .max ? 1 : 0) }
        return RealNameResult(usersSeen: verifiedAt.count, verifiedUsers: verified, violatingUsers: violating, violatingEvents: events)
    }
}

extension RealNameRegistry {
    /// Violations on the days of `window` only (the retention window): the users with at least
    /// one publish event before their verification time on one of those days, and those events.
    /// `day` maps a time to its calendar day (it must not decrease as time grows). Spans of
    /// events that cross the window's edge are settled by `recount`, which re-reads one file:
    /// for each user, the publish events before the given time whose day is in the window (nil
    /// when the file can no longer be read: they count as none).
    public func violations(
        onDays window: ClosedRange<Int32>, day: (Int64) -> Int32,
        recount: (_ file: Int32, _ verifiedAt: [String: Int64]) throws -> [String: Int]?
    ) rethrows -> ViolationCount {
        // Users with violations found here, by id (names are hashed only for the rare recounts).
        var counted: [Int32] = []
        var events = 0
        var needed: [Int32: [String: Int64]] = [:]
        for id in verifiedAt.indices where uncoveredIndex[id] >= 0 {
            let entry = uncovered[Int(uncoveredIndex[id])]
            let v = verifiedAt[id]
            var count = 0
            for t in entry.exact where t < v && window.contains(day(t)) { count += 1 }
            for span in entry.spans where span.earliest < v {
                let first = day(span.earliest)
                let last = day(span.latest)
                if last < window.lowerBound || first > window.upperBound { continue }
                if span.latest < v && first >= window.lowerBound && last <= window.upperBound {
                    count += span.count
                } else {
                    needed[span.file, default: [:]][users.names[id]] = v
                }
            }
            if count > 0 {
                counted.append(Int32(id))
                events += count
            }
        }
        // Users whose violations only the recounts found.
        var recountedOnly = Set<String>()
        if !needed.isEmpty {
            let countedNames = Set(counted.map { users.names[Int($0)] })
            for (file, targets) in needed.sorted(by: { $0.key < $1.key }) {
                guard let found = try recount(file, targets) else { continue }
                for (user, n) in found where n > 0 {
                    events += n
                    if !countedNames.contains(user) { recountedOnly.insert(user) }
                }
            }
        }
        return ViolationCount(users: counted.count + recountedOnly.count, events: events)
    }
}

extension RealNameRegistry {
    /// Sorts `users` by name as `String`'s `<` orders them. When every name is ASCII that is
    /// the order of their bytes: the names are copied back to back into one buffer and sorted
    /// by their first eight bytes as one integer, then by `memcmp` of the rest, without
    /// touching a `String`. Sorting 100,000 names through `String`'s `<` (a retain, a release
    /// and a call per comparison) was a fifth of the time a check took after its last file was
    /// read (perf).
    static func sortByUser(_ users: inout [ViolatingUser]) {
        var bytes: [UInt8] = []
        var keys: [(prefix: UInt64, start: Int32, length: Int32, index: Int32)] = []
        keys.reserveCapacity(users.count)
        for i in users.indices {
            let start = bytes.count
            var prefix: UInt64 = 0
            // The name's bytes in place (a byte at a time through `utf8` was a third of the sort).
            var name = users[i].user
            let ascii = name.withUTF8 { utf8 -> Bool in
                var any: UInt8 = 0
                for c in utf8 { any |= c }
                guard any < 0x80 else { return false }
                for k in 0..<min(utf8.count, 8) { prefix |= UInt64(utf8[k]) << (56 - 8 * UInt64(k)) }
                bytes.append(contentsOf: utf8)
                return true
            }
            if !ascii || bytes.count >= Int(Int32.max) {
                users.sort { $0.user < $1.user }
                return
            }
            keys.append((prefix, Int32(start), Int32(bytes.count - start), Int32(i)))
        }
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress
            keys.sort { a, b in
                if a.prefix != b.prefix { return a.prefix < b.prefix }
                // The first eight bytes are equal (a shorter name is zero-padded there).
                let shorter = Int(min(a.length, b.length))
                if shorter > 8, let base {
                    let order = memcmp(base + Int(a.start) + 8, base + Int(b.start) + 8, shorter - 8)
                    if order != 0 { return order < 0 }
                }
                return a.length < b.length
            }
        }
        users = keys.map { users[Int($0.index)] }
    }
}

/// How many users violated, with how many events, in some scope.
public struct ViolationCount: Sendable, Equatable {
    public var users: Int
    public var events: Int

    public init(users: Int, events: Int) {
        self.users = users
        self.events = events
    }
}

public struct ViolatingUser: Sendable, Equatable {
    public var user: String
    /// Publish events before the user's verification time (or all, if never verified).
    public var events: Int
    /// The first violating event.
    public var first: EventLocation
    public var verifiedAt: Int64?
}

public struct RealNameResult: Sendable, Equatable {
    public var usersSeen: Int
    public var verifiedUsers: Int
    public var violatingUsers: [ViolatingUser]
    public var violatingEvents: Int
    /// Publish events without a user, in every file.
    public var anonymousPublishes = 0
    /// Why the rule cannot be judged on these records, if it cannot (set by `CheckReport.build`).
    public var notEvaluable: String?
    /// The violations whose publish events fall on a day of the retention window (the counts
    /// above cover all records read), when computed.
    public var inRetentionWindow: ViolationCount?
    /// Judged, and no one published unidentified or before verifying.
    public var compliant: Bool { violatingUsers.isEmpty && anonymousPublishes == 0 && notEvaluable == nil }

    public init(
        usersSeen: Int, verifiedUsers: Int, violatingUsers: [ViolatingUser], violatingEvents: Int,
        anonymousPublishes: Int = 0, notEvaluable: String? = nil
    ) {
        self.usersSeen = usersSeen
        self.verifiedUsers = verifiedUsers
        self.violatingUsers = violatingUsers
        self.violatingEvents = violatingEvents
        self.anonymousPublishes = anonymousPublishes
        self.notEvaluable = notEvaluable
    }
}
