import CustodyCore
import CustodyIngest
import Foundation
import GRDB

/// The vault half of `custody verify`. Integrity: every object the state lists is re-hashed
/// against its name; every object file in the vault must be listed (an orphan means rows were
/// deleted or a file planted); and the per-day counts the state keeps (`daily_records`, what
/// `status` and the reports read) are recounted from the objects themselves and must agree.
/// Compliance: every day of the retention window must be held by an intact object — judged from
/// the recount, not from the table, so a row inserted to hide a missing day hides nothing.
public struct VaultVerification: Sendable {
    public var objectsChecked: Int
    /// Evidence that fails a check: objects missing or altered, orphans, tables the vault contradicts.
    public var integrity: [Finding]
    /// Days of the window no intact object covers.
    public var compliance: [Finding]
    /// The retention window's first and last day (first after last when the policy sets no minimum).
    public var window: (start: CivilDay, end: CivilDay)

    public var findings: [Finding] { integrity + compliance }
    public var ok: Bool { !findings.contains { $0.severity == .error } }

    public static func run(
        configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay,
        database: StateDatabase, vault: Vault, facts: LedgerFacts
    ) throws -> VaultVerification {
        let (objects, listed) = try database.pool.read { db in
            (
                try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects WHERE purged_at IS NULL ORDER BY sha256"),
                Set(try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects"))
            )
        }
        var integrity: [Finding] = []
        let formats = try VaultFormats(database: database, configuration: configuration)
        // What each intact object really holds: its days (days since the epoch → records), and
        // its records and time range (`request produce` and holds pick objects by the range its
        // row states, so a row moved to 2020 hid an object from them).
        var recounted: [String: (days: [Int32: Int], records: Int, range: ClosedRange<Int64>?)] = [:]
        for sha in objects {
            // The bytes recounted are the bytes checked (a packed object is copied out first).
            let (verdict, audit) = vault.withVerifiedObject(sha) {
                FileAudit.scan(path: $0, index: 0, policy: policy, format: formats.format(of: sha))
            }
            switch verdict {
            case .intact:
                if let audit { recounted[sha] = (audit.dayCounts, audit.records, audit.timeRange) }
            case .missing:
                let why =
                    facts.purged[sha].map { ": the ledger recorded its purge (entry \($0.seq), \($0.recordedAt)) but the state does not" }
                    ?? ""
                integrity.append(
                    Finding(
                        rule: .vaultObjectMissing, severity: .error,
                        message: "vault object \(sha) is missing (\(vault.location(of: sha)))\(why)", file: vault.file(of: sha)))
            case .altered(let why):
                integrity.append(
                    Finding(
                        rule: .vaultObjectAltered, severity: .error,
                        message: "vault object \(sha) was altered: \(why)", file: vault.file(of: sha)))
            }
        }
        for sha in vault.storedObjects() where !listed.contains(sha) {
            integrity.append(
                Finding(
                    rule: .vaultOrphanObject, severity: .error,
                    message:
                        "vault object \(sha) is in the vault but not in the state (a deleted row, a replaced state.db, or a planted file)",
                    file: vault.file(of: sha)))
        }
        // Bytes in `packs/` that no entry describes hide whatever they hold from the check above.
        for (path, reason) in vault.packDamage() {
            integrity.append(
                Finding(
                    rule: .vaultOrphanObject, severity: .error,
                    message: "\(path): \(reason); what it holds is in the vault but not in the state", file: path))
        }

        // Each object's row against the recount.
        let objectRows = try database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT sha256, records, first_record_at_ms, last_record_at_ms FROM vault_objects WHERE purged_at IS NULL")
        }
        for row in objectRows {
            let sha: String = row[0]
            guard let truth = recounted[sha] else { continue }  // missing or altered: reported above
            let records: Int64? = row[1]
            let first: Int64? = row[2]
            let last: Int64? = row[3]
            if records != Int64(truth.records) || first != truth.range?.lowerBound || last != truth.range?.upperBound {
                func time(_ millis: Int64?) -> String {
                    millis.map { StateDatabase.timestamp(Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "-"
                }
                func span(_ n: Int64?, _ a: Int64?, _ b: Int64?) -> String {
                    "\(n.map(String.init) ?? "no") records, \(time(a)) … \(time(b))"
                }
                integrity.append(
                    Finding(
                        rule: .stateVaultMismatch, severity: .error,
                        message:
                            "vault_objects: the row of \(sha.prefix(16))… says \(span(records, first, last)); the object holds \(span(Int64(truth.records), truth.range?.lowerBound, truth.range?.upperBound))"
                    ))
            }
        }

        // The per-day cache against the recount, segment by segment.
        let rows = try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT daily_records.segment_id, daily_records.day, daily_records.records, segments.vault_object
                    FROM daily_records LEFT JOIN segments ON segments.id = daily_records.segment_id
                    """)
        }
        let segmentObjects = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, vault_object FROM segments").map { ($0[0] as Int64, $0[1] as String) }
        }
        var cached: [Int64: [Int32: Int]] = [:]
        var ingestedDays: [String: Set<String>] = [:]  // day → objects
        for row in rows {
            let segment: Int64 = row[0]
            let dayText: String = row[1]
            guard let object: String = row[3] else {
                integrity.append(
                    Finding(
                        rule: .stateVaultMismatch, severity: .error,
                        message: "daily_records: a row for \(dayText) names segment \(segment), which does not exist"))
                continue
            }
            guard let day = CivilDay(iso: dayText) else {
                integrity.append(Finding(rule: .stateVaultMismatch, severity: .error, message: "daily_records: '\(dayText)' is not a day"))
                continue
            }
            cached[segment, default: [:]][day.daysSinceEpoch, default: 0] += row[2] as Int
            if (row[2] as Int) > 0 { ingestedDays[dayText, default: []].insert(object) }
        }
        for (segment, object) in segmentObjects.sorted(by: { $0.0 < $1.0 }) {
            if !listed.contains(object) {
                integrity.append(
                    Finding(
                        rule: .stateVaultMismatch, severity: .error,
                        message: "segments: segment \(segment) names vault object \(object), which vault_objects does not list"))
                continue
            }
            guard let truth = recounted[object]?.days else { continue }  // purged, missing or altered: reported above
            let table = (cached[segment] ?? [:]).filter { $0.value != 0 }
            if table != truth.filter({ $0.value != 0 }) {
                let days = Set(table.keys).union(truth.keys).filter { table[$0] != truth[$0] }.sorted()
                let shown = days.prefix(3).map {
                    "\(CivilDay(daysSinceEpoch: $0)): \(table[$0] ?? 0) in the table, \(truth[$0] ?? 0) in the object"
                }
                integrity.append(
                    Finding(
                        rule: .stateVaultMismatch, severity: .error,
                        message:
                            "daily_records of segment \(segment) disagree with vault object \(object.prefix(16))… (\(shown.joined(separator: "; "))\(days.count > 3 ? "; …" : ""))",
                        count: days.count))
            }
        }

        var compliance: [Finding] = []
        let rule = RetentionRule(minimumDays: policy.retention.minimumDays, asOf: asOf, since: configuration.since)
        var covered = Set<Int32>()
        for counts in recounted.values.map(\.days) { for (day, n) in counts where n > 0 { covered.insert(day) } }
        var day = rule.windowStart
        while day <= rule.windowEnd {
            defer { day = day.adding(days: 1) }
            if covered.contains(day.daysSinceEpoch) { continue }
            if let since = configuration.since, day < since { continue }
            let text = day.description
            let why: String
            if let objects = ingestedDays[text], !objects.isEmpty {
                if let purge = objects.sorted().compactMap({ facts.purged[$0] }).first {
                    why = "records of \(text) were ingested; their vault copy was purged on \(purge.recordedAt) (ledger entry \(purge.seq))"
                } else {
                    why = "records of \(text) were ingested but no intact vault copy holds them (early deletion or tampering)"
                }
            } else {
                why = "no records of \(text) were ever ingested"
            }
            compliance.append(Finding(rule: .vaultDayNotCovered, severity: .error, message: why, day: day))
        }
        return VaultVerification(
            objectsChecked: objects.count, integrity: integrity, compliance: compliance,
            window: (rule.windowStart, rule.windowEnd))
    }
}
