import CustodyCore
import CustodyStore
import Foundation
import GRDB

/// The disclosure workflow over the state: intake (with legal holds), decisions, closing.
/// Every change is appended to the ledger in the same transaction, and the ledger head is signed
/// after each operation.
public final class RequestBook: Sendable {
    public let database: StateDatabase
    public let vault: Vault
    public let ledger: Ledger

    /// Opens the state; without `create` (`custody verify`), a missing state is an error.
    public init(configuration: CustodyConfiguration, create: Bool = true) throws {
        database = try StateDatabase(directory: configuration.stateDirectory, create: create)
        vault = try Vault(directory: configuration.vaultDirectory, create: create)
        ledger = Ledger(configuration: configuration)
    }

    /// Appends the request's whole record as it now stands (`request.state`), in the caller's
    /// transaction. Every change to a request ends with one, so whatever a request carries,
    /// today's fields or tomorrow's, the ledger holds it and `custody verify` can compare the
    /// `requests` table with it. A change that skips this shows as a disagreement.
    public func recordState(_ id: String, db: Database) throws {
        guard let record = try RequestRecord.load(id: id, db: db) else { return }
        try ledger.append("request.state", .object([("request", .string(id)), ("record", record.ledgerSnapshot)]), db: db)
    }

    // MARK: intake

    /// Records a request and holds the vault objects whose time range meets its scope.
    @discardableResult
    public func add(_ request: DisclosureRequest) throws -> RequestRecord {
        let record = try database.pool.write { db in
            try insert(request, db: db)
            return try RequestRecord.load(id: request.id, db: db)!
        }
        try ledger.checkpoint(database: database)
        return record
    }

    /// Imports JSON lines, one request each, all or nothing: a bad line names its number and
    /// nothing is imported.
    public func importLines(_ text: String, source: String, timeZone: TimeZone) throws -> [RequestRecord] {
        var requests: [DisclosureRequest] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let json = JSONValue.parse(trimmed) else { throw DisclosureError("\(source):\(index + 1): not valid JSON; nothing imported") }
            do {
                requests.append(try DisclosureRequest(json: json, timeZone: timeZone))
            } catch let error as DisclosureError {
                throw DisclosureError("\(source):\(index + 1): \(error.message); nothing imported")
            }
            if requests.dropLast().contains(where: { $0.id == requests.last!.id }) {
                throw DisclosureError("\(source):\(index + 1): request id '\(requests.last!.id)' appears twice; nothing imported")
            }
        }
        guard !requests.isEmpty else { throw DisclosureError("\(source): no requests to import") }
        let records = try database.pool.write { db in
            try requests.map { request in
                try insert(request, db: db)
                return try RequestRecord.load(id: request.id, db: db)!
            }
        }
        try ledger.checkpoint(database: database)
        return records
    }

    private func insert(_ r: DisclosureRequest, db: Database) throws {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM requests WHERE id = ?", arguments: [r.id]) == true {
            throw DisclosureError("request \(r.id) already exists")
        }
        func jsonArray(_ items: [String]) -> String { JSONValue.array(items.map { .string($0) }).rendered(pretty: false) }
        try db.execute(sql: """
            INSERT INTO requests (id, received_at, authority, jurisdiction, legal_basis, process_type, scope_users,
                                  scope_start_ms, scope_end_ms, data_categories, due_date, nondisclosure_until,
                                  foreign_requester, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received')
            """, arguments: [r.id, r.receivedAt, r.authority, r.jurisdiction, r.legalBasis, r.processType.rawValue,
                             jsonArray(r.users), r.scopeStart, r.scopeEnd, jsonArray(r.dataCategories.map(\.rawValue)),
                             r.dueDate?.description, r.nondisclosureUntil?.description, r.foreign])
        try ledger.append("request.received", r.json, db: db)
        let objects = try String.fetchAll(db, sql: """
            SELECT sha256 FROM vault_objects
            WHERE purged_at IS NULL AND first_record_at_ms <= ? AND last_record_at_ms >= ?
            ORDER BY sha256
            """, arguments: [r.scopeEnd, r.scopeStart])
        let now = StateDatabase.timestamp()
        for object in objects {
            try db.execute(sql: "INSERT INTO legal_holds (request_id, vault_object, placed_at) VALUES (?, ?, ?)",
                           arguments: [r.id, object, now])
        }
        var hold: [(String, JSONValue)] = [("request", .string(r.id)), ("vault_objects", .array(objects.map { .string($0) }))]
        if let expiry = Self.preservationExpiry(r) { hold += [("expires_at", .string(expiry)), ("law", .string(Self.preservationLaw))] }
        try ledger.append("hold.placed", .object(hold), db: db)
        try recordState(r.id, db: db)
    }

    // MARK: reading

    public func record(_ id: String) throws -> RequestRecord {
        guard let record = try database.pool.read({ db in try RequestRecord.load(id: id, db: db) }) else {
            throw DisclosureError("unknown request id '\(id)' (see custody request list)")
        }
        return record
    }

    public func list(status: RequestStatus? = nil, authority: String? = nil, overdueAsOf: CivilDay? = nil) throws -> [RequestRecord] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM requests ORDER BY received_at, id").map { try RequestRecord.load(row: $0, db: db) }
        }.filter { record in
            (status == nil || record.status == status)
                && (authority == nil || record.request.authority.localizedCaseInsensitiveContains(authority!))
                && (overdueAsOf == nil || record.isOverdue(asOf: overdueAsOf!))
        }
    }

    // MARK: decisions

    /// Records a produce / do-not-produce decision for some (or all) of the users in scope.
    /// Once every user has one, the request is decided and its outcome follows.
    @discardableResult
    public func decide(_ id: String, users: [String]?, produce: Bool, reason: String, at: Date = Date()) throws -> RequestRecord {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw DisclosureError("a decision needs a reason (--reason)") }
        let record = try database.pool.write { db -> RequestRecord in
            guard let current = try RequestRecord.load(id: id, db: db) else { throw DisclosureError("unknown request id '\(id)'") }
            if current.request.processType == .preservation {
                throw DisclosureError("request \(id) is a preservation request: it holds records and produces none; close it when the preservation ends")
            }
            guard [.received, .underReview].contains(current.status) else {
                throw DisclosureError("request \(id) is \(current.status.rawValue): decisions are recorded while it is received or under review")
            }
            let targets = users ?? current.request.users
            guard !targets.isEmpty else { throw DisclosureError("name the users decided (--user) or --all") }
            for user in targets where !current.request.users.contains(user) {
                throw DisclosureError("user '\(user)' is not in the scope of request \(id) (scope: \(current.request.users.joined(separator: ", ")))")
            }
            let now = StateDatabase.timestamp(at)
            for user in targets {
                try db.execute(sql: """
                    INSERT INTO request_decisions (request_id, user, produce, reason, decided_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(request_id, user) DO UPDATE SET produce = excluded.produce, reason = excluded.reason, decided_at = excluded.decided_at
                    """, arguments: [id, user, produce, reason, now])
                try ledger.append("decision.recorded", .object([("request", .string(id)), ("user", .string(user)),
                                                                ("produce", .bool(produce)), ("reason", .string(reason))]), db: db)
            }
            let decisions = try Row.fetchAll(db, sql: "SELECT produce FROM request_decisions WHERE request_id = ?", arguments: [id]).map { $0[0] as Bool }
            if decisions.count == current.request.users.count {
                let produced = decisions.filter { $0 }.count
                let outcome: RequestOutcome = produced == decisions.count ? .fullyComplied : produced == 0 ? .rejected : .partiallyComplied
                try db.execute(sql: "UPDATE requests SET status = 'decided', outcome = ?, decided_at = ? WHERE id = ?",
                               arguments: [outcome.rawValue, now, id])
                try ledger.append("request.decided", .object([("request", .string(id)), ("outcome", .string(outcome.rawValue))]), db: db)
            } else {
                try db.execute(sql: "UPDATE requests SET status = 'under_review' WHERE id = ?", arguments: [id])
            }
            try recordState(id, db: db)
            return try RequestRecord.load(id: id, db: db)!
        }
        try ledger.checkpoint(database: database)
        return record
    }

    // MARK: closing

    /// Closes (or withdraws) a request and releases its legal holds.
    @discardableResult
    public func close(_ id: String, withdrawn: Bool, at: Date = Date()) throws -> RequestRecord {
        let record = try database.pool.write { db -> RequestRecord in
            guard let current = try RequestRecord.load(id: id, db: db) else { throw DisclosureError("unknown request id '\(id)'") }
            let next: RequestStatus = withdrawn ? .withdrawn : .closed
            guard current.status.canMove(to: next) else {
                throw DisclosureError("request \(id) is \(current.status.rawValue): it cannot be \(withdrawn ? "withdrawn" : "closed")")
            }
            var outcome = current.outcome
            if withdrawn {
                outcome = .withdrawn
            } else if current.request.processType == .preservation {
                outcome = .preserved
            } else if outcome == nil {
                throw DisclosureError("request \(id) has no decision yet: decide it first, or close it with --withdrawn")
            }
            let now = StateDatabase.timestamp(at)
            try db.execute(sql: "UPDATE requests SET status = ?, outcome = ?, closed_at = ? WHERE id = ?",
                           arguments: [next.rawValue, outcome?.rawValue, now, id])
            try ledger.append(withdrawn ? "request.withdrawn" : "request.closed",
                              .object([("request", .string(id)), ("outcome", outcome.map { .string($0.rawValue) } ?? .null)]), db: db)
            let released = try String.fetchAll(db, sql: "SELECT DISTINCT vault_object FROM legal_holds WHERE request_id = ? AND released_at IS NULL ORDER BY vault_object", arguments: [id])
            try db.execute(sql: "UPDATE legal_holds SET released_at = ? WHERE request_id = ? AND released_at IS NULL", arguments: [now, id])
            try ledger.append("hold.released", .object([("request", .string(id)), ("vault_objects", .array(released.map { .string($0) }))]), db: db)
            try recordState(id, db: db)
            return try RequestRecord.load(id: id, db: db)!
        }
        try ledger.checkpoint(database: database)
        return record
    }

    /// Active legal holds: request, vault object, when placed.
    public func holds() throws -> [(request: String, object: String, placedAt: String, lastDay: String?)] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT legal_holds.request_id, legal_holds.vault_object, legal_holds.placed_at, vault_objects.last_day
                FROM legal_holds LEFT JOIN vault_objects ON vault_objects.sha256 = legal_holds.vault_object
                WHERE legal_holds.released_at IS NULL ORDER BY legal_holds.request_id, legal_holds.vault_object
                """).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }
}
