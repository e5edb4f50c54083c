import CustodyCore
import CustodyDisclosure
import CustodyStore
import Foundation
import GRDB

/// A transparency report for one period: what authorities asked for and what was given, in the
/// structure of Ranking Digital Rights indicator P11a and the Transparency Reporting Toolkit.
///
/// Requests under a non-disclosure order that has not ended by `asOf` are left out of every
/// detailed table and counted only in a band. No user id appears anywhere in the report.
public struct TransparencyReport: Sendable {
    /// Outcome counts for a group of requests.
    public struct Outcomes: Sendable, Equatable {
        public var rejected = 0
        public var noData = 0
        public var contentDisclosed = 0
        public var nonContentDisclosed = 0
        /// Pending, withdrawn, or preserved without production.
        public var other = 0
        public var total = 0
        public var someDataProduced = 0

        public var percentSomeData: Double { total == 0 ? 0 : Double(someDataProduced) * 100 / Double(total) }
    }

    public struct Group: Sendable, Equatable {
        public var key: String
        public var label: String
        public var requests: Int
        public var accountsSpecified: Int
        public var outcomes: Outcomes
    }

    public var period: ReportPeriod
    public var asOf: CivilDay
    public var policyID: String
    public var bandWidth: Int

    public var totalRequests = 0
    public var storedDataRequests = 0
    public var preservationRequests = 0
    public var emergencyRequests = 0
    public var accountsSpecified = 0
    public var accountsAffected = 0
    public var contentRequests = 0
    public var nonContentOnlyRequests = 0
    public var crossBorderRequests = 0
    public var medianDaysToDecision: Double?
    public var overdueRequests = 0
    public var outcomes = Outcomes()

    public var byJurisdiction: [Group] = []
    public var byAuthority: [Group] = []
    public var byProcessType: [Group] = []
    public var byLegalBasis: [Group] = []
    /// Rows of the Google-compatible CSV: (jurisdiction, process type).
    public var byJurisdictionAndProcess: [(code: String, process: ProcessType, group: Group)] = []

    /// Requests under a non-disclosure order still in force on `asOf`.
    public var withheldUnderNondisclosure = 0

    /// The days of the period the state holds records around (first to last kept day).
    public var keptSpan: ClosedRange<CivilDay>?
    public var daysInPeriod = 0
    public var daysWithRecords = 0
    public var missingDays: [CivilDay] = []
    public var usersSeen = 0
    public var verifiedUsers = 0
    public var violatingUsers = 0
    public var violatingEvents = 0

    public var ledgerSeq: Int64?
    public var ledgerHead: String?
    public var ledgerTime: String?
    /// The id of the key that signs the JSON (`attestation`); shown in the footers.
    public var signingKeyID: String?

    /// `0–249` style band for the withheld count.
    public var withheldBand: String {
        let low = (withheldUnderNondisclosure / bandWidth) * bandWidth
        return "\(low)–\(low + bandWidth - 1)"
    }

    public static func build(configuration: CustodyConfiguration, policy: Policy, period: ReportPeriod, asOf: CivilDay) throws -> TransparencyReport {
        let book = try RequestBook(configuration: configuration)
        // What is published must follow from the ledger, not from tables someone could edit.
        try LedgerConsistency.requireAgreement(book: book)
        var calendar = DayCalendar(timeZone: policy.timeZone)
        let inPeriod = try book.list().filter { record in
            period.contains(CivilDay(daysSinceEpoch: calendar.day(ofMillis: record.request.receivedMillis)))
        }
        var report = TransparencyReport(period: period, asOf: asOf, policyID: policy.id, bandWidth: policy.reportingBandWidth)
        let visible = inPeriod.filter { record in
            guard let until = record.request.nondisclosureUntil else { return true }
            return until <= asOf
        }
        report.withheldUnderNondisclosure = inPeriod.count - visible.count
        report.tally(visible, calendar: &calendar)
        try report.addStateSummary(configuration: configuration, policy: policy)
        if let head = try book.ledger.head(database: book.database) {
            report.ledgerSeq = head.seq
            report.ledgerHead = head.hash
            report.ledgerTime = head.recordedAt
        }
        return report
    }

    private mutating func tally(_ records: [RequestRecord], calendar: inout DayCalendar) {
        totalRequests = records.count
        storedDataRequests = records.filter { ![.preservation, .emergency].contains($0.request.processType) }.count
        preservationRequests = records.filter { $0.request.processType == .preservation }.count
        emergencyRequests = records.filter { $0.request.processType == .emergency }.count
        accountsSpecified = Set(records.flatMap(\.request.users)).count
        accountsAffected = Set(records.flatMap { $0.productions.flatMap(\.usersAffected) }).count
        contentRequests = records.filter { $0.request.dataCategories.contains(.content) }.count
        nonContentOnlyRequests = records.filter { $0.request.dataCategories == [.nonContent] }.count
        crossBorderRequests = records.filter(\.request.foreign).count
        outcomes = Self.outcomes(records)

        let decisionDays = records.compactMap { record -> Double? in
            guard let decided = record.decidedAt.flatMap(TimestampParser.parse) else { return nil }
            return Double(decided - record.request.receivedMillis) / 86_400_000
        }.sorted()
        if !decisionDays.isEmpty {
            let mid = decisionDays.count / 2
            let median = decisionDays.count % 2 == 1 ? decisionDays[mid] : (decisionDays[mid - 1] + decisionDays[mid]) / 2
            medianDaysToDecision = (median * 10).rounded() / 10
        }
        overdueRequests = records.filter { record in
            guard let due = record.request.dueDate else { return false }
            let answer = (record.producedAt ?? record.decidedAt ?? record.closedAt).flatMap(TimestampParser.parse)
            let answeredDay = answer.map { CivilDay(daysSinceEpoch: calendar.day(ofMillis: $0)) }
            return due < (answeredDay ?? asOf)
        }.count

        func groups(_ key: (RequestRecord) -> (String, String)) -> [Group] {
            Dictionary(grouping: records, by: { key($0).0 }).map { k, members in
                Group(key: k, label: key(members[0]).1, requests: members.count,
                      accountsSpecified: Set(members.flatMap(\.request.users)).count, outcomes: Self.outcomes(members))
            }.sorted { ($0.requests, $1.key) > ($1.requests, $0.key) }
        }
        byJurisdiction = groups { ($0.request.jurisdiction, Territories.name($0.request.jurisdiction)) }
        byAuthority = groups { ("\($0.request.authority) (\($0.request.jurisdiction))", "\($0.request.authority) (\($0.request.jurisdiction))") }
        byProcessType = groups { ($0.request.processType.rawValue, $0.request.processType.title) }
        byLegalBasis = groups { ($0.request.legalBasis, $0.request.legalBasis) }
        byJurisdictionAndProcess = Dictionary(grouping: records, by: { "\($0.request.jurisdiction)|\($0.request.processType.rawValue)" })
            .map { _, members in
                let first = members[0].request
                return (first.jurisdiction, first.processType,
                        Group(key: first.jurisdiction, label: first.processType.title, requests: members.count,
                              accountsSpecified: Set(members.flatMap(\.request.users)).count, outcomes: Self.outcomes(members)))
            }
            .sorted { ($0.code, $0.process.rawValue) < ($1.code, $1.process.rawValue) }
    }

    static func outcomes(_ records: [RequestRecord]) -> Outcomes {
        var o = Outcomes()
        for record in records {
            o.total += 1
            let produced = record.productions.contains { $0.records > 0 }
            if produced { o.someDataProduced += 1 }
            switch record.outcome {
            case .rejected: o.rejected += 1
            case .noDataFound: o.noData += 1
            case .fullyComplied, .partiallyComplied:
                if !produced { o.other += 1 }
                else if record.request.dataCategories.contains(.content) { o.contentDisclosed += 1 }
                else { o.nonContentDisclosed += 1 }
            default: o.other += 1
            }
        }
        return o
    }

    private mutating func addStateSummary(configuration: CustodyConfiguration, policy: Policy) throws {
        let database = try StateDatabase(directory: configuration.stateDirectory)
        // Only the span the state has records for counts: days before logging began or after the
        // last ingestion are not gaps.
        let span = try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT MIN(day), MAX(day) FROM daily_records WHERE records > 0")
        }
        guard let firstText: String = span?[0], let lastText: String = span?[1],
              let firstKept = CivilDay(iso: firstText), let lastKept = CivilDay(iso: lastText) else { return }
        let from = max(period.first, firstKept)
        let to = min(period.last, asOf.adding(days: -1), lastKept)
        keptSpan = from <= to ? from...to : nil
        var covered = Set<String>()
        try database.pool.read { db in
            for day in try String.fetchAll(db, sql: "SELECT DISTINCT day FROM daily_records WHERE records > 0 AND day BETWEEN ? AND ?",
                                           arguments: [from.description, to.description]) {
                covered.insert(day)
            }
        }
        var day = from
        while day <= to {
            daysInPeriod += 1
            if covered.contains(day.description) { daysWithRecords += 1 } else if configuration.since.map({ day >= $0 }) ?? true { missingDays.append(day) }
            day = day.adding(days: 1)
        }
        let vault = try Vault(directory: configuration.vaultDirectory)
        let audit = try StateAudit.report(database: database, vault: vault, policy: policy, asOf: to.adding(days: 1), since: configuration.since)
        usersSeen = audit.realName.usersSeen
        verifiedUsers = audit.realName.verifiedUsers
        violatingUsers = audit.realName.violatingUsers.count
        violatingEvents = audit.realName.violatingEvents
    }
}
