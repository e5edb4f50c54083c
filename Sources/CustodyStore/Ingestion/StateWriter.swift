import CustodyCore
import CustodyIngest
import Foundation
import GRDB

/// Commits ingested parts to the state, a group of parts in one transaction together with the
/// record of having read them: a run killed at any moment leaves the state as it was before some
/// group, never half of one (nor half of a part), and the next run reads that group again.
///
/// Keeps the real-name registry's per-user row in memory for the run, so a file touching tens of
/// thousands of users writes only the rows it changes. Users are held by dense id (`UserIndex`),
/// not in a `[String: UserRow]` dictionary: with 500,000 users the dictionary's lookups were a
/// large part of a fresh run's commit time (perf).
///
/// Not thread-safe: a run hands it from thread to thread, one commit at a time (unchecked).
final class StateWriter: @unchecked Sendable {
    /// Kept to 40 bytes (56 as a key, an optional time and an optional location): one is held
    /// for every user of the run, and one more for every user a group's commit changes (with
    /// 1,000,000 users, 30 MB of a fresh run's peak).
    struct UserRow {
        /// The row's key in the `users` table.
        var storedID: Int64
        private var verified: Int64 = 0
        private var firstMillis: Int64 = 0
        private var firstLine: Int = 0
        private var firstFile: Int32 = 0
        /// Bit 0: `verifiedAt` is set; bit 1: `firstPending` is.
        private var present: UInt8 = 0

        init(storedID: Int64, verifiedAt: Int64? = nil, firstPending: EventLocation? = nil) {
            self.storedID = storedID
            self.verifiedAt = verifiedAt
            self.firstPending = firstPending
        }

        var verifiedAt: Int64? {
            get { present & 1 != 0 ? verified : nil }
            set {
                verified = newValue ?? 0
                present = newValue == nil ? present & ~1 : present | 1
            }
        }

        var firstPending: EventLocation? {
            get { present & 2 != 0 ? EventLocation(millis: firstMillis, file: firstFile, line: firstLine) : nil }
            set {
                firstMillis = newValue?.millis ?? 0
                firstFile = newValue?.file ?? 0
                firstLine = newValue?.line ?? 0
                present = newValue == nil ? present & ~2 : present | 2
            }
        }
    }

    private let database: StateDatabase
    private let policy: Policy
    private let runID: Int64
    private var users = UserIndex()
    /// By user id; nil for a user with no row in the database yet.
    private var rows: [UserRow?] = []
    /// The key the next new user's row gets.
    private var nextStoredID: Int64 = 1
    /// By user id: whether `pending_publishes` may hold spans of the user. A verification that
    /// moves earlier deletes the spans it covers; most users have none to delete (500,000 users:
    /// ~540,000 deletes in a fresh run, nearly all of them finding nothing).
    private var mayHaveSpans: [Bool] = []
    private let ledger: Ledger
    /// Set when a commit placed a hold: the run signs the ledger head before it ends.
    private(set) var heldAfterIntake = false

    init(database: StateDatabase, policy: Policy, runID: Int64) throws {
        self.database = database
        self.policy = policy
        self.runID = runID
        ledger = Ledger(stateDirectory: database.directory)
        // A statement that writes many rows keeps each page's old content it changes, to undo
        // the statement alone if it fails (its statement journal), and SQLite spills that journal
        // to a temporary file past 64 KiB: each 64-row rewrite of known users changes ~64 pages,
        // and a fresh run with 500,000 users wrote ~18,600 pages there (37,000 `pwrite`s). Kept
        // in memory, it holds at most one statement's pages. (Not the transaction's journal: a
        // commit is as durable as before, and a killed run loses only the open group.)
        try database.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
        var names: [String] = []
        try database.pool.read { db in
            try UserRegistryRows.forEachRaw(db) { storedID, bytes, verifiedAt, first in
                // Rows are rewritten whole with the names held: a name that is not UTF-8 (never
                // one custody wrote) would be rewritten changed. Refused, like a name held twice.
                guard let user = String(validating: bytes, as: UTF8.self) else {
                    throw StoreError.database(
                        path: database.path, reason: "the users table holds a name that is not UTF-8; it was changed outside custody")
                }
                names.append(user)
                rows.append(UserRow(storedID: storedID, verifiedAt: verifiedAt, firstPending: first))
                nextStoredID = max(nextStoredID, storedID + 1)
            }
        }
        // The table's names are distinct, so their ids are 0..<count in order, as `rows` is.
        _ = users.intern(count: names.count) { names[$0] }
        // Names are unique because the writer adds only names it does not hold (no index
        // enforces it). A state edited by hand could break that, and rows would no longer line
        // up with ids: refuse rather than merge into the wrong rows.
        guard users.count == names.count else {
            throw StoreError.database(
                path: database.path, reason: "the users table holds a user twice; it was changed outside custody")
        }
        let spanUsers = try database.pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT user FROM pending_publishes") }
        let spanIDs = users.intern(count: spanUsers.count) { spanUsers[$0] }
        growColumns()
        for id in spanIDs { mayHaveSpans[Int(id)] = true }
    }

    /// Hands over the index of the run's user names, for the closing audit (`StateAudit`, which
    /// checks them against the rows it reads); the writer commits nothing more. Its ids follow
    /// the `users` table's keys when every user it interned has a row: those it loaded, in key
    /// order, then each new one in the order its row was created (`mergeUsers`). The rows in
    /// memory go too, freed before the audit builds its own.
    func takeUserIndex() -> UserIndex {
        taken = true
        changes += 1
        rows = []
        mayHaveSpans = []
        defer { users = UserIndex() }
        return users
    }

    /// The state's users as the run leaves them, for the closing audit (`HeldUsers`): the rows
    /// this writer loaded at its start as its commits changed them (the run holds the lock: no
    /// one else writes them meanwhile), as a registry by the ids and names it holds, with a sample
    /// of the rows for the audit to check the table against. Reading 500,000 rows back through
    /// SQLite, their names checked against these, was most of a fresh run's closing audit, on one
    /// core after the last commit. Then the writer commits nothing more; its rows are freed. Nil
    /// (and nothing taken) when some user it holds has no row (a part that shrank, or a pending
    /// span of a user without one in a state edited by hand): the audit then reads the rows, on
    /// the writer's names (`takeUserIndex`).
    ///
    /// Built ahead when the last commit asked for it (`commit(parts:beforeCommit:registryAhead:)`)
    /// and nothing changed since; otherwise now.
    func takeRegistry() -> HeldUsers? {
        guard !taken else { return nil }
        let ahead = registryAhead
        registryAhead = nil
        // The build holds the only other reference to what it returns: dropped here, the
        // registry's tables are not copied at its first change.
        let held = ahead.flatMap { $0.changes == changes ? $0.build.wait() : nil } ?? Self.held(users: users, rows: rows)
        tookRegistryBuiltAhead = ahead?.changes == changes && held != nil
        guard let held else { return nil }
        rows = []
        mayHaveSpans = []
        users = UserIndex()
        taken = true
        return held
    }

    /// Whether `takeRegistry` returned the registry built ahead (for tests).
    private(set) var tookRegistryBuiltAhead = false

    /// `users` with `rows` by id as held; nil when some user has no row.
    private static func held(users: UserIndex, rows: [UserRow?]) -> HeldUsers? {
        guard rows.count == users.count, rows.allSatisfy({ $0 != nil }) else { return nil }
        let sample = HeldRows.samplePositions(count: rows.count).map { id in
            let row = rows[id]!
            return HeldRows.Row(key: row.storedID, name: users.names[id], verifiedAt: row.verifiedAt, firstPending: row.firstPending)
        }
        var registry = RealNameRegistry(seenUsers: users)
        for (id, row) in rows.enumerated() {
            registry.merge(user: Int32(id), fileIndex: 0, verifiedAt: row?.verifiedAt, firstPending: row?.firstPending)
        }
        return HeldUsers(registry: registry, rows: HeldRows(count: rows.count, sample: sample))
    }

    /// The registry being built from the rows as they were when `changes` was this count.
    private var registryAhead: (changes: Int, build: RegistryBuild)?
    /// Counts changes to the users or their rows (a part prepared, a commit begun or failed).
    private var changes = 0
    /// Whether the users were handed over (`takeUserIndex`, `takeRegistry`).
    private var taken = false

    /// A registry built on another thread.
    private final class RegistryBuild: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        // Taken by the build; kept nowhere else (a reference left in the pool's queue would
        // have the registry's tables copied at its first change).
        private var input: (users: UserIndex, rows: [UserRow?])?
        // Written once before `done` is signalled; taken (moved out) by `wait`.
        private var result: HeldUsers?

        init(users: UserIndex, rows: [UserRow?]) {
            input = (users, rows)
            WorkerPool.reads.submit { [self] in
                if let (users, rows) = input.take() { result = StateWriter.held(users: users, rows: rows) }
                done.signal()
            }
        }

        /// The users held, moved out: only once.
        func wait() -> HeldUsers? {
            done.wait()
            return result.take()
        }
    }

    /// Interns `part`'s users ahead of its commit, which then finds their ids ready: `custody
    /// run` does it on the committing thread as each part arrives, while the other files are
    /// still read (the last group's names were a sixth of the run's tail on one core, 500,000
    /// users). Parts are prepared in the order they are committed in: new users' ids then
    /// follow their rows' keys still (`takeUserIndex`).
    func prepare(_ part: IngestedPart) {
        guard prepared[ObjectIdentifier(part)] == nil else { return }
        changes += 1
        prepared[ObjectIdentifier(part)] = (part, intern(part))
    }

    /// Parts' users' ids interned ahead (`prepare`), by part; the part is kept with them, so
    /// that no other takes its identity before it is committed.
    private var prepared: [ObjectIdentifier: (part: IngestedPart, ids: [Int32])] = [:]

    /// The ids of `part`'s users, the new ones added, and the columns grown to them.
    private func intern(_ part: IngestedPart) -> [Int32] {
        let ids = users.intern(count: part.audit.users.count) { part.audit.users[$0].user }
        growColumns()
        return ids
    }

    /// Commits one part. Returns the log file's row id.
    @discardableResult
    func commit(_ part: IngestedPart) throws -> Int64 {
        try commit(parts: [part])[0]
    }

    /// Commits parts in one transaction, in order (a later part sees what an earlier one
    /// changed). No row may name an object that is not on disk: the caller has made their vault
    /// objects durable first (`VaultSync`), or does so in `beforeCommit`, which runs after the
    /// rows are written and before the transaction commits (throwing rolls it back). Returns
    /// the log files' row ids, in order.
    ///
    /// With `registryAhead` (the run's last commit), the closing audit's registry is built on
    /// another thread from the rows as the group leaves them, while they are written
    /// (`takeRegistry`): with 500,000 users, ~12 ms of the run's tail on one core.
    @discardableResult
    func commit(parts: [IngestedPart], beforeCommit: () throws -> Void = {}, registryAhead ahead: Bool = false) throws -> [Int64] {
        changes += 1
        // The in-memory user rows and the next key change range by range inside the transaction
        // (`GroupUserMerge`); if it fails, they go back to what the database still holds, from
        // each range's undo (ranges hold distinct ids). (`mayHaveSpans` is left set: a spare
        // "may" only costs a delete that finds nothing.)
        var undos: [Undo] = []
        let keyBefore = nextStoredID
        do {
            return try database.pool.write { db in
                let scopes = try OpenRequestScopes(db)
                // One time for the group's rows: they are committed together.
                let now = StateDatabase.timestamp()
                let statements = try FileRowStatements(db)
                var merges: [GroupUserMerge.Part] = []
                let ids = try parts.map {
                    try write($0, in: db, scopes: scopes, now: now, statements: statements, merges: &merges)
                }
                try mergeAndWriteUsers(db, merges, firstNewKey: keyBefore, beside: ahead, undos: &undos)
                // The rows are as the group leaves them; they are only read from here on (a failed
                // commit changes them back, and `changes` with them).
                if ahead && !taken { registryAhead = (changes, RegistryBuild(users: users, rows: rows)) }
                try beforeCommit()
                return ids
            }
        } catch {
            changes += 1
            // Changed rows back to what they were, then the group's new rows gone (a user new in
            // one part of the group and changed by a later one ends without a row).
            for undo in undos {
                for (id, row) in undo.replaced.reversed() { rows[Int(id)] = row }
                for id in undo.created { rows[Int(id)] = nil }
            }
            nextStoredID = keyBefore
            throw error
        }
    }

    /// What a group's commit changed in the rows in memory (of one range of user ids:
    /// `GroupUserMerge`): the rows it writes (`mergeAndWriteUsers`), and what to put back if it
    /// fails.
    /// New rows are only their ids, in the order of their keys: a first file's hundreds of
    /// thousands of new users, each kept with its (empty) old row, were ~70 MB of a fresh run's
    /// peak with 1,000,000 users.
    struct Undo {
        var created: [Int32] = []
        var replaced: [(id: Int32, row: UserRow)] = []
    }

    /// Writes one part's file and segment rows inside the caller's transaction `transaction`;
    /// its users are added to `merges`, merged and written once the group's rows all are.
    private func write(
        _ part: IngestedPart, in transaction: Database, scopes: OpenRequestScopes, now: String,
        statements: FileRowStatements, merges: inout [GroupUserMerge.Part]
    ) throws -> Int64 {
        let ids = prepared.removeValue(forKey: ObjectIdentifier(part))?.ids ?? intern(part)
        let fileID = try { (db: Database) throws -> Int64 in
            var record =
                part.plan.record
                ?? LogFileRecord(
                    id: nil, fingerprint: part.plan.identity.fingerprint, fingerprintLength: part.plan.identity.prefixLength,
                    firstPath: part.plan.path, lastPath: part.plan.path, compressed: part.plan.identity.compressed,
                    bytesRead: 0, linesRead: 0, records: 0, rejectedLines: 0, firstRejectedLines: "[]",
                    firstRejectionCause: nil, faultOffset: nil, faultMessage: nil, readToEnd: false,
                    lastInode: nil, lastSize: nil, lastMtimeNs: nil, firstSeenAt: now, lastReadAt: now,
                    nonTextBytes: 0, anonymousPublishes: 0, firstAnonymousPublishLines: "[]", contentChecksum: nil)
            let stored = part.object.flatMap { part.shrank ? nil : $0 }
            if stored != nil {
                record.bytesRead = part.audit.end.bytes
                record.linesRead = part.audit.end.lines
                record.contentChecksum = part.contentChecksum.map { Int64($0) }
                record.records += part.audit.records
                mergeIssues(into: &record, part.audit.issues)
            } else if !part.shrank {
                // Nothing new; a fault found without new bytes is still worth keeping.
                if let fault = part.audit.issues.fault {
                    record.faultOffset = fault.offset
                    record.faultMessage = fault.message
                }
            }
            // A longer prefix identifies the file better next time.
            if part.plan.identity.prefixLength > record.fingerprintLength {
                record.fingerprint = part.plan.identity.fingerprint
                record.fingerprintLength = part.plan.identity.prefixLength
            }
            record.lastPath = part.plan.path
            record.compressed = part.plan.identity.compressed
            record.readToEnd = part.readToEnd
            record.lastInode = Int64(bitPattern: part.plan.identity.inode)
            record.lastSize = part.plan.identity.size
            record.lastMtimeNs = part.plan.identity.modifiedNanoseconds
            record.lastReadAt = now
            // A new file's row is inserted once, complete (10,000 small files: an insert and an
            // update each were a tenth of the commit time).
            if record.id == nil {
                try record.insert(through: statements.insertFile, db)
            } else {
                try record.update(through: statements.updateFile, db)
            }
            let fileID = record.id!
            if let object = stored {
                let segmentID = try insertSegment(
                    db, part: part, object: object, fileID: fileID, scopes: scopes, now: now, statements: statements)
                merges.append(GroupUserMerge.Part(activities: part.audit.users, ids: ids, segmentID: segmentID))
            }
            return fileID
        }(transaction)
        return fileID
    }

    /// Columns by user id, as long as the index of users.
    private func growColumns() {
        if rows.count < users.count { rows.append(contentsOf: repeatElement(nil, count: users.count - rows.count)) }
        if mayHaveSpans.count < users.count {
            mayHaveSpans.append(contentsOf: repeatElement(false, count: users.count - mayHaveSpans.count))
        }
    }

    private func insertSegment(
        _ db: Database, part: IngestedPart, object: IngestedPart.StoredObject, fileID: Int64, scopes: OpenRequestScopes,
        now: String, statements: FileRowStatements
    ) throws -> Int64 {
        var calendar = DayCalendar(timeZone: policy.timeZone)
        let range = part.audit.timeRange
        let firstDay = range.map { CivilDay(daysSinceEpoch: calendar.day(ofMillis: $0.lowerBound)).description }
        let lastDay = range.map { CivilDay(daysSinceEpoch: calendar.day(ofMillis: $0.upperBound)).description }
        // Cached statements (prepared once per run, looked up once per group: `FileRowStatements`),
        // values bound one by one (`BoundStatement`: an argument array per row was most of what
        // these rows cost).
        let insertObject = statements.insertObject
        insertObject.bind(object.sha256, at: 1)
        insertObject.bind(Int64(object.size), at: 2)
        insertObject.bind(Int64(object.storedSize), at: 3)
        insertObject.bind(Int64(part.audit.records), at: 4)
        insertObject.bind(range?.lowerBound, at: 5)
        insertObject.bind(range?.upperBound, at: 6)
        insertObject.bind(firstDay, at: 7)
        insertObject.bind(lastDay, at: 8)
        insertObject.bind(now, at: 9)
        insertObject.bind(VaultFormats.storedName(of: part.plan.format), at: 10)
        try insertObject.run(db)
        let insertSegment = statements.insertSegment
        insertSegment.bind(fileID, at: 1)
        insertSegment.bind(object.sha256, at: 2)
        insertSegment.bind(Int64(part.start.bytes), at: 3)
        insertSegment.bind(Int64(part.audit.end.bytes), at: 4)
        insertSegment.bind(Int64(part.start.lines), at: 5)
        insertSegment.bind(Int64(part.audit.records), at: 6)
        insertSegment.bind(runID, at: 7)
        try insertSegment.run(db)
        let segmentID = db.lastInsertedRowID
        if let range, scopes.overlap(range) { try holdForOpenRequests(db, object: object.sha256, range: range) }
        let insertDay = statements.insertDay
        insertDay.bind(segmentID, at: 1)
        for (day, count) in part.audit.dayCounts.sorted(by: { $0.key < $1.key }) {
            insertDay.bind(CivilDay(daysSinceEpoch: day).description, at: 2)
            insertDay.bind(Int64(count), at: 3)
            try insertDay.run(db)
        }
        return segmentID
    }

    /// The time scopes of the requests still open, read once per commit: most content falls in
    /// none (often there is no request at all), and then no hold needs looking for (a query per
    /// segment was 1.3 % of a fresh run over 10,000 small files). Exact within the transaction
    /// that reads it: no other writer can add or close a request meanwhile.
    struct OpenRequestScopes {
        private var scopes: [(start: Int64, end: Int64)] = []

        init(_ db: Database) throws {
            for row in try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT scope_start_ms, scope_end_ms FROM requests WHERE status NOT IN ('closed', 'withdrawn')"))
            {
                scopes.append((row[0], row[1]))
            }
        }

        /// Whether some open request's scope meets `range`: the condition `holdForOpenRequests`
        /// selects requests by.
        func overlap(_ range: ClosedRange<Int64>) -> Bool {
            scopes.contains { $0.start <= range.upperBound && $0.end >= range.lowerBound }
        }
    }

    /// Content that arrives after a request was recorded, for a time the request covers, is held
    /// too: a hold covers the scope, not only what the vault had at intake.
    private func holdForOpenRequests(_ db: Database, object: String, range: ClosedRange<Int64>) throws {
        let requests = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT id FROM requests
                    WHERE status NOT IN ('closed', 'withdrawn') AND scope_start_ms <= ? AND scope_end_ms >= ?
                      AND NOT EXISTS (SELECT 1 FROM legal_holds WHERE request_id = requests.id AND vault_object = ? AND released_at IS NULL)
                    ORDER BY id
                    """), arguments: [range.upperBound, range.lowerBound, object])
        for request in requests {
            try db.execute(
                sql: "INSERT INTO legal_holds (request_id, vault_object, placed_at) VALUES (?, ?, ?)",
                arguments: [request, object, StateDatabase.timestamp()])
            try ledger.append(
                "hold.placed",
                .object([
                    ("request", .string(request)), ("vault_objects", .array([.string(object)])),
                    ("reason", .string("content ingested after intake")),
                ]), db: db)
            heldAfterIntake = true
        }
    }

    /// Ids per range of the group's merge (`GroupUserMerge`): a range's rows (32,768 of 40 bytes)
    /// stay in the merging core's cache while the rows to write are built from them, and the
    /// first range, which the writer waits for, is a small part of a big group's merge.
    var mergeRangeWidth = 1 << 15
    /// Users (of the run's last group's parts) from which the merge runs on another thread,
    /// ahead of the writes; below, on the committing thread first (a hand-off costs more than
    /// it saves).
    var mergeBesideFromUsers = 100_000
    /// Whether the last commit's merge ran on another thread (for tests).
    private(set) var mergedBeside = false

    /// Merges the group's users (`merges`) into the rows in memory and writes what changed: the
    /// `users` rows, each once and as the group's last part left it, and the pending spans.
    /// Range of user ids by range (`GroupUserMerge`): `beside` (the run's last group, when no
    /// file is read any more) and with many users, each range is written while the next is
    /// merged on another thread (otherwise the reads have the other cores, and the hand-offs
    /// only add work: a fresh run with 500,000 users took ~60 ms more CPU time for the same
    /// wall time with every group's merge beside). `undos` gets what was changed, range by
    /// range, even when this throws.
    ///
    /// Written per part, a user changed by several parts of a group was written as many times,
    /// and each big part's rows rewrote most of the table's pages into the log again (with
    /// 500,000 users, a big file's users are mostly the last one's). New users' keys are
    /// `firstNewKey...`, created in key order: appended at the table's end, as their keys follow
    /// its highest (but in a state edited by hand, keys all below 1: then inserted with their
    /// keys). Known users are rewritten in key order, each B-tree page visited once.
    private func mergeAndWriteUsers(
        _ db: Database, _ merges: [GroupUserMerge.Part], firstNewKey: Int64, beside: Bool, undos: inout [Undo]
    ) throws {
        guard !merges.isEmpty else { return }
        // Values bound one by one (BoundStatement).
        let coverSpans = try BoundStatement(db, sql: "DELETE FROM pending_publishes WHERE user = ? AND earliest_ms >= ?")
        let insertSpan = try BoundStatement(
            db,
            sql: """
                INSERT INTO pending_publishes (user, segment_id, events, earliest_ms, latest_ms, exact_times_ms)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
        let highest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM users"))
        var insertUsers = UserRowInserter(db, appending: (highest ?? 0) + 1 == firstNewKey)
        var updateUsers = UserRowInserter(db, updating: true)
        let besideFromUsers = mergeBesideFromUsers
        // Taken out while they are changed through pointers (each access to a property of this
        // class is checked for exclusive access, an array's subscript for its bounds); put back
        // whatever happens: the caller's undo then puts back what was changed.
        var rows = self.rows
        self.rows = []
        defer { self.rows = rows }
        var mayHaveSpans = self.mayHaveSpans
        self.mayHaveSpans = []
        defer { self.mayHaveSpans = mayHaveSpans }
        let names = users.names
        let width = mergeRangeWidth
        nextStoredID = try rows.withUnsafeMutableBufferPointer { rowsBuffer in
            try mayHaveSpans.withUnsafeMutableBufferPointer { flags in
                let merge = GroupUserMerge(
                    parts: merges, names: names, userCount: names.count, width: width, rows: rowsBuffer, mayHaveSpans: flags,
                    nextStoredID: nextStoredID)
                mergedBeside = beside && merges.reduce(0, { $0 + $1.ids.count }) >= besideFromUsers
                if mergedBeside { merge.start(on: WorkerPool.merges) }
                // The merge never outlives the buffers; its undo is the caller's, thrown or not.
                defer {
                    merge.waitUntilDone()
                    undos = merge.takeUndos()
                }
                for range in 0..<merge.rangeCount {
                    merge.mergeHere(range: range)
                    merge.waitFor(range: range)
                    var written = merge.take(range: range)
                    for change in written.spans {
                        switch change {
                        case .cover(let part, let activity, let verifiedAt):
                            coverSpans.bind(verifiedAt, at: 2)
                            try coverSpans.run(db, text: merges[part].activities[activity].user, at: 1)
                        case .insert(let part, let activity, let pending):
                            let exact = pending.isExact ? ExactTimesText.format(pending.exact) : nil
                            insertSpan.bind(merges[part].segmentID, at: 2)
                            insertSpan.bind(Int64(pending.count), at: 3)
                            insertSpan.bind(pending.earliest, at: 4)
                            insertSpan.bind(pending.latest, at: 5)
                            insertSpan.bind(exact, at: 6)
                            try insertSpan.run(db, text: merges[part].activities[activity].user, at: 1)
                        }
                    }
                    // Every id a group changed has its row in memory (written back as it is merged).
                    if let id = written.withoutRow {
                        throw StoreError.database(path: database.path, reason: "user \(names[Int(id)]) was changed but has no row")
                    }
                    try insertUsers.add(written.created)
                    try updateUsers.add(written.known)
                    merge.release(range: range, &written)
                }
                try insertUsers.flush()
                try updateUsers.flush()
                merge.waitUntilDone()
                return merge.nextStoredID
            }
        }
    }

    /// `ids` in the order of their rows' keys (`keys`, one for each), each once (a user changed
    /// by several parts of a group is listed once per part), so that rows are updated in the
    /// table's order. The keys of distinct users are distinct but in a state edited by hand.
    /// When they are many for the span of keys they cover (a big file rewrites a good part of
    /// a range of users), each is placed at its key and the keys walked in order, in one pass;
    /// otherwise sorted as one integer each (key, then position), not as the rows (a sort was
    /// 4 % of a fresh run's commit time with 500,000 users).
    static func byKey(_ ids: [Int32], keys: [Int64]) -> [Int32] {
        precondition(ids.count == keys.count)
        // Often already in order.
        if zip(keys, keys.dropFirst()).allSatisfy({ $0 < $1 }) { return ids }
        if let low = keys.min(), let high = keys.max() {
            let (span, overflow) = high.subtractingReportingOverflow(low)
            if !overflow && span < 16 * Int64(ids.count), let placed = placedByKey(ids, keys: keys, from: low, count: Int(span) + 1) {
                return placed
            }
        }
        var ordered: [Int32] = []
        ordered.reserveCapacity(ids.count)
        // Packed only when every key fits in 32 bits: a negative key (a state edited by hand)
        // trapped in the conversion, and the run crashed.
        guard ids.count < 1 << 32, keys.allSatisfy({ (0..<1 << 32).contains($0) }) else {
            for i in ids.indices.sorted(by: { (keys[$0], $0) < (keys[$1], $1) }) where ordered.last != ids[i] {
                ordered.append(ids[i])
            }
            return ordered
        }
        var order = ids.indices.map { UInt64($0) | UInt64(keys[$0]) << 32 }
        order.sort()
        for packed in order {
            let id = ids[Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)]
            if ordered.last != id { ordered.append(id) }
        }
        return ordered
    }

    /// `byKey` by placing each id at its key's offset from `low` (every key is in
    /// `low..<low + count`): nil when a key is taken by two ids (a state edited by hand), for
    /// the caller to sort instead.
    private static func placedByKey(_ ids: [Int32], keys: [Int64], from low: Int64, count: Int) -> [Int32]? {
        var at = [Int32](repeating: -1, count: count)
        let placed = at.withUnsafeMutableBufferPointer { at -> Bool in
            for (id, key) in zip(ids, keys) {
                let slot = Int(key - low)
                guard at[slot] < 0 || at[slot] == id else { return false }
                at[slot] = id
            }
            return true
        }
        guard placed else { return nil }
        var ordered: [Int32] = []
        ordered.reserveCapacity(ids.count)
        for id in at where id >= 0 { ordered.append(id) }
        return ordered
    }

    private func mergeIssues(into record: inout LogFileRecord, _ issues: InputIssues) {
        guard issues.rejectedLines > 0 || issues.fault != nil || issues.anonymousPublishes > 0 else { return }
        var merged = record.issues
        record.nonTextBytes += issues.nonTextBytes
        if issues.anonymousPublishes > 0 {
            var lines = merged.firstAnonymousPublishLines
            for line in issues.firstAnonymousPublishLines where lines.count < InputIssues.listedLines { lines.append(line) }
            record.anonymousPublishes += issues.anonymousPublishes
            record.firstAnonymousPublishLines = "[" + lines.map(String.init).joined(separator: ",") + "]"
        }
        merged.rejectedLines += issues.rejectedLines
        for line in issues.firstRejectedLines where merged.firstRejectedLines.count < InputIssues.listedLines {
            merged.firstRejectedLines.append(line)
        }
        record.rejectedLines = merged.rejectedLines
        record.firstRejectedLines = "[" + merged.firstRejectedLines.map(String.init).joined(separator: ",") + "]"
        record.firstRejectionCause = record.firstRejectionCause ?? issues.firstRejectionCause
        if let fault = issues.fault {
            record.faultOffset = fault.offset
            record.faultMessage = fault.message
        }
    }
}
