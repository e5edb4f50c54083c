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
        /// Records that are content (publish events); nil for packages made before this was counted.
        public var contentRecords: Int?
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
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM requests WHERE id = ?"), arguments: [id]) else {
            return nil
        }
        return try load(row: row, db: db)
    }

    static func load(row: Row, db: Database) throws -> RequestRecord {
        let id: String = row["id"]
        let decisions = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT user, produce, reason, decided_at FROM request_decisions WHERE request_id = ? ORDER BY user"),
            arguments: [id]
        )
        .map(decision)
        let held =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM legal_holds WHERE request_id = ? AND released_at IS NULL"), arguments: [id])
            ?? 0
        let productions = try Row.fetchAll(
            db.cachedStatement(
                sql:
                    "SELECT produced_at, directory, manifest_sha256, records, users_affected, content_records FROM productions WHERE request_id = ? ORDER BY id"
            ), arguments: [id]
        )
        .map(production)
        return record(row: row, decisions: decisions, heldObjects: held, productions: productions)
    }

    /// Every request, in `ORDER BY` order, with four queries in all (not three per request):
    /// reports and listings read tens of thousands of requests.
    static func loadAll(db: Database, orderBy: String = "received_at, id") throws -> [RequestRecord] {
        var decisions: [String: [Decision]] = [:]
        let decisionRows = try Row.fetchCursor(
            db, sql: "SELECT request_id, user, produce, reason, decided_at FROM request_decisions ORDER BY request_id, user")
        while let row = try decisionRows.next() {
            decisions[row[0], default: []].append(Decision(user: row[1], produce: row[2], reason: row[3], decidedAt: row[4]))
        }
        var held: [String: Int] = [:]
        let holdRows = try Row.fetchCursor(
            db, sql: "SELECT request_id, COUNT(*) FROM legal_holds WHERE released_at IS NULL GROUP BY request_id")
        while let row = try holdRows.next() {
            held[row[0]] = row[1]
        }
        var productions: [String: [Production]] = [:]
        let productionRows = try Row.fetchCursor(
            db,
            sql:
                "SELECT request_id, produced_at, directory, manifest_sha256, records, users_affected, content_records FROM productions ORDER BY id"
        )
        while let row = try productionRows.next() {
            productions[row[0], default: []].append(
                Production(
                    producedAt: row[1], directory: row[2], manifestSHA256: row[3], records: row[4],
                    usersAffected: JSONValue.parse(row[5])?.arrayValue?.compactMap(\.stringValue) ?? [],
                    contentRecords: row[6]))
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM requests ORDER BY \(orderBy)").map { row in
            let id: String = row["id"]
            return record(row: row, decisions: decisions[id] ?? [], heldObjects: held[id] ?? 0, productions: productions[id] ?? [])
        }
    }

    private static func decision(_ row: Row) -> Decision { Decision(user: row[0], produce: row[1], reason: row[2], decidedAt: row[3]) }

    private static func production(_ row: Row) -> Production {
        Production(
            producedAt: row[0], directory: row[1], manifestSHA256: row[2], records: row[3],
            usersAffected: JSONValue.parse(row[4])?.arrayValue?.compactMap(\.stringValue) ?? [], contentRecords: row[5])
    }

    private static func record(row: Row, decisions: [Decision], heldObjects: Int, productions: [Production]) -> RequestRecord {
        let users = JSONValue.parse(row["scope_users"])?.arrayValue?.compactMap(\.stringValue) ?? []
        let data =
            JSONValue.parse(row["data_categories"])?.arrayValue?.compactMap { $0.stringValue.flatMap(DataCategory.init(rawValue:)) } ?? []
        var request = DisclosureRequest(
            unchecked: row["id"], receivedAt: row["received_at"], authority: row["authority"], jurisdiction: row["jurisdiction"],
            legalBasis: row["legal_basis"], processType: ProcessType(declared: row["process_type"]), users: users,
            scopeStart: row["scope_start_ms"], scopeEnd: row["scope_end_ms"], dataCategories: data,
            dueDate: (row["due_date"] as String?).flatMap(CivilDay.init(iso:)),
            nondisclosureUntil: (row["nondisclosure_until"] as String?).flatMap(CivilDay.init(iso:)),
            foreign: row["foreign_requester"])
        request.acknowledgedAt = row["acknowledged_at"]
        request.memberState = row["member_state"]
        request.illegalContentCategory = (row["illegal_content_category"] as String?).flatMap(IllegalContentCategory.init(rawValue:))
        return RequestRecord(
            request: request, status: RequestStatus(rawValue: row["status"]) ?? .received,
            outcome: (row["outcome"] as String?).flatMap(RequestOutcome.init(rawValue:)),
            decidedAt: row["decided_at"], producedAt: row["produced_at"], closedAt: row["closed_at"],
            decisions: decisions, heldObjects: heldObjects, productions: productions)
    }

    /// The record as the ledger keeps it (`request.state` entries): everything but the count of
    /// held objects, which ingestion changes and the ledger's hold entries track.
    public var ledgerSnapshot: JSONValue {
        guard case .object(let pairs) = json else { return json }
        return .object(pairs.filter { $0.0 != "held_objects" })
    }
    /// When the order was given effect: the first hand-over of a package.
    public var givenEffectAt: String? { productions.first?.producedAt }

    public var json: JSONValue {
        guard case .object(var pairs) = request.json else { return request.json }
        pairs += [
            ("status", .string(status.rawValue)),
            ("outcome", outcome.map { .string($0.rawValue) } ?? .null),
            ("decided_at", decidedAt.map { .string($0) } ?? .null),
            ("produced_at", producedAt.map { .string($0) } ?? .null),
            ("closed_at", closedAt.map { .string($0) } ?? .null),
            (
                "decisions",
                .array(
                    decisions.map {
                        .object([
                            ("user", .string($0.user)), ("produce", .bool($0.produce)),
                            ("reason", .string($0.reason)), ("decided_at", .string($0.decidedAt)),
                        ])
                    })
            ),
            ("held_objects", .int(heldObjects)),
            (
                "productions",
                .array(
                    productions.map {
                        .object([
                            ("produced_at", .string($0.producedAt)), ("directory", .string($0.directory)),
                            ("manifest_sha256", .string($0.manifestSHA256)), ("records", .int($0.records)),
                            ("content_records", $0.contentRecords.map { .int($0) } ?? .null),
                            ("users_affected", .array($0.usersAffected.map { .string($0) })),
                        ])
                    })
            ),
        ]
        return .object(pairs)
    }
}

extension DisclosureRequest {
    /// Rebuilds a stored request without re-validating it.
    init(
        unchecked id: String, receivedAt: String, authority: String, jurisdiction: String, legalBasis: String,
        processType: ProcessType, users: [String], scopeStart: Int64, scopeEnd: Int64, dataCategories: [DataCategory],
        dueDate: CivilDay?, nondisclosureUntil: CivilDay?, foreign: Bool
    ) {
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
