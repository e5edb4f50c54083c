import CustodyCore
import CustodyDisclosure
import CustodyStore
import Foundation

/// The "member_states_orders" part of the EU Digital Services Act transparency template
/// (Commission Implementing Regulation (EU) 2024/2835, Annex I), for orders to provide
/// information (DSA art. 10): one row per Member State and category of illegal content, with the
/// number of orders and the median times to inform the authority of receipt and to give effect,
/// in hours.
///
/// A request is such an order when it records a `member_state`. Custody records no orders to
/// act against illegal content (art. 9): those columns stay empty. Requests under a
/// non-disclosure order still in force are left out, as in the transparency report.
public struct DSAOrdersReport: Sendable {
    /// The template's column headers, in its order (20 columns).
    public static let headers = [
        "Applicability", "Service", "Reporting period", "Category of illegal content", "Description of the sub-category \"Other\"", "Scope",
        "Number of orders to act against illegal content received",
        "Number of specific items of information included in the total number of orders to act against illegal content",
        "Median time to inform the authority of the receipt of the order to act against illegal content",
        "Median time to give effect to the order to act against illegal content",
        "Number of orders to provide information",
        "Median time to inform the authority of the receipt of the order to provide information",
        "Median time to give effect to the order to provide information",
        "Contextual information on number of orders to act against illegal content received",
        "Contextual information on number of specific items of information included in the total number of orders to act against illegal content",
        "Contextual information on Median time to inform the authority of the receipt of the order to act against illegal content",
        "Contextual information on Median time to give effect to the order to act against illegal content",
        "Contextual information on Number of orders to provide information",
        "Contextual information on Median time to inform the authority of the receipt of the order to provide information",
        "Contextual information on Median time to give effect to the order to provide information",
    ]

    public struct Row: Sendable, Equatable {
        public var memberState: String
        public var category: IllegalContentCategory?
        public var orders: Int
        /// Hours; nil when no order of the row was acknowledged (or given effect) yet.
        public var medianHoursToInform: Double?
        public var medianHoursToGiveEffect: Double?
        public var notInformed: Int
        public var notGivenEffect: Int
    }

    public var period: ReportPeriod
    public var service: String
    public var rows: [Row]
    public var version: Int
    public var correction: ReportConfiguration.Correction?
    public var ledgerSeq: Int64?
    public var ledgerHead: String?

    /// `2026H1` or `2026`: the template's reporting periods (half-year for very large platforms,
    /// a year for others).
    public static func period(_ text: String) -> ReportPeriod? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard t.count == 4 || (t.count == 6 && (t.hasSuffix("H1") || t.hasSuffix("H2"))) else { return nil }
        return ReportPeriod(t)
    }

    public var fileName: String {
        "dsa-member_states_orders-\(period.label)\(version > 1 ? "-v\(version)" : "").csv"
    }

    public static func build(
        configuration: CustodyConfiguration, policy: Policy, about: ReportConfiguration,
        period: ReportPeriod, asOf: CivilDay
    ) throws -> DSAOrdersReport {
        let book = try RequestBook(configuration: configuration)
        // What is published must follow from the ledger, not from tables someone could edit.
        try LedgerConsistency.requireAgreement(book: book)
        var calendar = DayCalendar(timeZone: policy.timeZone)
        let orders = try book.list().filter { record in
            guard record.request.memberState != nil else { return false }
            if let until = record.request.nondisclosureUntil, until > asOf { return false }
            return period.contains(CivilDay(daysSinceEpoch: calendar.day(ofMillis: record.request.receivedMillis)))
        }
        let correction = about.dsaCorrections.filter { $0.period == period.label }.max { $0.version < $1.version }
        var report = DSAOrdersReport(
            period: period, service: about.service ?? "", rows: rows(orders), version: correction?.version ?? 1,
            correction: correction)
        if let head = try book.ledger.publishedHead(database: book.database) {
            report.ledgerSeq = head.seq
            report.ledgerHead = head.hash
        }
        return report
    }

    static func rows(_ orders: [RequestRecord]) -> [Row] {
        func median(_ values: [Double]) -> Double? {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            let mid = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        }
        func hours(_ record: RequestRecord, _ time: String?) -> Double? {
            guard let millis = time.flatMap(TimestampParser.parse) else { return nil }
            return Double(millis - record.request.receivedMillis) / 3_600_000
        }
        let groups = Dictionary(grouping: orders) { "\($0.request.memberState!)|\($0.request.illegalContentCategory?.rawValue ?? "")" }
        return groups.values.map { members in
            let inform = members.compactMap { hours($0, $0.request.acknowledgedAt) }
            let effect = members.compactMap { hours($0, $0.givenEffectAt) }
            return Row(
                memberState: members[0].request.memberState!, category: members[0].request.illegalContentCategory, orders: members.count,
                medianHoursToInform: median(inform), medianHoursToGiveEffect: median(effect),
                notInformed: members.count - inform.count, notGivenEffect: members.count - effect.count)
        }.sorted { ($0.memberState, $0.category?.rawValue ?? "~") < ($1.memberState, $1.category?.rawValue ?? "~") }
    }

    static func hours(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }

    /// What the contextual column says of every row: version, correction, and the ledger head.
    var versionNote: String {
        var note = "Version \(version)"
        if let correction { note += ", corrected \(correction.date)" + (correction.note.map { ": \($0)" } ?? "") }
        if let ledgerSeq, let ledgerHead { note += ". Built from request ledger entry \(ledgerSeq), SHA-256 \(ledgerHead)" }
        return note + "."
    }

    /// UTF-8, RFC 4180 (CRLF, quoted where needed), the template's headers.
    public var csv: String {
        let reportingPeriod = "\(period.first) - \(period.last)"
        var lines = [Self.headers]
        for row in rows {
            lines.append([
                "", service, reportingPeriod, row.category?.templateCode ?? IllegalContentCategory.notSpecified.templateCode, "",
                row.memberState,
                "", "", "", "",
                String(row.orders), Self.hours(row.medianHoursToInform), Self.hours(row.medianHoursToGiveEffect),
                "", "", "", "",
                versionNote,
                row.notInformed > 0
                    ? "Median in hours over \(row.orders - row.notInformed) of \(row.orders) orders; \(row.notInformed) not yet acknowledged."
                    : "Median in hours.",
                row.notGivenEffect > 0
                    ? "Median in hours over \(row.orders - row.notGivenEffect) of \(row.orders) orders; \(row.notGivenEffect) not given effect (refused, no data, withdrawn or pending)."
                    : "Median in hours.",
            ])
        }
        return CSV.render(lines)
    }
}
