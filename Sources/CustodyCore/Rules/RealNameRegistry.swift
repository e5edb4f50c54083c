import CPrefetch

/// The real-name rule over all inputs: merges what each file says about each user, in any order,
/// and settles who published before verifying.
///
/// Memory grows with users (one entry each) and, briefly, with files whose publish events are
/// not yet known to be covered; never with events.
public struct RealNameRegistry: Sendable {
    struct Span: Sendable {
        var file: Int32
        var count: Int
        var earliest: Int64
        var latest: Int64
    }

    struct Entry: Sendable {
        var verifiedAt: Int64?
        /// Exact times of publish events not (yet) covered by `verifiedAt`.
        var exact: [Int64] = []
        /// Per-file spans of uncovered publish events too many to keep exactly.
        var spans: [Span] = []
        var firstPending: EventLocation?

        mutating func cover(by verifiedAt: Int64) {
            // Most users have nothing pending, and removeAll(where:) on an empty array still
            // makes it unique (an allocation per verified user and file).
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

    private var users = UserIndex()
    /// By user id (see `UserIndex`).
    private var entries: [Entry] = []

    public init() {}

    public var usersSeen: Int { entries.count }

    /// Folds one file's per-user activity in. Merge order never changes the result.
    public mutating func merge(fileIndex: Int32, activities: [UserFileActivity]) {
        let ids = users.intern(count: activities.count) { activities[$0].user }
        if entries.count < users.count {
            entries.append(contentsOf: repeatElement(Entry(), count: users.count - entries.count))
        }
        activities.withUnsafeBufferPointer { activities in
            entries.withUnsafeMutableBufferPointer { entries in
                for i in activities.indices {
                    // Entries are visited in the file's order, not theirs: fetch a few ahead.
                    if i + UserIndex.lookahead < ids.count { custody_prefetch(entries.baseAddress! + Int(ids[i + UserIndex.lookahead])) }
                    // Most users neither verify nor publish in a given file: being seen is all
                    // there is. (Checked in place: copying each activity out costs a retain and
                    // a release.)
                    if activities[i].verifiedAt == nil && activities[i].pending.isEmpty && activities[i].firstPending == nil { continue }
                    Self.fold(activities[i], from: fileIndex, into: &entries[Int(ids[i])])
                }
            }
        }
    }

    private static func fold(_ activity: UserFileActivity, from fileIndex: Int32, into entry: inout Entry) {
        if let v = activity.verifiedAt, entry.verifiedAt.map({ v < $0 }) ?? true {
            entry.verifiedAt = v
            entry.cover(by: v)
        }
        var pending = activity.pending
        if let v = entry.verifiedAt { pending.prune(verifiedAt: v) }
        if !pending.isEmpty {
            if pending.isExact && entry.exact.count + pending.count <= 2 * PendingPublishes.exactLimit {
                entry.exact += pending.exact
            } else {
                entry.spans.append(Span(file: fileIndex, count: pending.count, earliest: pending.earliest, latest: pending.latest))
            }
        }
        if let first = activity.firstPending, entry.firstPending.map({ first < $0 }) ?? true {
            entry.firstPending = first
        }
    }

    /// The (file, user) pairs whose uncovered events straddle the user's final verification time:
    /// only re-reading the file can say how many came before it.
    public func recountsNeeded() -> [Recount] {
        var result: [Recount] = []
        for (id, entry) in entries.enumerated() {
            guard let v = entry.verifiedAt else { continue }
            let user = users.names[id]
            for span in entry.spans where span.earliest < v && span.latest >= v {
                result.append(Recount(file: span.file, user: user, verifiedAt: v))
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
        var verified = 0
        var violating: [ViolatingUser] = []
        var events = 0
        for (id, entry) in entries.enumerated() {
            let user = users.names[id]
            if entry.verifiedAt != nil { verified += 1 }
            let v = entry.verifiedAt ?? Int64.max
            var count = entry.exact.reduce(0) { $0 + ($1 < v ? 1 : 0) }
            for span in entry.spans {
                if span.latest < v {
                    count += span.count
                } else if span.earliest < v {
                    count += recounted[Recount(file: span.file, user: user, verifiedAt: v)] ?? 0
                }
            }
            if count > 0, let first = entry.firstPending, first.millis < v {
                violating.append(ViolatingUser(user: user, events: count, first: first, verifiedAt: entry.verifiedAt))
                events += count
            }
        }
        violating.sort { $0.user < $1.user }
        return RealNameResult(usersSeen: entries.count, verifiedUsers: verified, violatingUsers: violating, violatingEvents: events)
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
    public var compliant: Bool { violatingUsers.isEmpty }
}
