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
final class StateWriter {
    private struct UserRow {
        var verifiedAt: Int64?
        var firstPending: EventLocation?
    }

    private let database: StateDatabase
    private let policy: Policy
    private let runID: Int64
    private var users = UserIndex()
    /// By user id; nil for a user with no row in the database yet.
    private var rows: [UserRow?] = []
    private let ledger: Ledger
    /// Set when a commit placed a hold: the run signs the ledger head before it ends.
    private(set) var heldAfterIntake = false

    init(database: StateDatabase, policy: Policy, runID: Int64) throws {
        self.database = database
        self.policy = policy
        self.runID = runID
        ledger = Ledger(stateDirectory: database.directory)
        var names: [String] = []
        try database.pool.read { db in
            try UserRegistryRows.forEach(db) { user, verifiedAt, first in
                names.append(user)
                rows.append(UserRow(verifiedAt: verifiedAt, firstPending: first))
            }
        }
        // The table's names are distinct, so their ids are 0..<count in order, as `rows` is.
        _ = users.intern(count: names.count) { names[$0] }
    }

    /// Commits one part. Returns the log file's row id.
    @discardableResult
    func commit(_ part: IngestedPart) throws -> Int64 {
        try commit(parts: [part])[0]
    }

    /// Commits parts in one transaction, in order (a later part sees what an earlier one
    /// changed). The caller has made their vault objects durable first (`VaultSync`): no row may
    /// name an object that is not on disk. Returns the log files' row ids, in order.
    @discardableResult
    func commit(parts: [IngestedPart]) throws -> [Int64] {
        // The in-memory user rows change part by part inside the transaction; if it fails, they
        // go back to what the database still holds.
        var undo: [(id: Int32, row: UserRow?)] = []
        do {
            return try database.pool.write { db in try parts.map { try write($0, in: db, undo: &undo) } }
        } catch {
            for (id, row) in undo.reversed() { rows[Int(id)] = row }
            throw error
        }
    }

    /// Writes one part inside the caller's transaction `transaction`.
    private func write(_ part: IngestedPart, in transaction: Database, undo: inout [(id: Int32, row: UserRow?)]) throws -> Int64 {
        var changedUsers: [(id: Int32, row: UserRow)] = []
        let now = StateDatabase.timestamp()
        let ids = users.intern(count: part.audit.users.count) { part.audit.users[$0].user }
        if rows.count < users.count { rows.append(contentsOf: repeatElement(nil, count: users.count - rows.count)) }
        let fileID = try { (db: Database) throws -> Int64 in
            var record =
                part.plan.record
                ?? LogFileRecord(
                    id: nil, fingerprint: part.plan.identity.fingerprint, fingerprintLength: part.plan.identity.prefix.count,
                    firstPath: part.plan.path, lastPath: part.plan.path, compressed: part.plan.identity.compressed,
                    bytesRead: 0, linesRead: 0, records: 0, rejectedLines: 0, firstRejectedLines: "[]",
                    firstRejectionCause: nil, faultOffset: nil, faultMessage: nil, readToEnd: false,
                    lastInode: nil, lastSize: nil, lastMtimeNs: nil, firstSeenAt: now, lastReadAt: now,
                    nonTextBytes: 0, anonymousPublishes: 0, firstAnonymousPublishLines: "[]", contentChecksum: nil)
            if record.id == nil { try record.insert(db) }
            let fileID = record.id!

            if let object = part.object, !part.shrank {
                let segmentID = try insertSegment(db, part: part, object: object, fileID: fileID)
                changedUsers = try mergeUsers(db, part.audit.users, ids: ids, segmentID: segmentID)
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
            if part.plan.identity.prefix.count > record.fingerprintLength {
                record.fingerprint = part.plan.identity.fingerprint
                record.fingerprintLength = part.plan.identity.prefix.count
            }
            record.lastPath = part.plan.path
            record.compressed = part.plan.identity.compressed
            record.readToEnd = part.readToEnd
            record.lastInode = Int64(bitPattern: part.plan.identity.inode)
            record.lastSize = part.plan.identity.size
            record.lastMtimeNs = part.plan.identity.modifiedNanoseconds
            record.lastReadAt = now
            try record.update(db)
            return fileID
        }(transaction)
        // The next part of the group merges with these; `commit(parts:)` undoes them on failure.
        for (id, row) in changedUsers {
            undo.append((id, rows[Int(id)]))
            rows[Int(id)] = row
        }
        return fileID
    }

    private func insertSegment(_ db: Database, part: IngestedPart, object: IngestedPart.StoredObject, fileID: Int64) throws -> Int64 {
        var calendar = DayCalendar(timeZone: policy.timeZone)
        let range = part.audit.timeRange
        let firstDay = range.map { CivilDay(daysSinceEpoch: calendar.day(ofMillis: $0.lowerBound)).description }
        let lastDay = range.map { CivilDay(daysSinceEpoch: calendar.day(ofMillis: $0.upperBound)).description }
        try db.execute(
            sql: """
                INSERT INTO vault_objects (sha256, size, stored_size, records, first_record_at_ms, last_record_at_ms,
                                           first_day, last_day, stored_at, format)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(sha256) DO UPDATE SET purged_at = NULL
                """,
            arguments: [
                object.sha256, object.size, object.storedSize, part.audit.records,
                range?.lowerBound, range?.upperBound, firstDay, lastDay, StateDatabase.timestamp(),
                VaultFormats.storedName(of: part.plan.format),
            ])
        try db.execute(
            sql: """
                INSERT INTO segments (log_file_id, vault_object, start_offset, end_offset, first_line, records, run_id)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                fileID, object.sha256, part.start.bytes, part.audit.end.bytes, part.start.lines,
                part.audit.records, runID,
            ])
        let segmentID = db.lastInsertedRowID
        if let range { try holdForOpenRequests(db, object: object.sha256, range: range) }
        let insertDay = try db.cachedStatement(sql: "INSERT INTO daily_records (segment_id, day, records) VALUES (?, ?, ?)")
        for (day, count) in part.audit.dayCounts.sorted(by: { $0.key < $1.key }) {
            try insertDay.execute(arguments: [segmentID, CivilDay(daysSinceEpoch: day).description, count])
        }
        return segmentID
    }

    /// Content that arrives after a request was recorded, for a time the request covers, is held
    /// too: a hold covers the scope, not only what the vault had at intake.
    private func holdForOpenRequests(_ db: Database, object: String, range: ClosedRange<Int64>) throws {
        let requests = try String.fetchAll(
            db,
            sql: """
                SELECT id FROM requests
                WHERE status NOT IN ('closed', 'withdrawn') AND scope_start_ms <= ? AND scope_end_ms >= ?
                  AND NOT EXISTS (SELECT 1 FROM legal_holds WHERE request_id = requests.id AND vault_object = ? AND released_at IS NULL)
                ORDER BY id
                """, arguments: [range.upperBound, range.lowerBound, object])
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

    /// Writes what `activities` (whose user ids are `ids`) change; returns the changed rows.
    private func mergeUsers(
        _ db: Database, _ activities: [UserFileActivity], ids: [Int32],
        segmentID: Int64
    ) throws -> [(id: Int32, row: UserRow)] {
        let insertUser = try db.cachedStatement(
            sql: """
                INSERT INTO users (user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                                   first_unverified_publish_line)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(user) DO UPDATE SET verified_at_ms = excluded.verified_at_ms,
                  first_unverified_publish_ms = excluded.first_unverified_publish_ms,
                  first_unverified_publish_segment = excluded.first_unverified_publish_segment,
                  first_unverified_publish_line = excluded.first_unverified_publish_line
                """)
        let coverSpans = try db.cachedStatement(sql: "DELETE FROM pending_publishes WHERE user = ? AND earliest_ms >= ?")
        let insertSpan = try db.cachedStatement(
            sql: """
                INSERT INTO pending_publishes (user, segment_id, events, earliest_ms, latest_ms, exact_times_ms)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
        let segment = Int32(truncatingIfNeeded: segmentID)
        var changed: [(id: Int32, row: UserRow)] = []
        for (activity, id) in zip(activities, ids) {
            let old = rows[Int(id)]
            var row = old ?? UserRow()
            var verificationMovedEarlier = false
            if let v = activity.verifiedAt, row.verifiedAt.map({ v < $0 }) ?? true {
                row.verifiedAt = v
                verificationMovedEarlier = old?.verifiedAt != nil
            }
            if var first = activity.firstPending {
                first.file = segment
                if row.firstPending.map({ first < $0 }) ?? true { row.firstPending = first }
            }
            if old == nil || old?.verifiedAt != row.verifiedAt || old?.firstPending != row.firstPending {
                changed.append((id, row))
            }
            if verificationMovedEarlier, let v = row.verifiedAt {
                try coverSpans.execute(arguments: [activity.user, v])
            }
            var pending = activity.pending
            if let v = row.verifiedAt { pending.prune(verifiedAt: v) }
            if !pending.isEmpty {
                let exact = pending.isExact ? "[" + pending.exact.map(String.init).joined(separator: ",") + "]" : nil
                try insertSpan.execute(arguments: [activity.user, segmentID, pending.count, pending.earliest, pending.latest, exact])
            }
        }
        // In the users index's order (SQLite compares text bytewise): each B-tree page is
        // visited once, not once per row in the file's order. With 500,000 users, a fresh run
        // spent most of its time on these writes.
        let names = users.names
        // Ordered by each name's first eight bytes as one number, the rest only on ties.
        let leading = changed.map { Self.leadingBytes(names[Int($0.id)]) }
        let order = changed.indices.sorted { a, b in
            leading[a] != leading[b]
                ? leading[a] < leading[b]
                : names[Int(changed[a].id)].utf8.lexicographicallyPrecedes(names[Int(changed[b].id)].utf8)
        }
        changed = order.map { changed[$0] }
        for (id, row) in changed {
            try insertUser.execute(arguments: [
                names[Int(id)], row.verifiedAt, row.firstPending?.millis,
                row.firstPending.map { Int64($0.file) }, row.firstPending?.line,
            ])
        }
        return changed
    }

    /// The first eight UTF-8 bytes, big-endian and zero-padded: ordered as the bytes are.
    private static func leadingBytes(_ name: String) -> UInt64 {
        var word: UInt64 = 0
        var shift: UInt64 = 56
        for byte in name.utf8.prefix(8) {
            word |= UInt64(byte) << shift
            shift &-= 8
        }
        return word
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
