import CustodyCore
import CustodyIngest
import Foundation
import GRDB

/// The retention and real-name audit over everything the state holds (not only this run's
/// files): the same rules and the same report as `custody check`.
public enum StateAudit {
    /// `userBatch`: the state's users are merged this many at a time (any value gives the same
    /// report). `fileOutcomes`, when given, returns what `fileOutcomes(_:)` reads, read elsewhere
    /// (`custody run` reads it on another connection meanwhile: its log files cannot change
    /// under the run's lock).
    public static func report(
        database: StateDatabase, vault: Vault, policy: Policy, asOf: CivilDay,
        since: CivilDay?, formats: VaultFormats = .sniffed, inputFindings: [Finding] = [],
        userBatch: Int = 1 << 16, fileOutcomes readFiles: (() throws -> [CheckReport.FileOutcome])? = nil
    ) throws -> CheckReport {
        try report(
            database: database, vault: vault, policy: policy, asOf: asOf, since: since, formats: formats,
            inputFindings: inputFindings, userBatch: userBatch, fileOutcomes: readFiles, usersBeside: nil)
    }

    /// `report`, with the later half of the state's users (from the key it is given on) read by
    /// `usersBeside` on another connection while this one reads the first half, when there are
    /// at least `besideUsers` (`custody run`: the closing audit is the run's tail, on one core).
    /// Only where the state cannot change meanwhile (the run holds the lock); the rows of both
    /// halves must add up to the users this read counts, or the audit fails.
    ///
    /// `knownUsers`, when given, returns names already indexed, likely the users' in key order
    /// (the run's state writer's, handed over: `StateWriter.takeUserIndex`): the registry is
    /// built on them, each name checked against the row read at its place, instead of hashing
    /// every name again; from the rows' names as without it when they are not those.
    /// `builtOnKnownNames`, when given, is told which of the two built the registry (for tests:
    /// the report is the same either way). `usersRegistry`, when given, hands over the state's
    /// users when it holds them already (`custody run`'s writer's: `StateWriter.takeRegistry`):
    /// their rows are then not read, and the audit fails unless the table holds as many and a
    /// sample of its rows are the ones held (`HeldRows`); the other ways are for when it
    /// returns nil. `splitDecided`, when given, is told at the start
    /// whether `usersBeside` was asked for the later half (`custody run` then starts its
    /// checkpoint once that read is done, otherwise at once).
    static func report(
        database: StateDatabase, vault: Vault, policy: Policy, asOf: CivilDay,
        since: CivilDay?, formats: VaultFormats = .sniffed, inputFindings: [Finding] = [],
        userBatch: Int = 1 << 16, fileOutcomes readFiles: (() throws -> [CheckReport.FileOutcome])? = nil,
        usersBeside: ((_ fromKey: Int64) -> () throws -> UserRowColumns)?, besideUsers: Int = 100_000,
        knownUsers: (() -> UserIndex)? = nil, builtOnKnownNames: ((Bool) -> Void)? = nil,
        usersRegistry: (() -> HeldUsers?)? = nil,
        splitDecided: ((Bool) -> Void)? = nil
    ) throws -> CheckReport {
        try database.pool.read { db in
            var registry = RealNameRegistry()
            // Taken, not copied: the look-ups below change the registry's tables in place (a copy
            // of them was a tenth of a fresh run's closing audit with 500,000 users).
            var held = usersRegistry?()
            let usersHeld = held != nil
            // The table checked against the users held (`HeldRows`: counted, a sample compared),
            // on another connection meanwhile (the count walks every page of the table: ~12 ms
            // with 500,000 users); the state cannot change under `custody run`'s lock.
            let heldCheck = held.map { held in
                let rows = held.rows
                return Background(on: .reads) { try database.pool.read { db in try rows.check(db, path: database.path) } }
            }
            // With many users, the later half (by key) is read on another connection meanwhile
            // (its rows kept compact), and merged after the first: the same rows, in the same
            // order. Started first, so that it also runs beside the reads of the days and the
            // count below (which walks every page of the table: 10–30 ms with 500,000 users).
            var later: (() throws -> UserRowColumns)?
            // Whatever fails, nothing started beside is left running when the audit ends.
            var finished = false
            defer {
                if !finished {
                    _ = try? heldCheck?.wait()
                    _ = try? later?()
                }
            }
            var keys: ClosedRange<Int64>?
            // The lowest and highest keys in separate statements: each is then one descent of the
            // table, where `count(*), min(id), max(id)` in one statement visited every row (50 ms
            // with 500,000 users, as long as the later half's read). Their range stands for the
            // count here (keys are dense unless the state was edited by hand): the split needs
            // only to be worth a thread.
            if !usersHeld, let usersBeside,
                let low = try Int64.fetchOne(db, sql: "SELECT min(id) FROM users"),
                let high = try Int64.fetchOne(db, sql: "SELECT max(id) FROM users"),
                case let (range, overflow) = high.subtractingReportingOverflow(low), !overflow, range > 0, range >= besideUsers - 1
            {
                let split = low + range / 2 + 1
                keys = Int64.min...(split - 1)
                later = usersBeside(split)
            }
            splitDecided?(later != nil)

            // Only days a vault copy still holds: a purged copy is not retention. The days with
            // records, and the records still in the vault per day (what a maximum_days finding is
            // about), in one pass: each was a join over every day's row (10,000 small files: 4 %
            // of a fresh run's CPU for the two).
            var days = Set<Int32>()
            var kept: [Int32: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT daily_records.day, sum(daily_records.records), max(daily_records.records > 0) FROM daily_records
                    JOIN segments ON segments.id = daily_records.segment_id
                    JOIN vault_objects ON vault_objects.sha256 = segments.vault_object
                    WHERE vault_objects.purged_at IS NULL GROUP BY daily_records.day
                    """)
            {
                guard let day = CivilDay(iso: row[0]) else { continue }
                kept[day.daysSinceEpoch] = row[1]
                if (row[2] as Int64) != 0 { days.insert(day.daysSinceEpoch) }
            }

            // Counted, not taken from the highest key: a state edited by hand may have any keys.
            // (With the users held, counted beside: `heldCheck`.)
            let userCount = try usersHeld ? 0 : Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
            var read: Int?
            if let users = held.take() {
                registry = users.registry
                read = registry.usersSeen
            } else if let knownUsers {
                // Taken, not copied: the registry's look-ups below then change its table in place.
                var known = RealNameRegistry(seenUsers: knownUsers())
                if known.usersSeen == userCount, let rows = try KnownUserNames.merge(into: &known, db, keys: keys, later: later) {
                    registry = known
                    read = rows
                }
            }
            if !usersHeld { builtOnKnownNames?(read != nil) }
            if read == nil {
                // Merged in batches: the registry looks names up a batch at a time. The users are
                // distinct, so batches never change the result; all of them as one array of
                // activities held ~60 MB beside the registry with 1,000,000 users (Benchmarks/RESULTS.md).
                // Sized for all of them at once: grown batch by batch, its table was rehashed at
                // each doubling (with 500,000 users, an eighth of the closing audit).
                registry.reserveCapacity(users: userCount)
                var users: [UserFileActivity] = []
                let batch = max(1, userBatch)
                var count = 0
                func add(_ activity: UserFileActivity) {
                    count += 1
                    users.append(activity)
                    if users.count == batch {
                        registry.merge(fileIndex: 0, activities: users)
                        users.removeAll(keepingCapacity: true)
                    }
                }
                try UserRegistryRows.forEach(db, keys: keys) { _, user, verifiedAt, first in
                    add(UserFileActivity(user: user, verifiedAt: verifiedAt, pending: PendingPublishes(), firstPending: first))
                }
                if let later { try later().forEach(add) }
                registry.merge(fileIndex: 0, activities: users)
                read = count
            }
            // Fail closed: two reads that did not see the same rows judge no state at all (nor do
            // users held that are not the table's: `heldCheck`, before the report is made). Set
            // by one of the paths above.
            let rowsRead = read ?? 0
            guard usersHeld || rowsRead == userCount else {
                throw StoreError.database(
                    path: database.path, reason: "the users table changed during the audit (\(rowsRead) rows read, \(userCount) counted)")
            }
            // Verifications from the user database count like verification events at their time.
            registry.merge(fileIndex: 0, activities: RegistryFile.activities(try RegistryStore.verifications(db), policy: policy))
            // One per segment.
            let pendingBySegment = try PendingSpanRows.bySegment(db)
            for (segment, activities) in pendingBySegment {
                registry.merge(fileIndex: segment, activities: activities)
            }

            // Spans straddling a verification are settled from the vault copy of their segment.
            func recount(
                segment: Int32, verifiedAt: [String: Int64], onDays window: ClosedRange<Int32>? = nil
            ) throws
                -> [String: Int]?
            {
                guard
                    let object = try String.fetchOne(
                        db, sql: "SELECT vault_object FROM segments WHERE id = ?", arguments: [Int64(segment)])
                else { return nil }
                // A packed object is checked against its name before it is read; a loose one is read as it is.
                return vault.withVerifiedObject(object, checkLoose: false) {
                    FileAudit.recount(path: $0, policy: policy, format: formats.format(of: object), verifiedAt: verifiedAt, onDays: window)
                }.value ?? nil
            }
            var realName = try registry.result { try recount(segment: $0, verifiedAt: $1) }
            let rule = RetentionRule(minimumDays: policy.retention.minimumDays, asOf: asOf, since: since)
            var calendar = DayCalendar(timeZone: policy.timeZone)
            if let window = rule.windowDays {
                realName.inRetentionWindow = try registry.violations(onDays: window, day: { calendar.day(ofMillis: $0) }) {
                    try recount(segment: $0, verifiedAt: $1, onDays: window)
                }
            }

            let files = try readFiles?() ?? fileOutcomes(db)
            let records = files.reduce(0) { $0 + ($1.records ?? 0) }
            // Each segment's file, read only when a finding names one (a run over 10,000 small
            // files read 10,000 paths for none). A failed read fails the audit, as before.
            var segmentPaths: [Int64: String]?
            var pathsFailure: Error?
            func path(ofSegment segment: Int64) -> String {
                if segmentPaths == nil {
                    do {
                        var paths: [Int64: String] = [:]
                        for row in try Row.fetchAll(
                            db,
                            sql:
                                "SELECT segments.id, log_files.last_path FROM segments JOIN log_files ON log_files.id = segments.log_file_id"
                        ) {
                            paths[row[0]] = row[1]
                        }
                        segmentPaths = paths
                    } catch {
                        pathsFailure = error
                        segmentPaths = [:]
                    }
                }
                return segmentPaths?[segment] ?? "?"
            }
            try heldCheck?.wait()
            finished = true
            let report = CheckReport.build(
                policy: policy, rule: rule,
                files: files,
                records: records, retention: rule.evaluate(daysWithRecords: days),
                realName: realName, recordsPerDay: kept, inputFindings: inputFindings, recordDays: CheckReport.span(ofDays: days),
                locate: { path(ofSegment: Int64($0)) })
            if let pathsFailure { throw pathsFailure }
            return report
        }
    }

    /// Each log file's outcome, by name: only the columns the report uses, read by position (a
    /// whole `LogFileRecord` a row, its columns looked up by name, was most of reading 10,000
    /// files back).
    static func fileOutcomes(_ db: Database) throws -> [CheckReport.FileOutcome] {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT last_path, records, bytes_read, rejected_lines, first_rejected_lines, first_rejection_cause,
                       fault_offset, fault_message, non_text_bytes, anonymous_publishes, first_anonymous_publish_lines
                FROM log_files ORDER BY last_path
                """)
        var outcomes: [CheckReport.FileOutcome] = []
        while let row = try rows.next() {
            let issues = LogFileRecord.issues(
                rejectedLines: row[3], firstRejectedLines: row[4], firstRejectionCause: row[5], faultOffset: row[6],
                faultMessage: row[7], nonTextBytes: row[8], anonymousPublishes: row[9], firstAnonymousPublishLines: row[10])
            outcomes.append(CheckReport.FileOutcome(path: row[0], issues: issues, records: row[1], bytes: row[2]))
        }
        return outcomes
    }
}
