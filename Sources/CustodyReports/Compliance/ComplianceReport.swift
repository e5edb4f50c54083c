import Crypto
import CustodyCore
import CustodyIngest
import CustodyStore
import Foundation
import GRDB

/// One page for app teams on retention and real-name compliance over a period: coverage day by
/// day, gaps, early deletions, and real-name violations by event type and over time. Violating
/// users are pseudonymised with a keyed hash unless `revealUsers`.
public struct ComplianceReport: Sendable {
    public struct Day: Sendable, Equatable {
        public var day: CivilDay
        public var records: Int
        /// Records were ingested but no vault copy of them remains.
        public var earlyDeletion: Bool
        public var violatingEvents: Int
    }

    public struct User: Sendable, Equatable {
        /// The user id, or its pseudonym.
        public var name: String
        public var events: Int
        public var firstViolation: String
        public var verified: Bool
    }

    public var period: ReportPeriod
    public var asOf: CivilDay
    public var policyID: String
    public var timeZone: String
    public var minimumDays: Int
    public var days: [Day] = []
    public var violationsByEvent: [(event: String, count: Int)] = []
    public var users: [User] = []
    public var usersSeen = 0
    public var verifiedUsers = 0
    /// Publish events without a user, over everything the state holds (not only the period).
    public var anonymousPublishes = 0
    /// Why the real-name rule cannot be judged on what the state holds; nil when it can. A report
    /// that shows no violations must not read as "compliant" when nothing could be judged.
    public var notEvaluable: String?
    public var pseudonymised: Bool

    public var missingDays: [CivilDay] { days.filter { $0.records == 0 }.map(\.day) }
    public var earlyDeletions: [CivilDay] { days.filter(\.earlyDeletion).map(\.day) }
    public var violatingEvents: Int { users.reduce(0) { $0 + $1.events } }

    public static func build(
        configuration: CustodyConfiguration, policy: Policy, period: ReportPeriod, asOf: CivilDay,
        revealUsers: Bool
    ) throws -> ComplianceReport {
        let database = try StateDatabase(directory: configuration.stateDirectory)
        let vault = try Vault(directory: configuration.vaultDirectory)
        var report = ComplianceReport(
            period: period, asOf: asOf, policyID: policy.id, timeZone: policy.timeZoneIdentifier,
            minimumDays: policy.retention.minimumDays, pseudonymised: !revealUsers)
        let lastDay = min(period.last, asOf.adding(days: -1))
        var counts: [String: Int] = [:]
        var kept: [String: Bool] = [:]
        let objects = try database.pool.read { db -> [String] in
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT daily_records.day, daily_records.records, segments.vault_object, vault_objects.purged_at IS NULL
                    FROM daily_records JOIN segments ON segments.id = daily_records.segment_id
                    JOIN vault_objects ON vault_objects.sha256 = segments.vault_object
                    WHERE daily_records.day BETWEEN ? AND ?
                    """, arguments: [period.first.description, lastDay.description])
            {
                let day: String = row[0]
                counts[day, default: 0] += row[1] as Int
                let present = (row[3] as Bool) && vault.contains(row[2] as String)
                kept[day] = (kept[day] ?? false) || present
            }
            return try String.fetchAll(
                db,
                sql:
                    "SELECT sha256 FROM vault_objects WHERE purged_at IS NULL AND first_day <= ? AND last_day >= ? ORDER BY first_day, sha256",
                arguments: [lastDay.description, period.first.description])
        }

        let formats = try VaultFormats(database: database, configuration: configuration)
        let audit = try StateAudit.report(
            database: database, vault: vault, policy: policy, asOf: lastDay.adding(days: 1), since: configuration.since,
            formats: formats)
        report.usersSeen = audit.realName.usersSeen
        report.verifiedUsers = audit.realName.verifiedUsers
        report.anonymousPublishes = audit.realName.anonymousPublishes
        report.notEvaluable = audit.realName.notEvaluable
        let violators = Dictionary(uniqueKeysWithValues: audit.realName.violatingUsers.map { ($0.user, $0.verifiedAt ?? .max) })

        // Violating events of the period, by event name and day, read back from the vault.
        var byEvent: [String: Int] = [:]
        var byDay: [String: Int] = [:]
        var byUser: [String: (events: Int, first: Int64)] = [:]
        var calendar = DayCalendar(timeZone: policy.timeZone)
        if !violators.isEmpty {
            for object in objects {
                // A packed object is checked against its name before it is read; a loose one is read as it is.
                _ = vault.withVerifiedObject(object, checkLoose: false) { path in
                    RecordReader.read(path: path, policy: policy, format: formats.format(of: object)) { record, _ in
                        guard let userBytes = record.user, let eventBytes = record.event else { return }
                        let user = EscapedText.escape(bytes: userBytes)
                        guard let v = violators[user], record.millis < v else { return }
                        let event = String(decoding: eventBytes, as: UTF8.self)
                        guard policy.role(ofEvent: event) == .publish else { return }
                        let day = CivilDay(daysSinceEpoch: calendar.day(ofMillis: record.millis))
                        guard day >= period.first && day <= lastDay else { return }
                        byEvent[event, default: 0] += 1
                        byDay[day.description, default: 0] += 1
                        let current = byUser[user] ?? (0, .max)
                        byUser[user] = (current.events + 1, min(current.first, record.millis))
                    }
                }
            }
        }
        var day = period.first
        while day <= lastDay {
            let key = day.description
            let records = counts[key] ?? 0
            report.days.append(
                Day(
                    day: day, records: records, earlyDeletion: records > 0 && kept[key] != true,
                    violatingEvents: byDay[key] ?? 0))
            day = day.adding(days: 1)
        }
        report.violationsByEvent = byEvent.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }
        let key = revealUsers ? nil : try pseudonymKey(stateDirectory: configuration.stateDirectory)
        report.users = byUser.map { user, value in
            User(
                name: key.map { pseudonym(user, key: $0) } ?? user, events: value.events,
                firstViolation: TimestampParser.formatUTC(value.first), verified: violators[user] != .max)
        }.sorted { ($0.events, $1.name) > ($1.events, $0.name) }
        return report
    }

    /// `user-` + the first 12 hex digits of HMAC-SHA256(key, user id): stable for one state
    /// directory, useless without its key.
    static func pseudonym(_ user: String, key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(user.utf8), using: key)
        return "user-" + mac.prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    static func pseudonymKey(stateDirectory: String) throws -> SymmetricKey {
        let path = stateDirectory + "/report-pseudonym.key"
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
            let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw StoreError.io(path: path, reason: "cannot create the pseudonym key")
        }
        return key
    }
}
