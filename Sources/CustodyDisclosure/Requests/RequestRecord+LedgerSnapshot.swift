import CustodyCore
import Foundation

extension RequestRecord {
    /// Reads a record back from its ledger form (`ledgerSnapshot`, the `record` of a
    /// `request.state` entry), so a report can be recounted from a ledger export alone.
    /// `heldObjects` is not in the ledger form and reads as 0. Returns nil when a field is
    /// missing or malformed, or when the record read would not give back `snapshot` exactly:
    /// a recount never works from a record it only half understood.
    public init?(ledgerSnapshot snapshot: JSONValue) {
        func string(_ key: String, in value: JSONValue = snapshot) -> String? { value[key]?.stringValue }
        /// A field that may be null: .some(nil) when null, nil when absent or of another type.
        func optional(_ key: String, in value: JSONValue = snapshot) -> String?? {
            switch value[key] {
            case .null?: return .some(nil)
            case .string(let s)?: return .some(s)
            default: return nil
            }
        }
        func day(_ key: String) -> CivilDay?? {
            guard let text = optional(key) else { return nil }
            guard let text else { return .some(nil) }
            guard let day = CivilDay(iso: text) else { return nil }
            return .some(day)
        }
        guard let id = string("id"), let receivedAt = string("received_at"), let authority = string("authority"),
            let jurisdiction = string("jurisdiction"), let legalBasis = string("legal_basis"),
            let processType = string("process_type"), let scope = snapshot["scope"],
            let users = scope["users"]?.arrayValue?.compactMap(\.stringValue),
            let start = string("start", in: scope).flatMap(TimestampParser.parse),
            let end = string("end", in: scope).flatMap(TimestampParser.parse),
            let data = scope["data"]?.arrayValue?.compactMap({ $0.stringValue.flatMap(DataCategory.init(rawValue:)) }),
            let due = day("due"), let nondisclosureUntil = day("nondisclosure_until"),
            let foreign = snapshot["foreign"]?.boolValue,
            let acknowledgedAt = optional("acknowledged_at"), let memberState = optional("member_state"),
            let category = optional("illegal_content_category"),
            let status = string("status").flatMap(RequestStatus.init(rawValue:)),
            let outcome = optional("outcome"), let decidedAt = optional("decided_at"),
            let producedAt = optional("produced_at"), let closedAt = optional("closed_at"),
            let decisionValues = snapshot["decisions"]?.arrayValue, let productionValues = snapshot["productions"]?.arrayValue
        else { return nil }
        var request = DisclosureRequest(
            unchecked: id, receivedAt: receivedAt, authority: authority, jurisdiction: jurisdiction,
            legalBasis: legalBasis, processType: ProcessType(declared: processType), users: users,
            scopeStart: start, scopeEnd: end, dataCategories: data, dueDate: due,
            nondisclosureUntil: nondisclosureUntil, foreign: foreign)
        request.acknowledgedAt = acknowledgedAt
        request.memberState = memberState
        request.illegalContentCategory = category.flatMap(IllegalContentCategory.init(rawValue:))
        var decisions: [Decision] = []
        for value in decisionValues {
            guard let user = string("user", in: value), let produce = value["produce"]?.boolValue,
                let reason = string("reason", in: value), let at = string("decided_at", in: value)
            else { return nil }
            decisions.append(Decision(user: user, produce: produce, reason: reason, decidedAt: at))
        }
        var productions: [Production] = []
        for value in productionValues {
            guard let at = string("produced_at", in: value), let directory = string("directory", in: value),
                let manifest = string("manifest_sha256", in: value), let records = value["records"]?.intValue,
                let affected = value["users_affected"]?.arrayValue?.compactMap(\.stringValue)
            else { return nil }
            productions.append(
                Production(
                    producedAt: at, directory: directory, manifestSHA256: manifest, records: records,
                    usersAffected: affected, contentRecords: value["content_records"]?.intValue))
        }
        self.init(
            request: request, status: status, outcome: outcome.flatMap(RequestOutcome.init(rawValue:)),
            decidedAt: decidedAt, producedAt: producedAt, closedAt: closedAt,
            decisions: decisions, heldObjects: 0, productions: productions)
        // Whatever this reader does not understand (a field of a later version, a value it
        // dropped) shows as a difference here, and the record is refused rather than miscounted.
        guard ledgerSnapshot.canonicalText == snapshot.canonicalText else { return nil }
    }
}
