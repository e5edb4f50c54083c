import CustodyCore
import CustodyIngest
import Foundation
import GRDB
import Logging

/// What a `custody run` did.
public struct RunSummary: Sendable {
    public var runID: Int64
    public var report: CheckReport
    public var filesSeen: Int
    public var filesRead: Int
    public var recordsAdded: Int
    public var bytesAdded: Int
    public var duration: TimeInterval
    /// A stop was requested (SIGTERM) before every file was read.
    public var stoppedEarly: Bool
}

/// `custody run`: ingest what is new from the configured sources, exactly once, into the state
/// and the vault; then audit everything the state holds.
public enum IngestionRun {
    public static func run(
        configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay,
        jobs: Int = ProcessInfo.processInfo.activeProcessorCount, logger: Logger,
        shouldStop: @escaping @Sendable () -> Bool = { false }
    ) async throws -> RunSummary {
        try await run(
            configuration: configuration, policy: policy, asOf: asOf, jobs: jobs, logger: logger, shouldStop: shouldStop,
            helpers: DecodeHelpers())
    }

    /// `run` with the board through which an idle read thread helps another read (tests watch it).
    static func run(
        configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay, jobs: Int, logger: Logger,
        shouldStop: @escaping @Sendable () -> Bool, helpers: DecodeHelpers
    ) async throws -> RunSummary {
        let started = Date()
        let lock = try RunLock(stateDirectory: configuration.stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        let database = try StateDatabase(directory: configuration.stateDirectory)
        var opened = try Vault(directory: configuration.vaultDirectory)
        opened.packLimit = configuration.vaultPackLimit
        let vault = opened
        vault.removeIncomplete()
        let runID = try await database.pool.write { db -> Int64 in
            // We hold the lock: a run still marked running was killed.
            try db.execute(sql: "UPDATE runs SET outcome = 'interrupted' WHERE outcome = 'running'")
            try db.execute(
                sql: "INSERT INTO runs (started_at, outcome) VALUES (?, 'running')", arguments: [StateDatabase.timestamp(started)])
            return db.lastInsertedRowID
        }

        let (inputs, sourceFindings) = SourceExpander.expand(configuration.sources)
        for finding in sourceFindings {
            if finding.severity == .error { logger.error("\(finding.message)") } else { logger.warning("\(finding.message)") }
        }
        // The first files are planned now; with many files to read, the rest a slice at a time
        // while the first are read and committed (planning 10,000 small files was a fifth of a
        // fresh run, with a core idle through it). A first slice with fewer files to read than
        // `jobs` is planned whole now: a lone big file is then decoded on a second thread.
        var planner = try RunPlanner(database: database, jobs: jobs)
        var planned = min(inputs.count, Self.planSlice)
        var plans = PlanQueue(planner.plan(inputs[0..<planned], logger: logger))
        if plans.count < max(1, jobs) && planned < inputs.count {
            plans.append(contentsOf: planner.plan(inputs[planned...], logger: logger))
            planned = inputs.count
        }
        func announce() { logger.info("run \(runID): \(inputs.count) files in sources, \(plans.count) with something new") }
        if planned == inputs.count { announce() }

        let writer = try StateWriter(database: database, policy: policy, runID: runID)
        // Each group rewrites much of the users table: checkpointing the WAL after each (SQLite's
        // default, past 1,000 pages) copied the same pages into the database again and again.
        // Once, after intake, is enough; commits are as durable in the WAL as in the database.
        // (A setting of the writer's connection only: it ends with the process, whatever happens.)
        try await database.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        // Opened before any object is written, so that it reports their write-back errors.
        let vaultSync = try VaultSync(vault: vault)
        var filesRead = 0
        var recordsAdded = 0
        var bytesAdded = 0
        var stoppedEarly = false
        let prefetch = planned == inputs.count && plans.count < jobs
        let clock = ContinuousClock()
        let begun = clock.now
        // Parts are committed in groups: their vault objects made durable together, then their
        // rows in one transaction (`CommitGrouping`). A killed run leaves the state as it was
        // before some group; the next run reads that group's files again.
        var grouping = CommitGrouping()
        var pending: [IngestedPart] = []
        var groups = 0
        /// Writes one group: its small objects in one pack, its rows in one transaction. The last
        /// group has the closing audit's registry built while its rows are written.
        let commitGroup: @Sendable ([IngestedPart], _ last: Bool) throws -> Void = { [writer, vault, vaultSync] parts, last in
            // The group's small objects go into one pack (one file created and renamed, not one per object).
            let stored = parts.compactMap { $0.shrank ? nil : $0.object }
            let pack = try vault.writePack(stored.compactMap { object in object.packBytes.map { (object.sha256, $0) } })
            // The objects are made durable on another thread while the group's rows are written;
            // the transaction commits only once they are, and a failed sync rolls it back. (The
            // sync waits on the disk, the rows on the CPU: one after the other, the sync was a
            // third of a fresh run over 10,000 small files on a busy machine.)
            let loose = stored.filter { $0.packBytes == nil }.map(\.sha256)
            let durable = Background(on: .syncs) { [vaultSync] in try vaultSync.sync(objects: loose, packs: pack.map { [$0] } ?? []) }
            do {
                try writer.commit(parts: parts, beforeCommit: { try durable.wait() }, registryAhead: last)
            } catch {
                _ = try? durable.wait()  // nothing of the group's may be left running
                throw error
            }
        }
        /// Counts and logs a group once it is committed.
        func committed(_ parts: [IngestedPart]) {
            groups += 1
            for part in parts {
                filesRead += 1
                recordsAdded += part.shrank ? 0 : part.audit.records
                bytesAdded += part.shrank ? 0 : part.addedBytes
                log(part, logger: logger)
            }
        }
        /// Parts waiting, in order, whose users are not interned ahead (`prepareAhead`): the
        /// pending parts from the first one not prepared.
        var unprepared: [IngestedPart] = []
        /// Interns a part's users on the committing thread as it arrives (`StateWriter.prepare`),
        /// when it has many: its group's commit is then shorter, and the last group's is the run's
        /// tail, on one core. Parts are prepared in their commit order (new users' ids follow their
        /// rows' keys), so the parts waiting before it are prepared with it. A part with few users
        /// is not handed over on its own: 10,000 small files' hand-offs cost a tenth of the run's CPU.
        func prepareAhead(_ part: IngestedPart) {
            unprepared.append(part)
            guard part.audit.users.count >= Self.preparedPartUsers else { return }
            let parts = unprepared
            unprepared = []
            WorkerPool.commits.submit { [writer] in for part in parts { writer.prepare(part) } }
        }
        /// The next group to commit: the open group, at most `maxParts` of it, and no more parts
        /// once it holds `waitingUsersLimit` users (parts that arrive while a group is committed
        /// join the open group; the rest opens the next one; `groupSize`). The bound keeps a
        /// group's parts, held until it commits, to what already waits for it.
        func takeGroup(at now: Duration) -> [IngestedPart] {
            let count = Self.groupSize(users: pending.lazy.map(\.audit.users.count), maxParts: grouping.maxParts)
            let taken = Array(pending.prefix(count))
            pending.removeFirst(taken.count)
            // Those of them not prepared yet are prepared now, queued on the committing thread
            // before any later part's preparation: the group's commit itself is queued there only
            // once its task runs, and a big part arriving meanwhile would be prepared first (its
            // new users' ids then no longer follow their rows' keys, and the closing audit hashes
            // every name again). One hand-off a group, not one a part.
            let takenIDs = Set(taken.map(ObjectIdentifier.init))
            let toPrepare = unprepared.filter { takenIDs.contains(ObjectIdentifier($0)) }
            if !toPrepare.isEmpty {
                unprepared.removeAll { takenIDs.contains(ObjectIdentifier($0)) }
                WorkerPool.commits.submit { [writer] in for part in toPrepare { writer.prepare(part) } }
            }
            grouping.reset(taken: taken.count)
            for part in pending { _ = grouping.add(newBytes: part.addedBytes, at: now) }
            return taken
        }
        /// Commits what is pending, now (at the end of intake): on the committing thread, after
        /// whatever is queued there (parts' users interned ahead, `StateWriter.prepare`).
        func commitPending() async throws {
            while !pending.isEmpty {
                let parts = takeGroup(at: clock.now - begun)
                let last = pending.isEmpty
                try await WorkerPool.commits.run { try commitGroup(parts, last) }
                committed(parts)
            }
        }
        try await withThrowingTaskGroup(of: RunEvent.self) { group in
            var reading = 0
            var planning = false
            var wakeUpScheduled = false
            /// The first read that failed: nothing more is started, the reads under way are
            /// finished and committed, then the run stops with it.
            var failure: Error?
            /// Plans the next slice of files on a thread of its own (the planner's state goes with
            /// it and comes back with the plans: slices are planned one after the other, in order).
            /// Planned at most a slice ahead of the reads: planning runs ahead of reading small
            /// files, and every plan holds its file's bytes until it is read (10,000 small files:
            /// all planned before a third was read, ~15 MB more at the peak, all of it fresh pages).
            func planMore() {
                guard planned < inputs.count, !planning, !stoppedEarly, failure == nil, plans.waiting < Self.planSlice else { return }
                let slice = inputs[planned..<min(inputs.count, planned + Self.planSlice)]
                planned += slice.count
                planning = true
                let current = planner
                group.addTask {
                    try await WorkerPool.reads.run {
                        var planner = current
                        let plans = planner.plan(slice, logger: logger)
                        return .planned(plans, planner)
                    }
                }
            }
            func startNext() -> Bool {
                guard plans.next != nil, failure == nil else { return false }
                if shouldStop() {
                    stoppedEarly = true
                    return false
                }
                let plan = plans.take()!
                planMore()
                reading += 1
                // A big file is read on a thread of its own, not the concurrency pool's: this loop
                // must stay free to commit a group (and start the next read) while files are read.
                // A small one is read right here: handing it to another thread and back cost more
                // than reading it (10,000 small files: a sixth of the run's CPU in thread switches).
                if plan.identity.size <= Ingestion.inlineCopyLimit {
                    group.addTask { .part(try Ingestion.read(plan, policy: policy, vault: vault, prefetch: prefetch, durable: false)) }
                } else {
                    // Announced now, before any helper this loop starts next looks for it.
                    let ticket = prefetch ? nil : helpers.expectRead(fileBytes: Int(plan.identity.size))
                    group.addTask {
                        .part(
                            try await WorkerPool.reads.run {
                                try Ingestion.read(
                                    plan, policy: policy, vault: vault, prefetch: prefetch, durable: false, helpers: ticket)
                            })
                    }
                }
                return true
            }
            /// Helpers under way (`DecodeHelpers.helpOne` on a read thread).
            var helping = 0
            /// With no file left to start and a read slot free while a big file is still read,
            /// the free core inflates the rest of that file: the last file of a run was read on
            /// one core while the other stood idle (500,000 users: ~0.1 s of a 1.9 s run).
            func helpIfIdle() {
                guard !prefetch, failure == nil, plans.next == nil, planned == inputs.count, !planning, reading > 0,
                    reading + helping < max(1, jobs)
                else { return }
                helping += 1
                // Never throws: the loop counts a thrown error as a failed read.
                group.addTask { .helped((try? await WorkerPool.reads.run { helpers.helpOne() }) ?? false) }
            }
            // Up to `jobs` files are read at once; files already in memory (`WholeFile`) further
            // ahead, up to a group's worth: reading them costs no I/O and little memory (their
            // bytes are held by the plans already), and the other cores go on auditing them while
            // this loop commits a group. With only `jobs` in flight, reading stopped for the
            // whole of each commit.
            let readAhead = max(max(1, jobs), grouping.maxParts)
            /// A group is committed on a thread of its own while this loop goes on starting reads
            /// and taking in what was read (one group at a time, in order). Committed here, the
            /// first file's ~400,000 new users held back the next read for a second (500,000 users).
            var committing = false
            /// Users in parts read and not yet committed (the group being committed excluded).
            var waitingUsers = 0
            func startMore() {
                while let plan = plans.next, reading < max(1, jobs) || (plan.contents != nil && reading < readAhead) {
                    // A file read from its path is not started while a group is committed and
                    // very many users already wait for the next: each part holds its users until
                    // it is committed. (At 100,000 users, the bound left a core idle through
                    // much of the first big commit with 500,000 users, the next file not started
                    // while the second waited; without it a fresh run with 1,000,000 users peaks
                    // ~20 MB higher, well below 500 MB, since the writer's rows and undo shrank.)
                    if plan.contents == nil && committing && waitingUsers >= Self.readAheadUsersLimit { return }
                    // Nor any file once a whole group waits: reading further ahead only piles up
                    // parts (and each group's start went through all of them).
                    if committing && pending.count >= grouping.maxParts { return }
                    guard startNext() else { return }
                }
                helpIfIdle()
            }
            /// Until when a group due with one big part waits for the reads under way
            /// (`bigPartHold`); nil when none waits.
            var holdUntil: Duration?
            func commitIfDue() {
                let now = clock.now - begun
                guard !committing, grouping.isDue(at: now) else { return }
                if holdUntil == nil, !pending.isEmpty,
                    let hold = Self.bigPartHold(
                        users: pending[0].audit.users.count, waiting: pending.count, underWay: reading, elapsed: now)
                {
                    holdUntil = now + hold
                    group.addTask {
                        try? await Task.sleep(for: hold)
                        return .wake
                    }
                }
                if let until = holdUntil, now < until, pending.count == 1, reading > 0 { return }
                holdUntil = nil
                let parts = takeGroup(at: clock.now - begun)
                waitingUsers = pending.reduce(0) { $0 + $1.audit.users.count }
                committing = true
                // Nothing read, being read or left to read after it (a stop or a failed read
                // may still end intake sooner: the writer then builds the registry at the end).
                let last = pending.isEmpty && reading == 0 && !planning && plans.next == nil && planned == inputs.count
                group.addTask {
                    do {
                        try await WorkerPool.commits.run { try commitGroup(parts, last) }
                        return .committed(parts)
                    } catch {
                        return .commitFailed(error)
                    }
                }
            }
            planMore()
            startMore()
            while reading > 0 || planning || committing {
                // While reads take long, what was read is still committed about on time. (While a
                // group is committed, its end looks at the next one.)
                if let deadline = grouping.deadline, !wakeUpScheduled, !committing {
                    wakeUpScheduled = true
                    let wait = deadline - (clock.now - begun)
                    group.addTask {
                        try? await Task.sleep(for: max(wait, .milliseconds(1)))
                        return .wake
                    }
                }
                let next: RunEvent?
                do {
                    next = try await group.next()
                } catch {
                    // The files read beside one that fails are kept (those read ahead included):
                    // a file failing every run must not hold back the rest of its group run after
                    // run. Only reads fail.
                    // Each one is logged as it happens: the run stops with the first, and the
                    // operator must see every file that failed, not only that one.
                    logger.error("\(error.message)")
                    if failure == nil { failure = error }
                    reading -= 1
                    continue
                }
                guard let event = next else { break }
                let part: IngestedPart
                switch event {
                case .wake:
                    wakeUpScheduled = false
                    commitIfDue()
                    continue
                case .committed(let parts):
                    committing = false
                    committed(parts)
                    commitIfDue()
                    startMore()
                    continue
                case .commitFailed(let error):
                    throw error
                case .planned(let more, let advanced):
                    plans.append(contentsOf: more)
                    planner = advanced
                    planning = false
                    planMore()
                    if planned == inputs.count && !planning { announce() }
                    startMore()
                    continue
                case .helped(let helped):
                    helping -= 1
                    // Another big file may still be read without help (more than two jobs).
                    if helped { helpIfIdle() }
                    continue
                case .part(let read):
                    part = read
                }
                reading -= 1
                pending.append(part)
                waitingUsers += part.audit.users.count
                // With many users, interned now, on the committing thread (after any commit under
                // way, and before its group's commit: one thread, in order).
                prepareAhead(part)
                // The next file is read while this group is committed: with the commit first, a
                // core stood idle through every commit (500,000 users: ~0.5 s each). Stopping
                // (SIGTERM) between groups: what was read is committed below.
                startMore()
                if grouping.add(newBytes: part.addedBytes, at: clock.now - begun) { commitIfDue() }
            }
            try await commitPending()
            group.cancelAll()
            if let failure { throw failure }
        }
        if filesRead > 0 { logger.info("\(filesRead) files committed in \(groups) groups") }
        // The log is checkpointed (on a connection of its own) while the closing audit reads on
        // another (a reader does not hold a passive checkpoint back from what it may read): done
        // first, its ~3,600 page writes with 500,000 users were time the run spent on one core.
        // Started at once, or, when the audit reads its users on two connections, once the
        // second is done: with three threads on two cores, the users' read waited for it.
        let checkpoint = WALCheckpoint(database: database)
        // Each file's outcome is read on another connection while the audit reads the days and
        // the users: the audit is the run's tail, on one core (10,000 small files: the files'
        // outcomes, sorted by name, were half of it). The log files cannot change meanwhile:
        // this run holds the lock, and they are written under it only.
        let outcomes = Background(on: .reads) { try database.pool.read { db in try StateAudit.fileOutcomes(db) } }
        if writer.heldAfterIntake { try Ledger(configuration: configuration).checkpoint(database: database) }
        if stoppedEarly {
            let unplanned = planned < inputs.count ? " (and \(inputs.count - planned) files not yet looked at)" : ""
            logger.notice("stop requested: \(plans.count - filesRead) files left for the next run\(unplanned)")
        }

        func closingAudit() throws -> CheckReport {
            try StateAudit.report(
                database: database, vault: vault, policy: policy, asOf: asOf, since: configuration.since,
                formats: try VaultFormats(database: database, configuration: configuration),
                inputFindings: sourceFindings, fileOutcomes: { try outcomes.wait() },
                usersBeside: { from in
                    // The state cannot change meanwhile: this run holds the lock.
                    let later = Background(on: .reads) {
                        defer { checkpoint.start() }
                        return try database.pool.read { db in try UserRowColumns(db, keys: from...Int64.max) }
                    }
                    return { try later.wait() }
                },
                // The writer's names, not hashed again (checked against the rows; see `KnownUserNames`).
                knownUsers: { writer.takeUserIndex() },
                // The state's users as the writer holds them, not read back (when it holds them all).
                usersRegistry: { writer.takeRegistry() },
                splitDecided: { split in if !split { checkpoint.start() } })
        }
        let report: CheckReport
        do {
            report = try closingAudit()
        } catch {
            // Nothing of the run's is left running when it fails.
            try? checkpoint.wait()
            _ = try? outcomes.wait()
            throw error
        }
        let duration = Date().timeIntervalSince(started)
        let (read, added) = (filesRead, recordsAdded)
        // Written while the checkpoint may still run (on a connection of its own): waiting for it
        // first put the rest of its 30-80 ms after the audit, then this write (500,000 users).
        do {
            try await database.pool.write { db in
                try FindingStore.save(report.findings, runID: runID, db: db)
                try db.execute(
                    sql: """
                        UPDATE runs SET finished_at = ?, outcome = ?, files_read = ?, records_added = ?, duration_seconds = ?
                        WHERE id = ?
                        """,
                    arguments: [
                        StateDatabase.timestamp(), report.compliant ? "compliant" : "not_compliant",
                        read, added, duration, runID,
                    ])
            }
        } catch {
            try? checkpoint.wait()
            throw error
        }
        do {
            try checkpoint.wait()
        } catch {
            // The run's rows and findings are committed: what the log holds is safe there, and the
            // next checkpoint (the connections' close, or the next run) copies it.
            logger.error("the state's write-ahead log was not checkpointed after the run: \(error.message)")
        }
        return RunSummary(
            runID: runID, report: report, filesSeen: inputs.count, filesRead: filesRead,
            recordsAdded: recordsAdded, bytesAdded: bytesAdded, duration: duration, stoppedEarly: stoppedEarly)
    }

    /// Files planned at a time: the first slice before reading starts, the others while files
    /// are read.
    static let planSlice = 2048

    /// Users in a group past which it takes no more parts (see `takeGroup`).
    static let waitingUsersLimit = 1_000_000

    /// Users of a part from which it is big (see `bigPartHold`).
    static let bigPartUsers = 100_000

    /// Users of a part from which its users are interned as it arrives (see `prepareAhead`).
    static let preparedPartUsers = 10_000

    /// How long a group due with one part of `users` users waits for other reads before it is
    /// committed; nil for no wait. Only a big part that would be committed alone (nothing else
    /// `waiting`) while reads are `underWay` waits, half the run's `elapsed` time at most (and
    /// `maxAge`), or until another part joins it: files read side by side end
    /// about together (two alike files of 2,000,000 lines: 0–180 ms apart after ~0.45 s), and
    /// committed as one group, a user both change is written once (the second of four files with
    /// 500,000 users rewrote ~200,000 of the first one's users). Meanwhile the reads have the
    /// cores to themselves.
    static func bigPartHold(users: Int, waiting: Int, underWay: Int, elapsed: Duration) -> Duration? {
        guard users >= bigPartUsers, waiting == 1, underWay > 0 else { return nil }
        return min(elapsed / 2, CommitGrouping().maxAge)
    }

    /// How many of the parts waiting (`users`: each one's users, in order) the next group takes:
    /// at most `maxParts`, and no more once it holds `waitingUsersLimit` users. Big files' parts
    /// that wait together are committed together: the writer writes each user a group changed
    /// once, and a big file's users are mostly the one before's (500,000 users: the last two
    /// files' ~400,000 each, written as two groups, rewrote most of the users table twice).
    static func groupSize(users: some Sequence<Int>, maxParts: Int) -> Int {
        var count = 0
        var total = 0
        for partUsers in users {
            guard count < maxParts && (count == 0 || total < waitingUsersLimit) else { break }
            total += partUsers
            count += 1
        }
        return count
    }

    /// Users waiting in read parts past which no file is started from its path while a group is
    /// committed (see `startMore`): a bound on memory, not a pace.
    static let readAheadUsersLimit = 1_000_000

    /// What a child task of the run's loop yields.
    private enum RunEvent: Sendable {
        /// A file read, ready to commit.
        case part(IngestedPart)
        /// Only a wake-up at the open group's deadline.
        case wake
        /// A group committed (its parts, to count and log).
        case committed([IngestedPart])
        /// A group's commit failed: the run stops with it.
        case commitFailed(Error)
        /// The next slice's plans, and the planner that made them.
        case planned([IngestionPlan], RunPlanner)
        /// A read thread helped another read (`DecodeHelpers.helpOne`): whether it inflated a file.
        case helped(Bool)
    }

    /// Matches each input with what the state knows of it and keeps only those with something
    /// new (`RunPlanner`, all at once).
    static func plan(
        _ inputs: [SourceExpander.Input], database: StateDatabase, logger: Logger, jobs: Int = 1,
        wholeFileBudget: Int = WholeFile.budget
    ) throws -> [IngestionPlan] {
        var planner = try RunPlanner(database: database, jobs: jobs, wholeFileBudget: wholeFileBudget)
        return planner.plan(inputs[...], logger: logger)
    }

    static func log(_ part: IngestedPart, logger: Logger) {
        // Escaped only when a message is made (they are autoclosures): with `--quiet` none is, and
        // escaping each path anyway was 0.5 % of a fresh run over 10,000 small files.
        var path: String { EscapedText.escape(part.plan.path) }
        if part.shrank {
            logger.warning("\(path): shorter than the \(part.start.bytes) bytes already ingested from it; skipped")
        } else if let object = part.object {
            logger.info("\(path): +\(part.audit.records) records, +\(part.addedBytes) bytes → vault \(object.sha256.prefix(16))")
        }
        if let fault = part.audit.issues.fault {
            logger.error("\(path): unreadable at byte \(fault.offset): \(fault.message)")
        }
        if part.audit.issues.rejectedLines > 0 {
            logger.warning(
                "\(path): \(part.audit.issues.rejectedLines) rejected lines (first at line \(part.audit.issues.firstRejectedLines.first ?? 0))"
            )
        }
    }
}
