import CPrefetch
import CustodyCore
import Foundation

/// Merges a commit group's users into the writer's rows in memory, range of user ids by range
/// of ids, so that the writer can write each range's rows (and pending spans) while the next
/// range is merged (`StateWriter.commit(parts:)`).
///
/// Merged part after part, no row was final until the group's last part was merged: with
/// 500,000 users, the last group's merge (~80 ms) and then its writes (~150 ms) ran one after
/// the other on one core, after the run's last file was read, while the other core was idle.
/// Within a range, parts are merged in the group's order, each part's users in its own order, so
/// every user sees the group's parts in order, as before. New users get their keys in the order
/// they are merged, which for users the group interns is the order its parts list them, as
/// before: their keys follow their ids. (Not for users interned without a row, by a group that
/// failed or a part that shrank: their keys then depend on the ranges, and the closing audit's
/// check of names against keys falls back to reading them; `KnownUserNames`.)
///
/// Touches no database: what needs one (covering a user's spans, inserting a span) is listed
/// per range for the writer (`SpanChange`). Runs on the committing thread, each range just
/// before the writer writes it (`mergeHere(range:)`), or on another (`start(on:)`) while the
/// writer waits for each range in turn (`waitFor(range:)`); either way the caller keeps `rows`
/// and `mayHaveSpans` alive and untouched by anything else until `waitUntilDone()` returns.
final class GroupUserMerge: @unchecked Sendable {
    /// One part of the group to merge: its users, their ids, and the segment its spans name.
    struct Part {
        let activities: [UserFileActivity]
        let ids: [Int32]
        let segmentID: Int64
    }

    /// A change to `pending_publishes` the merge found, in the order it must be made.
    enum SpanChange {
        /// Delete the user's spans from `verifiedAt` on: their verification moved earlier.
        case cover(part: Int, activity: Int, verifiedAt: Int64)
        /// Insert the user's publishes still pending, of the part's segment.
        case insert(part: Int, activity: Int, pending: PendingPublishes)
    }

    /// What the writer takes of a merged range to write (`take(range:)`).
    struct ToWrite {
        var spans: [SpanChange] = []
        /// The rows to insert (new users, in key order) and to rewrite (known users, in key order).
        var created = UserRowBatch()
        var known = UserRowBatch()
        /// A user the range changed but left without a row (a state edited by hand): the rows
        /// after it were not built.
        var withoutRow: Int32?
    }

    /// What merging one range changed: what to put back if the group fails, and what to write.
    struct RangeResult {
        var undo = StateWriter.Undo()
        var toWrite = ToWrite()
    }

    private let parts: [Part]
    private let names: [String]
    /// The key of the first row created by the group: rows with lower keys are known users'.
    private let firstNewKey: Int64
    /// Ids per range.
    private let width: Int
    let rangeCount: Int
    private let rows: UnsafeMutableBufferPointer<StateWriter.UserRow?>
    private let mayHaveSpans: UnsafeMutableBufferPointer<Bool>
    /// By part: its activities' indices, range by range (`starts`), each range's in the part's order.
    private var order: [[Int32]] = []
    private var starts: [[Int]] = []
    private let results: UnsafeMutablePointer<RangeResult>
    /// The key the next new user's row gets; final once the merge is done. Only the merging
    /// thread changes it.
    private(set) var nextStoredID: Int64
    /// Whether the ranges are merged on another thread (`start(on:)`), else each by the writer
    /// just before it writes it (`mergeHere(range:)`).
    private var beside = false

    private let condition = NSCondition()
    /// Guarded by `condition`: ranges merged so far, and ranges whose rows the writer took
    /// (`release(range:)`). Beside, the merge keeps at most `lead` ranges' rows ahead of the
    /// writer: the rows of a group of 1,000,000 users built at once would be ~60 MB more of the
    /// run's peak.
    private var merged = 0
    private var released = 0
    private var mostAhead = 0
    private let lead = 2
    /// Guarded by `condition`: row buffers released by the writer, for the next ranges' rows.
    /// Each range's rows in fresh memory cost more in page faults than building them (~60 ms of
    /// a group of two parts with 500,000 users each).
    private var spare: [UserRowBatch] = []

    init(
        parts: [Part], names: [String], userCount: Int, width: Int, rows: UnsafeMutableBufferPointer<StateWriter.UserRow?>,
        mayHaveSpans: UnsafeMutableBufferPointer<Bool>, nextStoredID: Int64
    ) {
        precondition(width > 0 && rows.count >= userCount && mayHaveSpans.count >= userCount && names.count >= userCount)
        self.parts = parts
        self.names = names
        firstNewKey = nextStoredID
        self.width = width
        rangeCount = max(1, (userCount + width - 1) / width)
        self.rows = rows
        self.mayHaveSpans = mayHaveSpans
        self.nextStoredID = nextStoredID
        results = .allocate(capacity: rangeCount)
        results.initialize(repeating: RangeResult(), count: rangeCount)
    }

    deinit {
        results.deinitialize(count: rangeCount)
        results.deallocate()
    }

    /// Merges every range, in order, on another thread of `pool`, at most `lead` ranges ahead of
    /// the writer.
    func start(on pool: WorkerPool) {
        beside = true
        pool.submit { [self] in
            for range in 0..<rangeCount {
                condition.lock()
                while range - released >= lead { condition.wait() }
                condition.unlock()
                merge(range: range)
            }
        }
    }

    /// Merges `range` on the calling thread, unless the ranges are merged beside
    /// (`start(on:)`). Ranges are merged in order: call it for each, in order, before
    /// `waitFor(range:)`.
    func mergeHere(range: Int) {
        if !beside { merge(range: range) }
    }

    /// Merges one range: every part's users in it, the parts in order, then the rows to write.
    private func merge(range: Int) {
        if range == 0 { placeByRange() }
        var result = RangeResult()
        condition.lock()
        result.toWrite.created = spare.popLast() ?? UserRowBatch()
        result.toWrite.known = spare.popLast() ?? UserRowBatch()
        condition.unlock()
        var next = nextStoredID
        for part in parts.indices { merge(part: part, range: range, nextStoredID: &next, into: &result) }
        nextStoredID = next
        buildRows(from: result.undo, into: &result.toWrite)
        (results + range).pointee = result
        condition.lock()
        merged = range + 1
        mostAhead = max(mostAhead, merged - released)
        condition.broadcast()
        condition.unlock()
    }

    /// The most ranges merged and not yet released at once (for tests: at most `lead` beside).
    var mostAheadOfWriter: Int {
        condition.lock()
        defer { condition.unlock() }
        return mostAhead
    }

    /// Moves `range`'s span changes and rows out for the writer, once it is merged
    /// (`waitFor(range:)`); its undo stays (`takeUndos()`).
    func take(range: Int) -> ToWrite {
        var taken = ToWrite()
        swap(&taken, &(results + range).pointee.toWrite)
        return taken
    }

    /// Takes back what the writer took of `range` (`take(range:)`) once it is written, letting
    /// the merge go on: the row buffers are kept for the next ranges, moved out of `written` so
    /// that they are emptied in place (shared, emptying them would allocate new ones).
    func release(range: Int, _ written: inout ToWrite) {
        var created = UserRowBatch()
        var known = UserRowBatch()
        swap(&created, &written.created)
        swap(&known, &written.known)
        written.spans = []
        created.removeAll()
        known.removeAll()
        condition.lock()
        spare.append(created)
        spare.append(known)
        released = max(released, range + 1)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `range` is merged; what it changed is then final (`take(range:)`).
    func waitFor(range: Int) {
        condition.lock()
        while merged <= range { condition.wait() }
        condition.unlock()
    }

    /// Waits until the merge no longer touches the rows: beside, until every range is merged
    /// (those not written are released: the writer failed); otherwise it is done already.
    func waitUntilDone() {
        guard beside else { return }
        condition.lock()
        released = rangeCount
        condition.broadcast()
        while merged < rangeCount { condition.wait() }
        condition.unlock()
    }

    /// Every range's undo, in order: moved out (call once, after `waitUntilDone()`).
    func takeUndos() -> [StateWriter.Undo] {
        (0..<rangeCount).map { range in
            defer { results[range].undo = StateWriter.Undo() }
            return results[range].undo
        }
    }

    /// Lists each part's activities by range of their ids (a counting sort: two passes over
    /// the ids).
    private func placeByRange() {
        for part in parts {
            var start = [Int](repeating: 0, count: rangeCount + 1)
            for id in part.ids { start[Int(id) / width + 1] += 1 }
            for range in 0..<rangeCount { start[range + 1] += start[range] }
            var next = start
            var placed = [Int32](repeating: 0, count: part.ids.count)
            for (i, id) in part.ids.enumerated() {
                let range = Int(id) / width
                placed[next[range]] = Int32(i)
                next[range] += 1
            }
            order.append(placed)
            starts.append(start)
        }
    }

    /// Merges what `part`'s users of `range` change into the rows, each changed row noted in
    /// the range's undo as it is changed, and the span changes it implies.
    private func merge(part index: Int, range: Int, nextStoredID: inout Int64, into result: inout RangeResult) {
        let part = parts[index]
        let segment = Int32(truncatingIfNeeded: part.segmentID)
        let rows = rows
        let mayHaveSpans = UnsafeBufferPointer(mayHaveSpans)
        // Read in place (a copy of each costs a retain and a release of its name and box).
        part.activities.withUnsafeBufferPointer { activities in
            part.ids.withUnsafeBufferPointer { ids in
                order[index].withUnsafeBufferPointer { order in
                    let listed = order[starts[index][range]..<starts[index][range + 1]]
                    for k in listed.indices {
                        let i = Int(listed[k])
                        // A range's users are a sparse pick of the part's (one in `rangeCount`),
                        // so each activity and id is in a cache line of its own: fetched 16 users
                        // ahead (loading the activity was ~60 % of this loop's samples, 500,000
                        // users), then the row 8 ahead, from the id fetched by then.
                        if k + 16 < listed.endIndex {
                            let ahead = Int(listed[k + 16])
                            Self.prefetch(activities.baseAddress! + ahead)
                            custody_prefetch(ids.baseAddress! + ahead)
                        }
                        let id = ids[i]
                        // Users come in the file's order, not their ids': fetch rows a few users ahead.
                        if k + 8 < listed.endIndex { Self.prefetch(row: rows.baseAddress! + Int(ids[Int(listed[k + 8])])) }
                        let old = rows[Int(id)]
                        // Most users of a file only appear in it: nothing changes for a known one.
                        if old != nil && activities[i].isOnlySeen { continue }
                        let activity = activities[i]
                        var row: StateWriter.UserRow
                        if let old {
                            row = old
                        } else {
                            row = StateWriter.UserRow(storedID: nextStoredID)
                            nextStoredID += 1
                        }
                        var verificationMovedEarlier = false
                        if let v = activity.verifiedAt, row.verifiedAt.map({ v < $0 }) ?? true {
                            row.verifiedAt = v
                            verificationMovedEarlier = old?.verifiedAt != nil
                        }
                        if var first = activity.firstPending {
                            first.file = segment
                            if row.firstPending.map({ first < $0 }) ?? true { row.firstPending = first }
                        }
                        if let old {
                            if old.verifiedAt != row.verifiedAt || old.firstPending != row.firstPending {
                                result.undo.replaced.append((id, old))
                                rows[Int(id)] = row
                            }
                        } else {
                            // New users are created in key order (the writer appends them so).
                            result.undo.created.append(id)
                            rows[Int(id)] = row
                        }
                        // `mayHaveSpans` is read only when a verification moved earlier (rarely),
                        // through a call the compiler cannot move: its element was loaded ahead of
                        // that test, for every user (a cache miss each, a sixth of this loop's time).
                        if verificationMovedEarlier, Self.flag(mayHaveSpans, id), let v = row.verifiedAt {
                            result.toWrite.spans.append(.cover(part: index, activity: i, verifiedAt: v))
                        }
                        guard !activity.pending.isEmpty else { continue }
                        var pending = activity.pending
                        if let v = row.verifiedAt { pending.prune(verifiedAt: v) }
                        if !pending.isEmpty {
                            // A part's users are distinct: a later part of the group sees the flag.
                            self.mayHaveSpans[Int(id)] = true
                            result.toWrite.spans.append(.insert(part: index, activity: i, pending: pending))
                        }
                    }
                }
            }
        }
    }

    /// The rows a range's merge changed (`undo`) to write, as it left them, into `toWrite`'s
    /// (empty) batches: new users' in key order (they were created in key order), then known
    /// users' in key order (each once, however many parts changed it).
    private func buildRows(from undo: StateWriter.Undo, into toWrite: inout ToWrite) {
        let rows = UnsafeBufferPointer(self.rows)
        // Moved out while the nested `add` changes them (and records a missing row).
        var created = UserRowBatch()
        var known = UserRowBatch()
        swap(&created, &toWrite.created)
        swap(&known, &toWrite.known)
        var withoutRow: Int32?
        func add(_ id: Int32, to batch: inout UserRowBatch) -> Bool {
            guard let row = rows[Int(id)] else {
                withoutRow = id
                return false
            }
            batch.add(
                key: row.storedID, name: names[Int(id)], verifiedAt: row.verifiedAt, firstMillis: row.firstPending?.millis,
                firstSegment: row.firstPending.map { Int64($0.file) }, firstLine: row.firstPending.map { Int64($0.line) })
            return true
        }
        defer {
            toWrite.created = created
            toWrite.known = known
            toWrite.withoutRow = withoutRow
        }
        created.reserve(undo.created.count)
        for id in undo.created { guard add(id, to: &created) else { return } }
        // Known before the group (a user new in one part and changed by a later one is created
        // above). A row's key never changes: taken from the undo's old rows, in order, rather
        // than from the rows at random.
        var ids: [Int32] = []
        var keys: [Int64] = []
        ids.reserveCapacity(undo.replaced.count)
        keys.reserveCapacity(undo.replaced.count)
        for (id, old) in undo.replaced where old.storedID < firstNewKey {
            ids.append(id)
            keys.append(old.storedID)
        }
        let ordered = StateWriter.byKey(ids, keys: keys)
        known.reserve(ordered.count)
        names.withUnsafeBufferPointer { names in
            for (k, id) in ordered.enumerated() {
                // In key order, rows and names are visited at random: fetch each a few rows ahead
                // (waiting for them was most of this loop's time with 500,000 users).
                if k + 8 < ordered.count {
                    Self.prefetch(row: rows.baseAddress! + Int(ordered[k + 8]))
                    custody_prefetch(names.baseAddress! + Int(ordered[k + 8]))
                }
                guard add(id, to: &known) else { return }
            }
        }
    }

    /// Starts loading the row at `row`: its first and its last byte. A row is 38 bytes at a
    /// 40-byte stride, so half of them end in the cache line after the one they start in; with
    /// the first line alone fetched, loading such a row still waited for the second (~65 % of
    /// the merge's own samples were that load, 500,000 users).
    static func prefetch(row: UnsafeRawPointer) {
        custody_prefetch(row)
        custody_prefetch(row + (MemoryLayout<StateWriter.UserRow?>.size - 1))
    }

    /// Starts loading the activity at `activity`: its first and its last byte (32 bytes from a
    /// 16-byte boundary, so one in two spans two cache lines).
    static func prefetch(_ activity: UnsafePointer<UserFileActivity>) {
        custody_prefetch(activity)
        custody_prefetch(UnsafeRawPointer(activity) + (MemoryLayout<UserFileActivity>.size - 1))
    }

    /// `flags[id]`, not inlined: so that it is loaded only where it is called (see `merge`).
    @inline(never)
    private static func flag(_ flags: UnsafeBufferPointer<Bool>, _ id: Int32) -> Bool { flags[Int(id)] }
}
