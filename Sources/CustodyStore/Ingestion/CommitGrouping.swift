/// Decides where one group of ingested parts ends and the next begins. A group's vault objects
/// are made durable together (one `VaultSync`) and its rows committed in one transaction: per
/// part, an fsync of the object and of its directory and a transaction of its own made a fresh
/// run over 10,000 small files 35 times slower than `check` on them.
///
/// A group closes when it holds `maxParts` parts or `maxBytes` new bytes, or `maxAge` after its
/// first part arrived, whichever comes first. A part as large as `maxBytes` therefore closes its
/// group at once: a big file's progress is never held back waiting for others, and a killed run
/// re-reads at most one group. Pure: the caller says what arrived and when.
///
/// A group taken full by count lets the next hold twice as many parts, up to `partsCeiling`:
/// a run over many small files commits them 256, 512, 1,024, 2,048, then 4,096 at a time. Each
/// group rewrites the pages its files' random keys (fingerprints, object names) fall in, in
/// every index, so the state's log grew with groups × files: over 10,000 small files, ~15,000
/// pages written in 40 groups; ~6,400 in 12 with a ceiling of 1,024, ~4,500 in 6 with 4,096
/// (writing them was a tenth of the commits' work). A run with few files, or files arriving
/// slowly, keeps groups of 256 or fewer; a killed run reads at most one group again.
struct CommitGrouping: Sendable, Equatable {
    var maxParts = 256
    /// What `maxParts` grows to at most (see `reset(taken:)`).
    var partsCeiling = 4096
    var maxBytes = 64 << 20
    var maxAge: Duration = .seconds(1)

    /// Parts in the open group.
    private(set) var parts = 0
    /// New bytes in the open group.
    private(set) var bytes = 0
    /// When the open group's first part arrived; nil when the group is empty.
    private(set) var openedAt: Duration?

    init() {}

    init(maxParts: Int, maxBytes: Int, maxAge: Duration) {
        self.maxParts = max(1, maxParts)
        partsCeiling = max(partsCeiling, self.maxParts)
        self.maxBytes = max(1, maxBytes)
        self.maxAge = maxAge
    }

    var isEmpty: Bool { parts == 0 }

    /// When the open group must be committed even if nothing more arrives; nil when empty.
    var deadline: Duration? { openedAt.map { $0 + maxAge } }

    /// Adds a part with `newBytes` new bytes, arrived at `now` (time since any fixed start).
    /// Returns true when the group, with this part, is to be committed now.
    mutating func add(newBytes: Int, at now: Duration) -> Bool {
        if openedAt == nil { openedAt = now }
        parts += 1
        bytes += max(0, newBytes)
        return isDue(at: now)
    }

    /// True when the open group is full or old enough to be committed.
    func isDue(at now: Duration) -> Bool {
        guard let openedAt else { return false }
        return parts >= maxParts || bytes >= maxBytes || now - openedAt >= maxAge
    }

    /// Starts a new, empty group after one of `taken` parts was taken to be committed: when it
    /// was full by count, the next may hold twice as many (up to `partsCeiling`).
    mutating func reset(taken: Int) {
        if taken >= maxParts { maxParts = min(partsCeiling, maxParts * 2) }
        reset()
    }

    /// Starts a new, empty group (after the open one was committed).
    mutating func reset() {
        parts = 0
        bytes = 0
        openedAt = nil
    }
}
