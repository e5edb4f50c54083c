import CustodyCore
import Foundation
import GRDB

/// `custody status`: where retention and real-name stand, from the state alone.
public struct StateStatus: Sendable {
    public struct LastRun: Sendable {
        public var id: Int64
        public var startedAt: String
        public var finishedAt: String?
        public var outcome: String
        public var filesRead: Int
        public var recordsAdded: Int
    }

    public var report: CheckReport
    public var vaultObjects: Int
    public var vaultStoredBytes: Int
    public var vaultContentBytes: Int
    public var heldObjects: Int
    public var lastRun: LastRun?
    public var stateDirectory: String
    /// Missing days of the window whose records were ingested but whose vault copy was purged
    /// (recorded in the ledger and the purges table), with when.
    public var purgedDays: [(day: String, purgedAt: String)] = []

    public static func load(configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay) throws -> StateStatus {
        let database = try StateDatabase(directory: configuration.stateDirectory)
        let vault = try Vault(directory: configuration.vaultDirectory)
        // The sources are looked at (not read): one that is gone is an error here too.
        let sourceFindings = SourceExpander.expand(configuration.sources).findings
        let report = try StateAudit.report(
            database: database, vault: vault, policy: policy, asOf: asOf, since: configuration.since,
            formats: try VaultFormats(database: database, configuration: configuration),
            inputFindings: sourceFindings)
        let missing = Set(report.retention.missingDays.map(\.description))
        let purgedDays = try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT daily_records.day, MIN(vault_objects.purged_at) FROM daily_records
                    JOIN segments ON segments.id = daily_records.segment_id
                    JOIN vault_objects ON vault_objects.sha256 = segments.vault_object
                    WHERE daily_records.records > 0 AND vault_objects.purged_at IS NOT NULL
                    GROUP BY daily_records.day ORDER BY daily_records.day
                    """
            ).map { (day: $0[0] as String, purgedAt: $0[1] as String) }.filter { missing.contains($0.day) }
        }
        var status = try database.pool.read { db in
            let totals = try Row.fetchOne(
                db, sql: "SELECT COUNT(*), COALESCE(SUM(stored_size), 0), COALESCE(SUM(size), 0) FROM vault_objects WHERE purged_at IS NULL"
            )!
            let held = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT vault_object) FROM legal_holds WHERE released_at IS NULL") ?? 0
            let run = try Row.fetchOne(
                db, sql: "SELECT id, started_at, finished_at, outcome, files_read, records_added FROM runs ORDER BY id DESC LIMIT 1")
            return StateStatus(
                report: report, vaultObjects: totals[0], vaultStoredBytes: totals[1], vaultContentBytes: totals[2], heldObjects: held,
                lastRun: run.map {
                    LastRun(id: $0[0], startedAt: $0[1], finishedAt: $0[2], outcome: $0[3], filesRead: $0[4], recordsAdded: $0[5])
                },
                stateDirectory: configuration.stateDirectory)
        }
        status.purgedDays = purgedDays
        return status
    }

    public var json: JSONValue {
        guard case .object(var check) = report.json else { return report.json }
        check.removeAll { $0.0 == "schema" || $0.0 == "findings" || $0.0 == "compliant" }
        var pairs: [(String, JSONValue)] = [("schema", .string("custody.status.v1")), ("state_directory", .string(stateDirectory))]
        pairs += check
        pairs.append(
            (
                "vault",
                .object([
                    ("objects", .int(vaultObjects)), ("stored_bytes", .int(vaultStoredBytes)),
                    ("content_bytes", .int(vaultContentBytes)), ("held_objects", .int(heldObjects)),
                ])
            ))
        pairs.append(
            (
                "last_run",
                lastRun.map { run in
                    .object([
                        ("id", .int(Int(run.id))), ("started_at", .string(run.startedAt)),
                        ("finished_at", run.finishedAt.map { .string($0) } ?? .null), ("outcome", .string(run.outcome)),
                        ("files_read", .int(run.filesRead)), ("records_added", .int(run.recordsAdded)),
                    ])
                } ?? .null
            ))
        pairs.append(("purged_days", .array(purgedDays.map { .object([("day", .string($0.day)), ("purged_at", .string($0.purgedAt))]) })))
        pairs.append(("violating_users", .array(report.realName.violatingUsers.map { .string($0.user) })))
        pairs.append(("findings", .array(otherFindings.map(\.json))))
        pairs.append(("compliant", .bool(report.compliant)))
        return .object(pairs)
    }

    /// Findings the summary lines do not already say (missing days and violating users do):
    /// sources, files and the real-name rule's evaluability.
    public var otherFindings: [Finding] {
        report.findings.filter { $0.rule != .missingDay && $0.rule != .violatingUser }
    }

    public var text: String {
        var out = "custody status — \(stateDirectory)\n\n"
        let r = report
        out +=
            "Retention  \(r.retention.coveredDays) of \(r.retention.minimumDays) days covered, \(r.retention.windowStart) … \(r.retention.windowEnd)"
        out +=
            r.retention.compliant
            ? ": ok\n"
            : "; missing: \(r.retention.missingDays.prefix(10).map(\.description).joined(separator: ", "))\(r.retention.missingDays.count > 10 ? ", …" : "")\n"
        for purged in purgedDays {
            out +=
                "Purged     \(purged.day): its vault copy was purged on \(purged.purgedAt) (recorded in the ledger; see custody verify)\n"
        }
        out +=
            "Real name  \(r.realNameScope): \(r.realName.usersSeen) users, \(r.realName.verifiedUsers) verified, \(r.realName.violatingUsers.count) published before verifying (\(r.realName.violatingEvents) events)"
        if let window = r.realName.inRetentionWindow { out += "; in the retention window \(window.users) (\(window.events) events)" }
        out += "\n"
        out +=
            "Records    \(r.inputs.records) from \(r.inputs.files) files; \(r.inputs.rejectedLines) rejected lines; \(r.inputs.unreadableFiles) unreadable files\n"
        out +=
            "Vault      \(vaultObjects) objects, \(vaultStoredBytes) bytes stored (\(vaultContentBytes) uncompressed), \(heldObjects) under legal hold\n"
        if let run = lastRun {
            out += "Last run   #\(run.id) \(run.startedAt) \(run.outcome): \(run.filesRead) files read, \(run.recordsAdded) records added\n"
        } else {
            out += "Last run   none yet (run `custody run`)\n"
        }
        for finding in otherFindings { out += "\(finding.severity.rawValue): \(finding.message)\n" }
        out += "\n" + (r.compliant ? "COMPLIANT" : "NOT COMPLIANT") + "\n"
        return out
    }
}
