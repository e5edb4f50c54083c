import CPrefetch
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
    private struct UserRow {
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
        // The in-memory user rows and the next key change part by part inside the transaction;
        // if it fails, they go back to what the database still holds. (`mayHaveSpans` is left
        // set: a spare "may" only costs a delete that finds nothing.)
        var undo = Undo()
        let keyBefore = nextStoredID
        do {
            return try database.pool.write { db in
                let scopes = try OpenRequestScopes(db)
                // One time for the group's rows: they are committed together.
                let now = StateDatabase.timestamp()
                let statements = try FileRowStatements(db)
                let ids = try parts.map { try write($0, in: db, scopes: scopes, now: now, statements: statements, undo: &undo) }
                // The rows are as the group leaves them; they are only read from here on (a failed
                // commit changes them back, and `changes` with them).
                if ahead && !taken { registryAhead = (changes, RegistryBuild(users: users, rows: rows)) }
                try writeUsers(db, changed: undo, firstNewKey: keyBefore)
                try beforeCommit()
                return ids
            }
        } catch {
            changes += 1
            // Changed rows back to what they were, then the group's new rows gone (a user new in
            // one part of the group and changed by a later one ends without a row).
            for (id, row) in undo.replaced.reversed() { rows[Int(id)] = row }
            for id in undo.created { rows[Int(id)] = nil }
            nextStoredID = keyBefore
            throw error
        }
    }

    /// What a group's commit changed in the rows in memory: the rows it writes at its end
    /// (`writeUsers`), and what to put back if it fails. New rows are only their ids, in the
    /// order of their keys: a first file's hundreds of thousands of new users, each kept with
    /// its (empty) old row, were ~70 MB of a fresh run's peak with 1,000,000 users.
    private struct Undo {
        var created: [Int32] = []
        var replaced: [(id: Int32, row: UserRow)] = []
    }

    /// Writes one part inside the caller's transaction `transaction`.
    private func write(
        _ part: IngestedPart, in transaction: Database, scopes: OpenRequestScopes, now: String,
        statements: FileRowStatements, undo: inout Undo
    ) throws -> Int64 {
        var spannedUsers: [Int32] = []
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
                spannedUsers = try mergeUsers(db, part.audit.users, ids: ids, segmentID: segmentID, undo: &undo)
            }
            return fileID
        }(transaction)
        mayHaveSpans.withUnsafeMutableBufferPointer { mayHaveSpans in
            for id in spannedUsers { mayHaveSpans[Int(id)] = true }
        }
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

    /// Merges what `activities` (whose user ids are `ids`) change into the rows in memory, each
    /// changed row noted in `undo` as it is changed (the `users` rows themselves are written once
    /// the group's parts are all merged: `writeUsers`), and writes their pending spans; returns
    /// the users given pending spans.
    ///
    /// A part's users are distinct, so each row is changed in place, once: the changed rows were
    /// gathered first (48 bytes each, a fresh array of a part's size: with 500,000 users, a
    /// tenth of the commit thread's time went to faulting its pages in) and written back in a
    /// second pass that visited each row at random again.
    private func mergeUsers(
        _ db: Database, _ activities: [UserFileActivity], ids: [Int32],
        segmentID: Int64, undo: inout Undo
    ) throws -> [Int32] {
        // Values bound one by one (BoundStatement).
        let coverSpans = try BoundStatement(db, sql: "DELETE FROM pending_publishes WHERE user = ? AND earliest_ms >= ?")
        let insertSpan = try BoundStatement(
            db,
            sql: """
                INSERT INTO pending_publishes (user, segment_id, events, earliest_ms, latest_ms, exact_times_ms)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
        let segment = Int32(truncatingIfNeeded: segmentID)
        var nextStoredID = self.nextStoredID
        defer { self.nextStoredID = nextStoredID }
        var spanned: [Int32] = []
        // Taken out while they are changed through a pointer (each access to a property of this
        // class is checked for exclusive access, an array's subscript for its bounds); put back
        // whatever happens: the caller's undo then puts back what was changed.
        var rows = self.rows
        self.rows = []
        defer { self.rows = rows }
        // Read only here: a local array's reads are not checked for exclusive access.
        let mayHaveSpans = self.mayHaveSpans
        // Activities are read in place (a copy of each costs a retain and a release of its name
        // and box).
        try activities.withUnsafeBufferPointer { activities in
            try rows.withUnsafeMutableBufferPointer { rows in
                try mayHaveSpans.withUnsafeBufferPointer { mayHaveSpans in
                    for i in activities.indices {
                        let id = ids[i]
                        // Users come in the file's order, not their ids': fetch rows a few users ahead.
                        if i + 8 < ids.count { Self.prefetch(row: rows.baseAddress! + Int(ids[i + 8])) }
                        let old = rows[Int(id)]
                        // Most users of a file only appear in it: nothing changes for a known one.
                        if old != nil && activities[i].isOnlySeen { continue }
                        let activity = activities[i]
                        var row: UserRow
                        if let old {
                            row = old
                        } else {
                            row = UserRow(storedID: nextStoredID)
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
                                undo.replaced.append((id, old))
                                rows[Int(id)] = row
                            }
                        } else {
                            // New users are created in key order (`writeUsers` appends them so).
                            undo.created.append(id)
                            rows[Int(id)] = row
                        }
                        // `mayHaveSpans` is read only when a verification moved earlier (rarely),
                        // through a call the compiler cannot move: its element was loaded ahead of
                        // that test, for every user (a cache miss each, a sixth of this loop's time).
                        if verificationMovedEarlier, Self.flag(mayHaveSpans, id), let v = row.verifiedAt {
                            coverSpans.bind(v, at: 2)
                            try coverSpans.run(db, text: activity.user, at: 1)
                        }
                        guard !activity.pending.isEmpty else { continue }
                        var pending = activity.pending
                        if let v = row.verifiedAt { pending.prune(verifiedAt: v) }
                        if !pending.isEmpty {
                            spanned.append(id)
                            let exact = pending.isExact ? ExactTimesText.format(pending.exact) : nil
                            insertSpan.bind(segmentID, at: 2)
                            insertSpan.bind(Int64(pending.count), at: 3)
                            insertSpan.bind(pending.earliest, at: 4)
                            insertSpan.bind(pending.latest, at: 5)
                            insertSpan.bind(exact, at: 6)
                            try insertSpan.run(db, text: activity.user, at: 1)
                        }
                    }
                }
            }
        }
        return spanned
    }

    /// Writes the `users` rows the group changed (`changed`, its undo), each once and as the
    /// group's last part left it. Written per part, a user changed by several parts of a group
    /// was written as many times, and each big part's rows rewrote most of the table's pages
    /// into the log again (with 500,000 users, a big file's users are mostly the last one's).
    ///
    /// New users' keys are `firstNewKey...`, created in key order: appended at the table's end,
    /// as their keys follow its highest (but in a state edited by hand, keys all below 1: then
    /// inserted with their keys). Known users are rewritten in key order, each B-tree page
    /// visited once.
    private func writeUsers(_ db: Database, changed: Undo, firstNewKey: Int64) throws {
        guard !changed.created.isEmpty || !changed.replaced.isEmpty else { return }
        let names = users.names
        let rows = self.rows
        func add(_ id: Int32, to inserter: inout UserRowInserter) throws {
            // Every id a group changed has its row in memory (written back after each part).
            guard let row = rows[Int(id)] else {
                throw StoreError.database(path: database.path, reason: "user \(names[Int(id)]) was changed but has no row")
            }
            try inserter.add(
                key: row.storedID, name: names[Int(id)], verifiedAt: row.verifiedAt, firstMillis: row.firstPending?.millis,
                firstSegment: row.firstPending.map { Int64($0.file) }, firstLine: row.firstPending.map { Int64($0.line) })
        }
        if !changed.created.isEmpty {
            let highest = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM users"))
            var insertUsers = UserRowInserter(db, appending: (highest ?? 0) + 1 == firstNewKey)
            for id in changed.created { try add(id, to: &insertUsers) }
            try insertUsers.flush()
        }
        // Known before the group (a user new in one part and changed by a later one was inserted
        // above). A row's key never changes: taken from the undo's old rows, in order, rather
        // than from the rows at random.
        var known: [Int32] = []
        var keys: [Int64] = []
        known.reserveCapacity(changed.replaced.count)
        keys.reserveCapacity(changed.replaced.count)
        for (id, old) in changed.replaced where old.storedID < firstNewKey {
            known.append(id)
            keys.append(old.storedID)
        }
        let ordered = Self.byKey(known, keys: keys, keysBelow: firstNewKey)
        var updateUsers = UserRowInserter(db, updating: true)
        try rows.withUnsafeBufferPointer { rowsPointer in
            try names.withUnsafeBufferPointer { namesPointer in
                for (k, id) in ordered.enumerated() {
                    // In key order, rows and names are visited at random: fetch each a few rows
                    // ahead (waiting for them was most of this loop's time with 500,000 users).
                    if k + 8 < ordered.count {
                        Self.prefetch(row: rowsPointer.baseAddress! + Int(ordered[k + 8]))
                        custody_prefetch(namesPointer.baseAddress! + Int(ordered[k + 8]))
                    }
                    try add(id, to: &updateUsers)
                }
            }
        }
        try updateUsers.flush()
    }

    /// Starts loading the row at `row` (one of `rows`): its first and its last byte. A row is
    /// 38 bytes at a 40-byte stride, so half of them end in the cache line after the one they
    /// start in; with the first line alone fetched, loading such a row still waited for the
    /// second (~65 % of `mergeUsers`' own samples were that load, 500,000 users).
    private static func prefetch(row: UnsafeRawPointer) {
        custody_prefetch(row)
        custody_prefetch(row + (MemoryLayout<UserRow?>.size - 1))
    }

    /// `flags[id]`, not inlined: so that it is loaded only where it is called (see `mergeUsers`).
    @inline(never)
    private static func flag(_ flags: UnsafeBufferPointer<Bool>, _ id: Int32) -> Bool { flags[Int(id)] }

    /// `ids` in the order of their rows' keys (`keys`, one for each), each once (a user changed
    /// by several parts of a group is listed once per part), so that rows are updated in the
    /// table's order. The keys of distinct users are distinct and, but in a state edited by
    /// hand, below `keysBelow`. When they are many for their range (a big file rewrites a good
    /// part of all users), each is placed at its key and the keys walked in order, in one pass;
    /// otherwise sorted as one integer each (key, then position), not as the rows (a sort was
    /// 4 % of a fresh run's commit time with 500,000 users).
    static func byKey(_ ids: [Int32], keys: [Int64], keysBelow: Int64) -> [Int32] {
        precondition(ids.count == keys.count)
        // Often already in order.
        if zip(keys, keys.dropFirst()).allSatisfy({ $0 < $1 }) { return ids }
        if keysBelow <= 16 * Int64(ids.count) && keysBelow < Int64(Int32.max),
            let placed = placedByKey(ids, keys: keys, keysBelow: Int(keysBelow))
        {
            return placed
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

    /// `byKey` by placing: nil when some key is outside `0..<keysBelow` or taken by two ids (a
    /// state edited by hand), for the caller to sort instead.
    private static func placedByKey(_ ids: [Int32], keys: [Int64], keysBelow: Int) -> [Int32]? {
        var at = [Int32](repeating: -1, count: keysBelow)
        let placed = at.withUnsafeMutableBufferPointer { at -> Bool in
            for (id, key) in zip(ids, keys) {
                guard key >= 0 && key < keysBelow && (at[Int(key)] < 0 || at[Int(key)] == id) else { return false }
                at[Int(key)] = id
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
