import CustodyCore
import CustodyDisclosure
import CustodyStore
import Foundation
import GRDB

/// A transparency report for one period, for publication: what authorities asked for and what
/// was given, in the structure of Ranking Digital Rights indicator P11a and of the published
/// tables of large providers (counts per country and per legal process, preservation and
/// emergency requests on their own rows, withdrawn requests apart).
///
/// Requests under a non-disclosure order that has not ended by `asOf` are left out of every
/// table and counted only in a band. No user id appears anywhere in the report, and nothing of
/// the provider's internal compliance (retention gaps, real-name violations): that is
/// `report compliance`.
public struct TransparencyReport: Sendable {
    /// Counts for a group of requests. Each request has exactly one disposition.
    public struct Counts: Sendable, Equatable {
        public var requests = 0
        public var accountsSpecified = 0
        /// Some records were handed over (content or not).
        public var someDataProduced = 0
        /// The package held content (what users published).
        public var contentProduced = 0
        /// The package held only non-content records.
        public var nonContentOnlyProduced = 0
        /// Refused for every account, or challenged.
        public var rejected = 0
        /// Decided to produce, but no record matched.
        public var noDataFound = 0
        public var withdrawn = 0
        /// Preservation requests (held, nothing produced).
        public var preserved = 0
        /// Received, under review, or decided and not yet produced.
        public var pending = 0

        /// Percent of requests where some data was produced, as a whole number: the exact ratio
        /// rounded half up (what published integer tables show), 0 when there are no requests.
        public var percentSomeData: Int {
            requests == 0 ? 0 : (200 * someDataProduced + requests) / (2 * requests)
        }
    }

    /// Median response times of a group, over the requests that reached each step.
    public struct Timeline: Sendable, Equatable {
        /// Hours from receipt to informing the authority of receipt.
        public var hoursToAcknowledge: Double?
        /// Days from receipt to the decision.
        public var daysToDecision: Double?
        /// Days from receipt to giving effect (first package handed over).
        public var daysToGiveEffect: Double?
    }

    public struct Row: Sendable, Equatable {
        public var key: String
        public var label: String
        public var counts: Counts
        public var timeline: Timeline
    }

    public var period: ReportPeriod
    public var asOf: CivilDay
    public var about: ReportConfiguration
    public var bandWidth: Int

    public var totals = Counts()
    public var timeline = Timeline()
    public var accountsAffected = 0
    public var contentRequests = 0
    public var nonContentOnlyRequests = 0
    public var crossBorderRequests = 0
    public var overdueRequests = 0
    /// Requests for real-time access (process types the configuration marks real-time), and the rest.
    public var realTimeRequests = 0
    public var storedDataRequests = 0

    public var byProcessType: [Row] = []
    public var byJurisdiction: [Row] = []
    public var byAuthority: [Row] = []
    public var byLegalBasis: [Row] = []
    /// Rows of the Google-compatible CSV: one per jurisdiction and legal process with requests.
    public var byJurisdictionAndProcess: [(code: String, process: ProcessType, row: Row)] = []

    /// Requests under a non-disclosure order still in force on `asOf`.
    public var withheldUnderNondisclosure = 0

    /// The time zone days were counted in (the policy's), recorded in the JSON's `basis`.
    public var timeZone: String?

    public var ledgerSeq: Int64?
    public var ledgerHead: String?
    public var ledgerTime: String?
    /// The id of the key that signs the JSON (`attestation`); shown in the footers.
    public var signingKeyID: String?

    /// The period has not ended on `asOf`: every format says the report is interim.
    public var isInterim: Bool { asOf <= period.last }

    /// The last day the figures can cover.
    public var coveredThrough: CivilDay { isInterim ? asOf.adding(days: -1) : period.last }

    /// `0–249` style band for the withheld count.
    public var withheldBand: String {
        let low = (withheldUnderNondisclosure / bandWidth) * bandWidth
        return "\(low)–\(low + bandWidth - 1)"
    }

    public init(period: ReportPeriod, asOf: CivilDay, about: ReportConfiguration, bandWidth: Int) {
        self.period = period
        self.asOf = asOf
        self.about = about
        self.bandWidth = bandWidth
    }

    public static func build(
        configuration: CustodyConfiguration, policy: Policy, about: ReportConfiguration,
        period: ReportPeriod, asOf: CivilDay
    ) throws -> TransparencyReport {
        let book = try RequestBook(configuration: configuration)
        // What is published must follow from the ledger, not from tables someone could edit.
        try LedgerConsistency.requireAgreement(book: book)
        var report = build(
            records: try book.list(), period: period, asOf: asOf, about: about,
            bandWidth: policy.reportingBandWidth, timeZone: policy.timeZone)
        if let head = try book.ledger.publishedHead(database: book.database) {
            report.ledgerSeq = head.seq
            report.ledgerHead = head.hash
            report.ledgerTime = head.recordedAt
        }
        return report
    }

    /// The report of `records` (every request, in any order; those received outside the period
    /// are left out): the one path from request records to figures, whether the records come
    /// from the state (`build(configuration:…)`) or from a ledger export (`ReportRecount`).
    public static func build(
        records: [RequestRecord], period: ReportPeriod, asOf: CivilDay, about: ReportConfiguration,
        bandWidth: Int, timeZone: TimeZone
    ) -> TransparencyReport {
        var calendar = DayCalendar(timeZone: timeZone)
        let inPeriod = records.filter { record in
            period.contains(CivilDay(daysSinceEpoch: calendar.day(ofMillis: record.request.receivedMillis)))
        }
        var report = TransparencyReport(period: period, asOf: asOf, about: about, bandWidth: bandWidth)
        report.timeZone = timeZone.identifier
        let visible = inPeriod.filter { record in
            guard let until = record.request.nondisclosureUntil else { return true }
            return until <= asOf
        }
        report.withheldUnderNondisclosure = inPeriod.count - visible.count
        report.tally(visible, calendar: &calendar)
        return report
    }

    /// Builds every table from the visible requests of the period.
    public mutating func tally(_ records: [RequestRecord], calendar: inout DayCalendar) {
        totals = Self.counts(records)
        timeline = Self.timeline(records)
        accountsAffected = Set(records.flatMap { $0.productions.flatMap(\.usersAffected) }).count
        contentRequests = records.filter { $0.request.dataCategories.contains(.content) }.count
        nonContentOnlyRequests = records.filter { $0.request.dataCategories == [.nonContent] }.count
        crossBorderRequests = records.filter(\.request.foreign).count
        let realTime = about.realTimeProcessTypes
        realTimeRequests = records.filter { realTime.contains($0.request.processType) }.count
        storedDataRequests = records.count - realTimeRequests
        overdueRequests =
            records.filter { record in
                guard let due = record.request.dueDate else { return false }
                let answer = (record.givenEffectAt ?? record.decidedAt ?? record.closedAt).flatMap(TimestampParser.parse)
                let answeredDay = answer.map { CivilDay(daysSinceEpoch: calendar.day(ofMillis: $0)) }
                return due < (answeredDay ?? asOf)
            }.count

        func rows(_ key: (RequestRecord) -> String, label: (String) -> String) -> [Row] {
            Dictionary(grouping: records, by: key).map { k, members in
                Row(key: k, label: label(k), counts: Self.counts(members), timeline: Self.timeline(members))
            }.sorted { ($0.counts.requests, $1.label) > ($1.counts.requests, $0.label) }
        }
        let about = self.about
        // Every process type keeps its row, even with no request: a published table shows the zero.
        let byType = Dictionary(grouping: records, by: \.request.processType)
        let types = about.reportedProcessTypes + byType.keys.filter { !about.reportedProcessTypes.contains($0) }.sorted()
        byProcessType = types.map { type in
            let members = byType[type] ?? []
            return Row(key: type.rawValue, label: about.title(of: type), counts: Self.counts(members), timeline: Self.timeline(members))
        }
        byJurisdiction = rows({ $0.request.jurisdiction }, label: { about.territoryName($0) })
        // Listed territories keep a row of zeros, as published tables do.
        for code in about.listedTerritories where !byJurisdiction.contains(where: { $0.key == code }) {
            byJurisdiction.append(Row(key: code, label: about.territoryName(code), counts: Counts(), timeline: Timeline()))
        }
        byAuthority = rows({ "\($0.request.authority) (\($0.request.jurisdiction))" }, label: { $0 })
        byLegalBasis = rows({ $0.request.legalBasis }, label: { $0 })
        byJurisdictionAndProcess = Dictionary(grouping: records, by: { "\($0.request.jurisdiction)|\($0.request.processType.rawValue)" })
            .map { _, members in
                let first = members[0].request
                return (
                    first.jurisdiction, first.processType,
                    Row(
                        key: first.jurisdiction, label: about.title(of: first.processType), counts: Self.counts(members),
                        timeline: Self.timeline(members))
                )
            }
            .sorted {
                (about.territoryName($0.code), $0.code, $0.process.rawValue) < (about.territoryName($1.code), $1.code, $1.process.rawValue)
            }
    }

    /// Counts by disposition. Content vs non-content follows what the packages *held*, not what
    /// the request asked for: a request for content answered with login records is non-content.
    static func counts(_ records: [RequestRecord]) -> Counts {
        var c = Counts()
        var accounts = Set<String>()
        for record in records {
            c.requests += 1
            accounts.formUnion(record.request.users)
            let produced = record.productions.reduce(0) { $0 + $1.records }
            let content = record.productions.reduce(0) { total, production in
                // Packages made before content was counted: fall back to what was asked.
                total + (production.contentRecords ?? (record.request.dataCategories.contains(.content) ? production.records : 0))
            }
            // A preservation request holds records from intake on: preserved while open and once closed.
            let preservation = record.request.processType == .preservation
            switch record.outcome {
            case .withdrawn: c.withdrawn += 1
            case _ where preservation: c.preserved += 1
            case .rejected: c.rejected += 1
            case .noDataFound: c.noDataFound += 1
            case .preserved: c.preserved += 1
            default:
                if produced == 0 { c.pending += 1 } else if content > 0 { c.contentProduced += 1 } else { c.nonContentOnlyProduced += 1 }
            }
            if produced > 0 && record.outcome != .withdrawn { c.someDataProduced += 1 }
        }
        c.accountsSpecified = accounts.count
        return c
    }

    static func timeline(_ records: [RequestRecord]) -> Timeline {
        func median(_ values: [Double]) -> Double? {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            let mid = sorted.count / 2
            let m = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
            return (m * 10).rounded() / 10
        }
        func elapsed(_ record: RequestRecord, _ time: String?, unit: Double) -> Double? {
            guard let millis = time.flatMap(TimestampParser.parse) else { return nil }
            return Double(millis - record.request.receivedMillis) / unit
        }
        return Timeline(
            hoursToAcknowledge: median(records.compactMap { elapsed($0, $0.request.acknowledgedAt, unit: 3_600_000) }),
            daysToDecision: median(records.compactMap { elapsed($0, $0.decidedAt, unit: 86_400_000) }),
            daysToGiveEffect: median(records.compactMap { elapsed($0, $0.givenEffectAt, unit: 86_400_000) }))
    }
}
