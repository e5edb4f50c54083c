import CustodyCore
import Foundation
import GRDB

/// A request with where it stands: status, outcome, decisions, holds and productions.
public struct RequestRecord: Sendable {
    public struct Decision: Sendable, Equatable {
        public var user: String
        public var produce: Bool
        public var reason: String
        public var decidedAt: String
    }

    public struct Production: Sendable {
        public var producedAt: String
        public var directory: String
        public var manifestSHA256: String
        public var records: Int
        public var usersAffected: [String]
    }

    public var request: DisclosureRequest
    public var status: RequestStatus
    public var outcome: RequestOutcome?
    public var decidedAt: String?
    public var producedAt: String?
    public var closedAt: String?
    public var decisions: [Decision]
    public var heldObjects: Int
    public var productions: [Production]

    public func isOverdue(asOf: CivilDay) -> Bool {
        guard let due = request.dueDate else { return false }
        return due < asOf && [.received, .underReview, .decided].contains(status)
    }

    static func load(id: String, db: Database) throws -> RequestRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM requests WHERE id = ?", arguments: [id]) else { return nil }
        return try load(row: row, db: db)
    }

    static func load(row: Row, db: Database) throws -> RequestRecord {
        let id: String = row["id"]
        let users = JSONValue.parse(row["scope_users"])?.arrayValue?.compactMap(\.stringValue) ?? []
        let data = JSONValue.parse(row["data_categories"])?.arrayValue?.compactMap { $0.stringValue.flatMap(DataCategory.init(rawValue:)) } ?? []
        let request = DisclosureRequest(
            unchecked: id, receivedAt: row["received_at"], authority: row["authority"], jurisdiction: row["jurisdiction"],
            legalBasis: row["legal_basis"], processType: ProcessType(rawValue: row["process_type"]) ?? .other, users: users,
            scopeStart: row["scope_start_ms"], scopeEnd: row["scope_end_ms"], dataCategories: data,
            dueDate: (row["due_date"] as String?).flatMap(CivilDay.init(iso:)),
            nondisclosureUntil: (row["nondisclosure_until"] as String?).flatMap(CivilDay.init(iso:)),
            foreign: row["foreign_requester"])
        let decisions = try Row.fetchAll(db, sql: "SELECT user, produce, reason, decided_at FROM request_decisions WHERE request_id = ? ORDER BY user", arguments: [id])
            .map { Decision(user: $0[0], produce: $0[1], reason: $0[2], decidedAt: $0[3]) }
        let held = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM legal_holds WHERE request_id = ? AND released_at IS NULL", arguments: [id]) ?? 0
        let productions = try Row.fetchAll(db, sql: "SELECT produced_at, directory, manifest_sha256, records, users_affected FROM productions WHERE request_id = ? ORDER BY id", arguments: [id])
            .map { Production(producedAt: $0[0], directory: $0[1], manifestSHA256: $0[2], records: $0[3],
                              usersAffected: JSONValue.parse($0[4])?.arrayValue?.compactMap(\.stringValue) ?? []) }
        return RequestRecord(request: request, status: RequestStatus(rawValue: row["status"]) ?? .received,
                             outcome: (row["outcome"] as String?).flatMap(RequestOutcome.init(rawValue:)),
                             decidedAt: row["decided_at"], producedAt: row["produced_at"], closedAt: row["closed_at"],
                             decisions: decisions, heldObjects: held, productions: productions)
    }

    /// The record as the ledger keeps it (`request.state` entries): everything but the count of
    /// held objects, which ingestion changes and the ledger's hold entries track.
    public var ledgerSnapshot: JSONValue {
        guard case .object(let pairs) = json else { return json }
        return .object(pairs.filter { $0.0 != "held_objects" })
    }

    public var json: JSONValue {
        guard case .object(var pairs) = request.json else { return request.json }
        pairs += [
            ("status", .string(status.rawValue)),
            ("outcome", outcome.map { .string($0.rawValue) } ?? .null),
            ("decided_at", decidedAt.map { .string($0) } ?? .null),
            ("produced_at", producedAt.map { .string($0) } ?? .null),
            ("closed_at", closedAt.map { .string($0) } ?? .null),
            ("decisions", .array(decisions.map { .object([("user", .string($0.user)), ("produce", .bool($0.produce)),
                                                          ("reason", .string($0.reason)), ("decided_at", .string($0.decidedAt))]) })),
            ("held_objects", .int(heldObjects)),
            ("productions", .array(productions.map { .object([("produced_at", .string($0.producedAt)), ("directory", .string($0.directory)),
                                                              ("manifest_sha256", .string($0.manifestSHA256)), ("records", .int($0.records)),
                                                              ("users_affected", .array($0.usersAffected.map { .string($0) }))]) })),
        ]
        return .object(pairs)
    }
}

extension DisclosureRequest {
    /// Rebuilds a stored request without re-validating it.
    init(unchecked id: String, receivedAt: String, authority: String, jurisdiction: String, legalBasis: String,
         processType: ProcessType, users: [String], scopeStart: Int64, scopeEnd: Int64, dataCategories: [DataCategory],
         dueDate: CivilDay?, nondisclosureUntil: CivilDay?, foreign: Bool) {
        self.id = id
        self.receivedAt = receivedAt
        self.authority = authority
        self.jurisdiction = jurisdiction
        self.legalBasis = legalBasis
        self.processType = processType
        self.users = users
        self.scopeStart = scopeStart
        self.scopeEnd = scopeEnd
        self.dataCategories = dataCategories
        self.dueDate = dueDate
        self.nondisclosureUntil = nondisclosureUntil
        self.foreign = foreign
    }
}
