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
    /// The format each vault object is re-read with (see `VaultFormats`).
    public let formats: VaultFormats
    public let ledger: Ledger

    /// Opens the state; without `create` (`custody verify`), a missing state is an error.
    public init(configuration: CustodyConfiguration, create: Bool = true) throws {
        database = try StateDatabase(directory: configuration.stateDirectory, create: create)
        vault = try Vault(directory: configuration.vaultDirectory, create: create)
        ledger = Ledger(configuration: configuration)
        formats = try VaultFormats(database: database, configuration: configuration)
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
    /// nothing is imported. Returns the ids imported, in file order.
    public func importLines(_ text: String, source: String, timeZone: TimeZone, declaredProcessTypes: [ProcessType] = []) throws -> [String]
    {
        var requests: [DisclosureRequest] = []
        var seen = Set<String>()
        try Self.forEachJSONLine(text, source: source, nothing: "nothing imported") { json, _ in
            let request = try DisclosureRequest(json: json, timeZone: timeZone, declaredProcessTypes: declaredProcessTypes)
            guard seen.insert(request.id).inserted else { throw DisclosureError("request id '\(request.id)' appears twice") }
            requests.append(request)
        }
        guard !requests.isEmpty else { throw DisclosureError("\(source): no requests to import") }
        try database.pool.write { db in
            for (index, request) in requests.enumerated() {
                do { try insert(request, db: db) } catch let error as DisclosureError {
                    throw DisclosureError("\(source): request \(index + 1) (\(request.id)): \(error.message); nothing imported")
                }
            }
        }
        try ledger.checkpoint(database: database)
        return requests.map(\.id)
    }

    /// Calls `body` with each non-empty line's JSON; a line that is not JSON, or that `body`
    /// refuses, fails the whole file naming its line number (`file:12: …; nothing imported`).
    static func forEachJSONLine(_ text: String, source: String, nothing: String, _ body: (JSONValue, Int) throws -> Void) throws {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let json = JSONValue.parse(trimmed) else { throw DisclosureError("\(source):\(index + 1): not valid JSON; \(nothing)") }
            do {
                try body(json, index + 1)
            } catch let error as DisclosureError {
                throw DisclosureError("\(source):\(index + 1): \(error.message); \(nothing)")
            }
        }
    }

    private func insert(_ r: DisclosureRequest, db: Database) throws {
        // Cached statements: bulk intake runs these once per request.
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM requests WHERE id = ?"), arguments: [r.id]) == true {
            throw DisclosureError("request \(r.id) already exists")
        }
        func jsonArray(_ items: [String]) -> String { JSONValue.array(items.map { .string($0) }).rendered(pretty: false) }
        try db.cachedStatement(
            sql: """
                INSERT INTO requests (id, received_at, authority, jurisdiction, legal_basis, process_type, scope_users,
                                      scope_start_ms, scope_end_ms, data_categories, due_date, nondisclosure_until,
                                      foreign_requester, status, acknowledged_at, member_state, illegal_content_category)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?)
                """
        ).execute(arguments: [
            r.id, r.receivedAt, r.authority, r.jurisdiction, r.legalBasis, r.processType.rawValue,
            jsonArray(r.users), r.scopeStart, r.scopeEnd, jsonArray(r.dataCategories.map(\.rawValue)),
            r.dueDate?.description, r.nondisclosureUntil?.description, r.foreign,
            r.acknowledgedAt, r.memberState, r.illegalContentCategory?.rawValue,
        ])
        try ledger.append("request.received", r.json, db: db)
        let objects = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT sha256 FROM vault_objects
                    WHERE purged_at IS NULL AND first_record_at_ms <= ? AND last_record_at_ms >= ?
                    ORDER BY sha256
                    """), arguments: [r.scopeEnd, r.scopeStart])
        let now = StateDatabase.timestamp()
        for object in objects {
            try db.cachedStatement(sql: "INSERT INTO legal_holds (request_id, vault_object, placed_at) VALUES (?, ?, ?)")
                .execute(arguments: [r.id, object, now])
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
            try RequestRecord.loadAll(db: db)
        }.filter { record in
            (status == nil || record.status == status)
                && (authority == nil || record.request.authority.localizedCaseInsensitiveContains(authority!))
                && (overdueAsOf == nil || record.isOverdue(asOf: overdueAsOf!))
        }
    }

    // MARK: decisions

    /// Records a produce / do-not-produce decision for some (or all) of the users in scope.
    /// Once every user has one, the request is decided and its outcome follows. A decision dated
    /// before the request was received is refused.
    @discardableResult
    public func decide(_ id: String, users: [String]?, produce: Bool, reason: String, at: Date = Date()) throws -> RequestRecord {
        let record = try database.pool.write { db -> RequestRecord in
            try decide(id, users: users, produce: produce, reason: reason, at: at, db: db)
            return try RequestRecord.load(id: id, db: db)!
        }
        try ledger.checkpoint(database: database)
        return record
    }

    /// Decisions from JSON lines, one decision a line, all or nothing (a bad line is named and
    /// nothing is recorded):
    /// `{"request": "R1", "users": ["u1"], "produce": true, "reason": "…", "at": "2026-11-24T10:00:00+08:00"}`;
    /// without `users` the decision covers every user in scope. Returns the requests decided.
    public func decideLines(_ text: String, source: String) throws -> Int {
        var steps: [(id: String, users: [String]?, produce: Bool, reason: String, at: Date, line: Int)] = []
        try Self.forEachJSONLine(text, source: source, nothing: "nothing decided") { json, line in
            try Self.requireKnown(json, ["request", "users", "produce", "reason", "at"])
            guard let id = json["request"]?.stringValue else { throw DisclosureError("missing field 'request'") }
            guard case .bool(let produce)? = json["produce"] else { throw DisclosureError("field 'produce' must be true or false") }
            guard let reason = json["reason"]?.stringValue else { throw DisclosureError("missing field 'reason'") }
            var users: [String]?
            if let list = json["users"], list != .null {
                guard let items = list.arrayValue?.compactMap(\.stringValue), items.count == list.arrayValue?.count else {
                    throw DisclosureError("field 'users' must list user ids")
                }
                users = items
            }
            steps.append((id, users, produce, reason, try Self.time(json["at"]), line))
        }
        guard !steps.isEmpty else { throw DisclosureError("\(source): no decisions") }
        let decided = try database.pool.write { db -> Int in
            var ids = Set<String>()
            for step in steps {
                do {
                    try decide(step.id, users: step.users, produce: step.produce, reason: step.reason, at: step.at, db: db)
                } catch let error as DisclosureError {
                    throw DisclosureError("\(source):\(step.line): \(error.message); nothing decided")
                }
                ids.insert(step.id)
            }
            return ids.count
        }
        try ledger.checkpoint(database: database)
        return decided
    }

    private func decide(_ id: String, users: [String]?, produce: Bool, reason: String, at: Date, db: Database) throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw DisclosureError("a decision needs a reason (--reason)") }
        guard let current = try RequestRecord.load(id: id, db: db) else { throw DisclosureError("unknown request id '\(id)'") }
        if current.request.processType == .preservation {
            throw DisclosureError(
                "request \(id) is a preservation request: it holds records and produces none; close it when the preservation ends")
        }
        guard [.received, .underReview].contains(current.status) else {
            throw DisclosureError(
                "request \(id) is \(current.status.rawValue): decisions are recorded while it is received or under review")
        }
        let now = StateDatabase.timestamp(at)
        try Self.requireNotBeforeReceipt(at, current.request, what: "the decision time \(now)")
        let targets = users ?? current.request.users
        guard !targets.isEmpty else { throw DisclosureError("name the users decided (--user) or --all") }
        let scope = Set(current.request.users)
        for user in targets where !scope.contains(user) {
            throw DisclosureError(
                "user '\(user)' is not in the scope of request \(id) (scope: \(current.request.users.joined(separator: ", ")))")
        }
        for user in targets {
            try db.cachedStatement(
                sql: """
                    INSERT INTO request_decisions (request_id, user, produce, reason, decided_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(request_id, user) DO UPDATE SET produce = excluded.produce, reason = excluded.reason, decided_at = excluded.decided_at
                    """
            ).execute(arguments: [id, user, produce, reason, now])
            try ledger.append(
                "decision.recorded",
                .object([
                    ("request", .string(id)), ("user", .string(user)),
                    ("produce", .bool(produce)), ("reason", .string(reason)),
                ]), db: db)
        }
        let decisions = try Bool.fetchAll(
            db.cachedStatement(sql: "SELECT produce FROM request_decisions WHERE request_id = ?"), arguments: [id])
        if decisions.count == current.request.users.count {
            let produced = decisions.filter { $0 }.count
            let outcome: RequestOutcome = produced == decisions.count ? .fullyComplied : produced == 0 ? .rejected : .partiallyComplied
            try db.cachedStatement(sql: "UPDATE requests SET status = 'decided', outcome = ?, decided_at = ? WHERE id = ?")
                .execute(arguments: [outcome.rawValue, now, id])
            try ledger.append("request.decided", .object([("request", .string(id)), ("outcome", .string(outcome.rawValue))]), db: db)
        } else {
            try db.cachedStatement(sql: "UPDATE requests SET status = 'under_review' WHERE id = ?").execute(arguments: [id])
        }
        try recordState(id, db: db)
    }

    // MARK: acknowledging

    /// Records when the authority was informed that the request was received (the DSA's
    /// "time to inform the authority of the receipt"). Refused before receipt, and once recorded.
    @discardableResult
    public func acknowledge(_ id: String, at: Date) throws -> RequestRecord {
        let record = try database.pool.write { db -> RequestRecord in
            guard let current = try RequestRecord.load(id: id, db: db) else { throw DisclosureError("unknown request id '\(id)'") }
            if let already = current.request.acknowledgedAt {
                throw DisclosureError("request \(id) was already acknowledged at \(already)")
            }
            let time = StateDatabase.timestamp(at)
            try Self.requireNotBeforeReceipt(at, current.request, what: "the acknowledgement time \(time)")
            try db.execute(sql: "UPDATE requests SET acknowledged_at = ? WHERE id = ?", arguments: [time, id])
            try ledger.append("request.acknowledged", .object([("request", .string(id)), ("acknowledged_at", .string(time))]), db: db)
            try recordState(id, db: db)
            return try RequestRecord.load(id: id, db: db)!
        }
        try ledger.checkpoint(database: database)
        return record
    }

    static func requireNotBeforeReceipt(_ date: Date, _ request: DisclosureRequest, what: String) throws {
        try DisclosureRequest.requireNotBeforeReceipt(
            Int64((date.timeIntervalSince1970 * 1000).rounded(.down)), receivedMillis: request.receivedMillis,
            what: what, receivedAt: request.receivedAt)
    }

    static func requireKnown(_ json: JSONValue, _ known: [String]) throws {
        guard case .object(let pairs) = json else { throw DisclosureError("each line must be a JSON object") }
        if let unknown = pairs.first(where: { !known.contains($0.0) }) {
            throw DisclosureError("unknown field '\(unknown.0)' (known: \(known.joined(separator: ", ")))")
        }
    }

    /// `at` of a bulk line: an RFC 3339 time (required: a bulk file records what happened when).
    static func time(_ value: JSONValue?) throws -> Date {
        guard let text = value?.stringValue else { throw DisclosureError("missing field 'at' (RFC 3339 time of the step)") }
        guard let millis = TimestampParser.parse(text) else { throw DisclosureError("'at' \(text) is not an RFC 3339 time with a zone") }
        return Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }

    // MARK: closing

    /// Closes (or withdraws) a request and releases its legal holds. A closing dated before the
    /// request was received is refused.
    @discardableResult
    public func close(_ id: String, withdrawn: Bool, at: Date = Date()) throws -> RequestRecord {
        let record = try database.pool.write { db -> RequestRecord in
            try close(id, withdrawn: withdrawn, at: at, db: db)
            return try RequestRecord.load(id: id, db: db)!
        }
        try ledger.checkpoint(database: database)
        return record
    }

    /// Closings from JSON lines, all or nothing (a bad line is named and nothing is closed):
    /// `{"request": "R1", "withdrawn": false, "at": "2026-11-26T10:00:00+08:00"}`. Returns the count.
    public func closeLines(_ text: String, source: String) throws -> Int {
        var steps: [(id: String, withdrawn: Bool, at: Date, line: Int)] = []
        var seen = Set<String>()
        try Self.forEachJSONLine(text, source: source, nothing: "nothing closed") { json, line in
            try Self.requireKnown(json, ["request", "withdrawn", "at"])
            guard let id = json["request"]?.stringValue else { throw DisclosureError("missing field 'request'") }
            var withdrawn = false
            switch json["withdrawn"] {
            case nil, .some(.null): break
            case .some(.bool(let b)): withdrawn = b
            default: throw DisclosureError("field 'withdrawn' must be true or false")
            }
            guard seen.insert(id).inserted else { throw DisclosureError("request \(id) appears twice") }
            steps.append((id, withdrawn, try Self.time(json["at"]), line))
        }
        guard !steps.isEmpty else { throw DisclosureError("\(source): no closings") }
        try database.pool.write { db in
            for step in steps {
                do {
                    try close(step.id, withdrawn: step.withdrawn, at: step.at, db: db)
                } catch let error as DisclosureError {
                    throw DisclosureError("\(source):\(step.line): \(error.message); nothing closed")
                }
            }
        }
        try ledger.checkpoint(database: database)
        return steps.count
    }

    private func close(_ id: String, withdrawn: Bool, at: Date, db: Database) throws {
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
        try Self.requireNotBeforeReceipt(at, current.request, what: "the closing time \(now)")
        try db.cachedStatement(sql: "UPDATE requests SET status = ?, outcome = ?, closed_at = ? WHERE id = ?")
            .execute(arguments: [next.rawValue, outcome?.rawValue, now, id])
        try ledger.append(
            withdrawn ? "request.withdrawn" : "request.closed",
            .object([("request", .string(id)), ("outcome", outcome.map { .string($0.rawValue) } ?? .null)]), db: db)
        // The release names its objects: purge decides holds from these ledger entries.
        let released = try String.fetchAll(
            db.cachedStatement(
                sql: "SELECT DISTINCT vault_object FROM legal_holds WHERE request_id = ? AND released_at IS NULL ORDER BY vault_object"),
            arguments: [id])
        try db.cachedStatement(sql: "UPDATE legal_holds SET released_at = ? WHERE request_id = ? AND released_at IS NULL").execute(
            arguments: [now, id])
        try ledger.append(
            "hold.released", .object([("request", .string(id)), ("vault_objects", .array(released.map { .string($0) }))]), db: db)
        try recordState(id, db: db)
    }

    /// Active legal holds: request, vault object, when placed.
    public func holds() throws -> [(request: String, object: String, placedAt: String, lastDay: String?)] {
        try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT legal_holds.request_id, legal_holds.vault_object, legal_holds.placed_at, vault_objects.last_day
                    FROM legal_holds LEFT JOIN vault_objects ON vault_objects.sha256 = legal_holds.vault_object
                    WHERE legal_holds.released_at IS NULL ORDER BY legal_holds.request_id, legal_holds.vault_object
                    """
            ).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }
}
