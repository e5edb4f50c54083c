/// One user's publish events in one file that no verification seen so far covers.
///
/// The real-name rule needs, per user, the number of publish events earlier than the user's
/// verification time, which may only be known after every file is read. Keeping every publish
/// time would grow with events, so a few times are kept exactly and beyond that only the count
/// and the span. A span that ends up straddling the final verification time is settled by
/// re-reading that one file (see `RealNameRegistry.recountsNeeded`).
public struct PendingPublishes: Sendable, Equatable {
    /// How many times are kept exactly before falling back to count and span.
    public static let exactLimit = 8

    public private(set) var count = 0
    public private(set) var earliest = Int64.max
    public private(set) var latest = Int64.min
    /// Every time, while `count <= exactLimit`.
    public private(set) var exact: [Int64] = []

    public init() {}

    /// Restores a saved value: `exact` holds every time when there were few enough to keep.
    public init(count: Int, earliest: Int64, latest: Int64, exact: [Int64]?) {
        self.count = count
        self.earliest = earliest
        self.latest = latest
        self.exact = exact ?? []
    }

    public var isEmpty: Bool { count == 0 }
    public var isExact: Bool { exact.count == count }

    @inline(__always)
    public mutating func add(_ millis: Int64) {
        count += 1
        if millis < earliest { earliest = millis }
        if millis > latest { latest = millis }
        if count <= Self.exactLimit {
            exact.append(millis)
        } else if !exact.isEmpty {
            exact = []
        }
    }

    /// Drops the events a verification at `verifiedAt` covers, where that can be known exactly.
    public mutating func prune(verifiedAt: Int64) {
        if isEmpty { return }
        if isExact {
            // Nothing to drop, the usual case (a scan keeps only events before the file's own
            // verification): no new array. Refiltering made two for every such user, in each
            // file's tally and again when merged (perf).
            if exact.allSatisfy({ $0 < verifiedAt }) { return }
            let kept = exact.filter { $0 < verifiedAt }
            self = PendingPublishes()
            for t in kept { add(t) }
        } else if earliest >= verifiedAt {
            self = PendingPublishes()
        }
    }
}

/// Where an event sits: its time, then the input file (by position in the sorted input list) and
/// line. Ordered by time first, so "the first violating event" is the same for any read order.
public struct EventLocation: Sendable, Comparable, Hashable {
    public var millis: Int64
    public var file: Int32
    public var line: Int

    public init(millis: Int64, file: Int32, line: Int) {
        self.millis = millis
        self.file = file
        self.line = line
    }

    public static func < (a: EventLocation, b: EventLocation) -> Bool {
        (a.millis, a.file, a.line) < (b.millis, b.file, b.line)
    }
}

/// What one file says about one user: the earliest accepted verification it holds and its
/// publish events not covered by it.
///
/// One is made for every user of every file read, so it is kept to 32 bytes: most users have
/// no uncovered publish events, and theirs are boxed only when there are some (with 500,000
/// users, 96-byte values cost 30 MB per file waiting to be merged).
public struct UserFileActivity: Sendable {
    public var user: String
    /// `.max` for none.
    private var verifiedAtOrMax: Int64
    /// nil when there are no uncovered publish events and no first pending event.
    private var publishes: Publishes?

    private final class Publishes: Sendable {
        let pending: PendingPublishes
        let first: EventLocation?

        init(pending: PendingPublishes, first: EventLocation?) {
            self.pending = pending
            self.first = first
        }
    }

    public init(user: String, verifiedAt: Int64?, pending: PendingPublishes, firstPending: EventLocation?) {
        self.user = user
        verifiedAtOrMax = verifiedAt ?? .max
        publishes = Self.boxed(pending, firstPending)
    }

    public var verifiedAt: Int64? {
        get { verifiedAtOrMax == .max ? nil : verifiedAtOrMax }
        set { verifiedAtOrMax = newValue ?? .max }
    }

    public var pending: PendingPublishes {
        get { publishes?.pending ?? PendingPublishes() }
        set { publishes = Self.boxed(newValue, firstPending) }
    }

    /// The earliest of `pending` events as first seen (before any pruning).
    public var firstPending: EventLocation? {
        get { publishes?.first }
        set { publishes = Self.boxed(pending, newValue) }
    }

    /// Whether the file says nothing about the user but that they were seen.
    public var isOnlySeen: Bool { verifiedAtOrMax == .max && publishes == nil }

    private static func boxed(_ pending: PendingPublishes, _ first: EventLocation?) -> Publishes? {
        pending.isEmpty && first == nil ? nil : Publishes(pending: pending, first: first)
    }
}
