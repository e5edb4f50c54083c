import CustodyCore
import Foundation
import GRDB

/// `custody verify`: re-hashes every vault object and finds the days of the retention window
/// the vault no longer covers (early deletion).
public struct VaultVerification: Sendable {
    // `custody verify` adds ledger and package findings to these.
    public var objectsChecked: Int
    public var findings: [Finding]
    public var window: ClosedRange<CivilDay>

    public var ok: Bool { !findings.contains { $0.severity == .error } }

    public static func run(configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay) throws -> VaultVerification {
        let database = try StateDatabase(directory: configuration.stateDirectory)
        let vault = try Vault(directory: configuration.vaultDirectory)
        let objects = try database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects WHERE purged_at IS NULL ORDER BY sha256")
        }
        var findings: [Finding] = []
        var intact = Set<String>()
        for sha in objects {
            switch vault.check(sha) {
            case .intact:
                intact.insert(sha)
            case .missing:
                findings.append(Finding(rule: .vaultObjectMissing, severity: .error,
                                        message: "vault object \(sha) is missing (\(vault.path(of: sha)))", file: vault.path(of: sha)))
            case .altered(let why):
                findings.append(Finding(rule: .vaultObjectAltered, severity: .error,
                                        message: "vault object \(sha) was altered: \(why)", file: vault.path(of: sha)))
            }
        }

        let rule = RetentionRule(minimumDays: policy.retention.minimumDays, asOf: asOf, since: configuration.since)
        let rows = try database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT daily_records.day, segments.vault_object FROM daily_records
                JOIN segments ON segments.id = daily_records.segment_id
                WHERE daily_records.day BETWEEN ? AND ? AND daily_records.records > 0
                """, arguments: [rule.windowStart.description, rule.windowEnd.description])
        }
        var ingested = Set<String>()
        var covered = Set<String>()
        for row in rows {
            let day: String = row[0]
            ingested.insert(day)
            if intact.contains(row[1] as String) { covered.insert(day) }
        }
        var day = rule.windowStart
        while day <= rule.windowEnd {
            defer { day = day.adding(days: 1) }
            let text = day.description
            if covered.contains(text) { continue }
            if let since = configuration.since, day < since { continue }
            let why = ingested.contains(text)
                ? "records of \(text) were ingested but no intact vault copy holds them (early deletion or tampering)"
                : "no records of \(text) were ever ingested"
            findings.append(Finding(rule: .vaultDayNotCovered, severity: .error, message: why, day: day))
        }
        return VaultVerification(objectsChecked: objects.count, findings: findings, window: rule.windowStart...rule.windowEnd)
    }
}
