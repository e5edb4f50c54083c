import CPrefetch
import CustodyCore
import Dispatch

/// One file's real-name facts per user: the earliest accepted verification, and the publish
/// events no verification seen so far covers.
///
/// A log can name tens of thousands of users, so the user table and the per-user times live in
/// main memory, and a lookup per record would stall on a cache miss: a quarter of a file's
/// check time on the benchmark machine (Benchmarks/RESULTS.md). Records with a user therefore
/// pass through a short queue. On arrival a record's table slot is prefetched; `resolveLag`
/// records later its id is looked up (by then in cache) and its verification time prefetched;
/// when the queue is full it is applied. Records are resolved and applied in arrival order, so
/// ids, times and first events are exactly those of a record-by-record pass.
///
/// Not thread-safe; each file scan owns its own. Call `finish()` once, after the last record.
final class UserActivityTally {
    private let file: Int32
    private let users = ByteInterner()
    /// Earliest accepted verification per user id (`.max` for none). Manually managed: it is
    /// prefetched per record, and taking an array's buffer pointer retains and releases the
    /// array each time (1% of a check, measured with perf).
    private var verifiedAt: UnsafeMutablePointer<Int64>
    /// Per user id, where in `publishes` their uncovered publish events are (-1 for none).
    /// Most users have none, so the 64 bytes of that state are kept only for those who do: with
    /// 500,000 users, dense columns cost 32 MB per file being read.
    private var publishesIndex: UnsafeMutablePointer<Int32>
    private var userCount = 0
    private var userCapacity = 1024
    private var publishes: [UncoveredPublishes] = []

    private struct UncoveredPublishes {
        var pending = PendingPublishes()
        var first: EventLocation?
        /// Every time added, once `pending` keeps only a count and a span (more than
        /// `PendingPublishes.exactLimit`), up to `keptTimesLimit`; `keptTimesOverflowed` past it.
        var keptTimes: [Int64] = []
        var keptTimesOverflowed = false
    }

    /// Times kept per user beyond `PendingPublishes.exactLimit`: 32 KiB a user at most, and in
    /// all no more than 8 bytes per publish event of the file.
    static let keptTimesLimit = 4096

    /// After `finish()`: for each user with pending publishes, the exact times of those events,
    /// also when they are only a count and a span (see `FileAudit.pendingTimes`). Users past
    /// `keptTimesLimit` are left out.
    private(set) var pendingTimes = PublishTimes()

    private struct Waiting {
        var probe: ByteInterner.Probe
        var keyLength: Int
        var millis: Int64
        var role: EventRole?
        var line: Int
        var id: Int32
    }

    /// Records held back; a power of two. The caller applies a block's records back to back
    /// (~20 ns each), so a fetch needs many records ahead: with 8 held back and 4 between
    /// prefetch and use, the slot and time loads still stalled (half of the tally's samples);
    /// 32 and 16 took the tally from ~13 % of a one-file check's CPU samples to ~9–10 %, on both
    /// benchmark sets (8/4 → 16/8 → 32/16, perf, Benchmarks/RESULTS.md).
    private static let capacity = 32
    /// Records between a slot's prefetch and the lookup that uses it.
    private static let resolveLag = 16
    /// Records before its lookup that a long id's stored bytes are fetched (its slot was fetched
    /// `resolveLag - storedKeyLead` records before that).
    private static let storedKeyLead = 8
    /// Longer user ids are not queued (their records are applied at once, after the queue);
    /// ids of nine to this many bytes are copied into the queue, shorter ones live in its words.
    private static let longestQueuedKey = 64

    private let queue: UnsafeMutablePointer<Waiting>
    private let keys: UnsafeMutablePointer<UInt8>
    private var head = 0
    private var count = 0
    private var resolved = 0

    /// Whether `pendingTimes` is kept: a check settles spans from it; `run` stores spans in the
    /// state and never reads it, so it does not pay for it.
    private let keepsPublishTimes: Bool

    init(file: Int32, keepsPublishTimes: Bool = true) {
        self.file = file
        self.keepsPublishTimes = keepsPublishTimes
        queue = .allocate(capacity: Self.capacity)
        keys = .allocate(capacity: Self.capacity * Self.longestQueuedKey)
        verifiedAt = .allocate(capacity: userCapacity)
        publishesIndex = .allocate(capacity: userCapacity)
    }

    deinit {
        queue.deallocate()
        keys.deallocate()
        verifiedAt.deallocate()
        publishesIndex.deallocate()
    }

    /// Counts one record of `user` (whose bytes need stay valid only during the call), given its
    /// first eight bytes, zero-padded: for ids of eight bytes or fewer the queue keeps only those.
    @inline(__always)
    func add(user: UnsafeBufferPointer<UInt8>, prefix: UInt64, role: EventRole?, millis: Int64, line: Int) {
        guard user.count <= Self.longestQueuedKey else {
            drain()
            let id = users.intern(user)
            register(id)
            apply(id: id, role: role, millis: millis, line: line)
            return
        }
        // Full: at least `capacity - resolveLag` records are resolved (see below), the oldest too.
        if count == Self.capacity { applyResolvedOldest() }
        let slot = (head + count) & (Self.capacity - 1)
        let probe: ByteInterner.Probe
        if user.count <= 8 {
            probe = users.probe(user, prefix: prefix)
        } else {
            let key = keys + slot * Self.longestQueuedKey
            key.update(from: user.baseAddress!, count: user.count)
            probe = users.probe(UnsafeBufferPointer(start: key, count: user.count), prefix: prefix)
        }
        queue[slot] = Waiting(probe: probe, keyLength: user.count, millis: millis, role: role, line: line, id: -1)
        count += 1
        if count - resolved > Self.resolveLag { resolveNext() }
    }

    /// Applies every queued record, then returns each user's activity in first-seen order.
    func finish() -> [UserFileActivity] {
        drain()
        users.releaseLookupTable()
        let total = users.count
        // Each user's entry is built on its own (a name, a time, rarely its publishes): with many
        // users, in two halves on two threads. This runs after a file's last record, alone when
        // the file is a check's last (always for one file), with the other core idle.
        let parts = total >= Self.usersPerFinishThread * 2 ? 2 : 1
        // Each part also collects its users' kept publish times, in the same order.
        var kept = [PublishTimes](repeating: PublishTimes(), count: parts)
        let activities = [UserFileActivity](unsafeUninitializedCapacity: total) { buffer, initialized in
            let shared = FinishShared(tally: self, slots: buffer.baseAddress!)
            kept.withUnsafeMutableBufferPointer { kept in
                // Each part is written by one thread only, and read after they all finished.
                nonisolated(unsafe) let kept = kept
                if parts == 1 {
                    kept[0] = shared.fill(0..<total)
                } else {
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        kept[part] = shared.fill((part * total / parts)..<((part + 1) * total / parts))
                    }
                }
            }
            initialized = total
        }
        pendingTimes = kept[0]
        for part in kept.dropFirst() { pendingTimes.append(contentsOf: part) }
        return activities
    }

    /// Below this many users per thread, `finish` builds the entries on the calling thread.
    static let usersPerFinishThread = 32_768

    /// User `id`'s entry, from the tally's columns (read only: `finish` calls it from two
    /// threads at once).
    private func activity(of id: Int) -> UserFileActivity {
        let v = verifiedAt[id] == .max ? nil : verifiedAt[id]
        var p = PendingPublishes()
        var first: EventLocation?
        if publishesIndex[id] >= 0 {
            let uncovered = publishes[Int(publishesIndex[id])]
            p = uncovered.pending
            first = uncovered.first
            if let v { p.prune(verifiedAt: v) }
        }
        return UserFileActivity(user: users.string(Int32(id)), verifiedAt: v, pending: p, firstPending: first)
    }

    /// The exact times of user `id`'s publish events that no verification in the file covers
    /// (`activity` is theirs: its pending events are already pruned to that verification), or
    /// nil for none or too many kept (read only, as `activity(of:)`).
    private func keptTimes(of id: Int, _ activity: UserFileActivity) -> [Int64]? {
        let index = Int(publishesIndex[id])
        guard keepsPublishTimes, index >= 0 else { return nil }
        if activity.pending.isExact { return activity.pending.isEmpty ? nil : activity.pending.exact }
        if publishes[index].keptTimesOverflowed { return nil }
        guard let v = activity.verifiedAt else { return publishes[index].keptTimes }
        return publishes[index].keptTimes.filter { $0 < v }
    }

    /// What `finish`'s two threads share: the tally, which nothing writes while they run (its
    /// queue is drained first), and the array being filled, of which each writes its own half.
    private struct FinishShared: @unchecked Sendable {
        let tally: UserActivityTally
        let slots: UnsafeMutablePointer<UserFileActivity>

        /// Fills the entries of users `ids`, and returns their kept publish times.
        func fill(_ ids: Range<Int>) -> PublishTimes {
            var kept = PublishTimes()
            for id in ids {
                let activity = tally.activity(of: id)
                (slots + id).initialize(to: activity)
                if let times = tally.keptTimes(of: id, activity) { kept.append(activity.user, times) }
            }
            return kept
        }
    }

    // MARK: the queue

    private func drain() {
        while count > 0 {
            if resolved == 0 { resolveNext() }
            applyResolvedOldest()
        }
    }

    @inline(__always)
    private func resolveNext() {
        // A long id some records ahead: its slot has arrived by now; fetch the bytes its lookup
        // will compare (short ids are compared in the slot itself).
        if resolved + Self.storedKeyLead < count {
            let ahead = (head + resolved + Self.storedKeyLead) & (Self.capacity - 1)
            if queue[ahead].keyLength > 8 { users.prefetchStoredKey(probe: queue[ahead].probe, length: queue[ahead].keyLength) }
        }
        let slot = (head + resolved) & (Self.capacity - 1)
        let length = queue[slot].keyLength
        let id: Int32
        if length <= 8 {
            // A short key is its probe word (little-endian bytes).
            id = users.intern(shortKeyOfLength: length, probe: queue[slot].probe)
        } else {
            id = users.intern(UnsafeBufferPointer(start: keys + slot * Self.longestQueuedKey, count: length), probe: queue[slot].probe)
        }
        register(id)
        queue[slot].id = id
        if let role = queue[slot].role, role == .acceptedVerification || role == .publish {
            custody_prefetch(verifiedAt + Int(id))
        }
        resolved += 1
    }

    /// Applies the oldest queued record, which is resolved. Kept small, as it is inlined into
    /// the line loops for every record with a user: with the resolving of a first record (only
    /// `drain` needs it) and the bookkeeping of uncovered publishes in it, it stayed a call per
    /// record, 3–4 % of a four-file check's CPU samples.
    @inline(__always)
    private func applyResolvedOldest() {
        let waiting = queue[head]
        head = (head + 1) & (Self.capacity - 1)
        count -= 1
        resolved -= 1
        apply(id: waiting.id, role: waiting.role, millis: waiting.millis, line: waiting.line)
    }

    // MARK: per-user state

    /// Keeps a publish time that `PendingPublishes` will not keep exactly (it has `exactLimit`).
    private func keep(_ t: Int64, at index: Int) {
        if !keepsPublishTimes || publishes[index].keptTimesOverflowed { return }
        if publishes[index].pending.count == PendingPublishes.exactLimit {
            publishes[index].keptTimes = publishes[index].pending.exact
        }
        if publishes[index].keptTimes.count == Self.keptTimesLimit {
            publishes[index].keptTimesOverflowed = true
            publishes[index].keptTimes = []
        } else {
            publishes[index].keptTimes.append(t)
        }
    }

    @inline(__always)
    private func register(_ id: Int32) {
        if Int(id) == userCount {
            if userCount == userCapacity { growColumns() }
            (verifiedAt + userCount).initialize(to: .max)
            (publishesIndex + userCount).initialize(to: -1)
            userCount += 1
        }
    }

    private func growColumns() {
        verifiedAt = Self.grown(verifiedAt, from: userCapacity)
        publishesIndex = Self.grown(publishesIndex, from: userCapacity)
        userCapacity *= 2
    }

    private static func grown<T>(_ column: UnsafeMutablePointer<T>, from capacity: Int) -> UnsafeMutablePointer<T> {
        let larger = UnsafeMutablePointer<T>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: column, count: capacity)
        column.deallocate()
        return larger
    }

    @inline(__always)
    private func apply(id: Int32, role: EventRole?, millis t: Int64, line: Int) {
        let id = Int(id)
        switch role {
        case .acceptedVerification:
            if t < verifiedAt[id] { verifiedAt[id] = t }
        case .publish:
            // Covered by a verification already seen: never violating, whatever comes later.
            if t < verifiedAt[id] { addUncovered(id: id, millis: t, line: line) }
        case .other, .registration, .otherVerification, nil:
            break
        }
    }

    /// A publish event of user `id` no verification seen so far covers.
    @inline(never)
    private func addUncovered(id: Int, millis t: Int64, line: Int) {
        if publishesIndex[id] < 0 {
            publishesIndex[id] = Int32(publishes.count)
            publishes.append(UncoveredPublishes())
        }
        let index = Int(publishesIndex[id])
        if publishes[index].pending.count >= PendingPublishes.exactLimit { keep(t, at: index) }
        publishes[index].pending.add(t)
        if publishes[index].first.map({ t < $0.millis }) ?? true {
            publishes[index].first = EventLocation(millis: t, file: file, line: line)
        }
    }
}
