import CustodyCore
import Foundation

/// A government request for user data, as recorded at intake.
public struct DisclosureRequest: Sendable, Equatable {
    public var id: String
    /// RFC 3339.
    public var receivedAt: String
    public var authority: String
    /// ISO 3166-1 alpha-2, upper case.
    public var jurisdiction: String
    public var legalBasis: String
    public var processType: ProcessType
    public var users: [String]
    /// The time range asked for, Unix milliseconds, inclusive.
    public var scopeStart: Int64
    public var scopeEnd: Int64
    public var dataCategories: [DataCategory]
    public var dueDate: CivilDay?
    /// Under a non-disclosure order until this day: left out of detailed reporting before it.
    public var nondisclosureUntil: CivilDay?
    /// The requester is foreign: producing is a cross-border transfer.
    public var foreign: Bool
    /// When the authority was informed that the request was received (RFC 3339); not before
    /// `receivedAt`.
    public var acknowledgedAt: String?
    /// The EU Member State whose authority issued the order (ISO 3166-1 alpha-2): the request is
    /// an order to provide information under art. 10 of the Digital Services Act.
    public var memberState: String?
    /// The DSA category of illegal content the order concerns.
    public var illegalContentCategory: IllegalContentCategory?

    public var receivedMillis: Int64 { TimestampParser.parse(receivedAt) ?? 0 }

    /// Validates and builds a request from its JSON form (the `--file` and `import` format):
    ///
    /// ```json
    /// {"id": "REQ-1", "received_at": "2026-11-20T09:00:00+08:00", "authority": "…", "jurisdiction": "CN",
    ///  "legal_basis": "…", "process_type": "criminal_evidence",
    ///  "scope": {"users": ["u1"], "start": "2026-10-01T00:00:00+08:00", "end": "2026-11-18T23:59:59+08:00",
    ///            "data": ["content", "non_content"]},
    ///  "due": "2026-12-05", "nondisclosure_until": "2027-06-01", "foreign": false,
    ///  "acknowledged_at": "2026-11-20T12:00:00+08:00", "member_state": "DE", "illegal_content_category": "scams_and_fraud"}
    /// ```
    /// Days given without a time (`"start": "2026-10-01"`) are days in `timeZone` (the policy's).
    /// `declaredProcessTypes` are the provider's own process types (report configuration),
    /// accepted beside the built-in ones.
    public init(json: JSONValue, timeZone: TimeZone, declaredProcessTypes: [ProcessType] = []) throws {
        guard case .object(let pairs) = json else { throw DisclosureError("a request must be a JSON object") }
        let known = [
            "id", "received_at", "authority", "jurisdiction", "legal_basis", "process_type", "scope", "due",
            "nondisclosure_until", "foreign", "acknowledged_at", "member_state", "illegal_content_category",
        ]
        if let unknown = pairs.first(where: { !known.contains($0.0) }) {
            throw DisclosureError("unknown field '\(unknown.0)' (known: \(known.joined(separator: ", ")))")
        }
        func string(_ key: String, in value: JSONValue = json, required: Bool = true) throws -> String? {
            guard let v = value[key], v != .null else {
                if required { throw DisclosureError("missing field '\(key)'") }
                return nil
            }
            guard let s = v.stringValue, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw DisclosureError("field '\(key)' must be a non-empty string")
            }
            return s
        }
        guard let scope = json["scope"], case .object = scope else {
            throw DisclosureError("missing field 'scope' (users, start, end, data)")
        }
        if case .object(let scopePairs) = scope,
            let unknown = scopePairs.first(where: { !["users", "start", "end", "data"].contains($0.0) })
        {
            throw DisclosureError("unknown field 'scope.\(unknown.0)' (known: users, start, end, data)")
        }
        let users = try (scope["users"]?.arrayValue ?? []).map { value -> String in
            if let s = value.stringValue, !s.isEmpty { return s }
            if let i = value.intValue { return String(i) }
            throw DisclosureError("scope.users must list user ids (strings or integers)")
        }
        let data = try (scope["data"]?.arrayValue ?? [.string("content"), .string("non_content")]).map { value -> DataCategory in
            guard let s = value.stringValue, let category = DataCategory(rawValue: s) else {
                throw DisclosureError("scope.data must list content and/or non_content")
            }
            return category
        }
        let process = try ProcessType.resolve(string("process_type")!, declared: declaredProcessTypes)
        let foreign: Bool
        switch json["foreign"] {
        case nil, .some(.null): foreign = false
        case .some(.bool(let b)): foreign = b
        default: throw DisclosureError("field 'foreign' must be true or false")
        }
        try self.init(
            id: string("id")!, receivedAt: string("received_at")!, authority: string("authority")!,
            jurisdiction: string("jurisdiction")!, legalBasis: string("legal_basis")!, processType: process,
            users: users, scopeStart: string("start", in: scope)!, scopeEnd: string("end", in: scope)!,
            dataCategories: data, due: string("due", required: false),
            nondisclosureUntil: string("nondisclosure_until", required: false), foreign: foreign,
            acknowledgedAt: string("acknowledged_at", required: false), memberState: string("member_state", required: false),
            illegalContentCategory: string("illegal_content_category", required: false), timeZone: timeZone)
    }

    /// Validates and builds a request from text fields (the `add` flags). Scope days without a
    /// time are days in `timeZone`.
    public init(
        id: String, receivedAt: String, authority: String, jurisdiction: String, legalBasis: String,
        processType: ProcessType, users: [String], scopeStart: String, scopeEnd: String,
        dataCategories: [DataCategory], due: String?, nondisclosureUntil: String?, foreign: Bool,
        acknowledgedAt: String? = nil, memberState: String? = nil, illegalContentCategory: String? = nil,
        timeZone: TimeZone
    ) throws {
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:/".contains($0) }) else {
            throw DisclosureError("request id '\(id)' must be letters, digits and - _ . : /")
        }
        guard let receivedMillis = TimestampParser.parse(receivedAt) else {
            throw DisclosureError("received_at '\(receivedAt)' is not an RFC 3339 time with a zone")
        }
        if let acknowledgedAt {
            guard let millis = TimestampParser.parse(acknowledgedAt) else {
                throw DisclosureError("acknowledged_at '\(acknowledgedAt)' is not an RFC 3339 time with a zone")
            }
            try Self.requireNotBeforeReceipt(
                millis, receivedMillis: receivedMillis, what: "acknowledged_at '\(acknowledgedAt)'", receivedAt: receivedAt)
        }
        var state: String?
        if let memberState {
            let code = memberState.uppercased() == "EL" ? "GR" : memberState.uppercased()
            guard MemberStates.codes.contains(code) else {
                throw DisclosureError(
                    "member_state '\(memberState)' is not an EU Member State code (one of \(MemberStates.codes.joined(separator: ", ")))")
            }
            state = code
        }
        var category: IllegalContentCategory?
        if let illegalContentCategory {
            guard let parsed = IllegalContentCategory(rawValue: illegalContentCategory) else {
                throw DisclosureError(
                    "unknown illegal_content_category '\(illegalContentCategory)' (one of \(IllegalContentCategory.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            category = parsed
        }
        let code = jurisdiction.uppercased()
        guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw DisclosureError("jurisdiction '\(jurisdiction)' must be an ISO 3166-1 alpha-2 code such as CN")
        }
        let uniqueUsers = Array(Set(users)).sorted()
        guard !uniqueUsers.isEmpty else {
            throw DisclosureError("the scope names no users: a request must specify the accounts it asks about")
        }
        guard let start = Self.instant(scopeStart, endOfDay: false, timeZone: timeZone) else {
            throw DisclosureError("scope start '\(scopeStart)' is not a day or an RFC 3339 time")
        }
        guard let end = Self.instant(scopeEnd, endOfDay: true, timeZone: timeZone) else {
            throw DisclosureError("scope end '\(scopeEnd)' is not a day or an RFC 3339 time")
        }
        guard start <= end else { throw DisclosureError("the scope's time range is reversed: \(scopeStart) is after \(scopeEnd)") }
        guard !dataCategories.isEmpty else { throw DisclosureError("the scope names no data categories (content, non_content)") }
        var dueDay: CivilDay?
        if let due {
            guard let day = CivilDay(iso: due) else { throw DisclosureError("due date '\(due)' is not YYYY-MM-DD") }
            dueDay = day
        }
        var gagDay: CivilDay?
        if let nondisclosureUntil {
            guard let day = CivilDay(iso: nondisclosureUntil) else {
                throw DisclosureError("nondisclosure_until '\(nondisclosureUntil)' is not YYYY-MM-DD")
            }
            gagDay = day
        }
        self.id = id
        self.receivedAt = receivedAt
        self.authority = authority
        self.jurisdiction = code
        self.legalBasis = legalBasis
        self.processType = processType
        self.users = uniqueUsers
        self.scopeStart = start
        self.scopeEnd = end
        self.dataCategories = DataCategory.allCases.filter { dataCategories.contains($0) }
        self.dueDate = dueDay
        self.nondisclosureUntil = gagDay
        self.foreign = foreign
        self.acknowledgedAt = acknowledgedAt
        self.memberState = state
        self.illegalContentCategory = category
    }

    /// Refuses a step dated before the request was received: such a time would publish a
    /// negative response time.
    public static func requireNotBeforeReceipt(_ millis: Int64, receivedMillis: Int64, what: String, receivedAt: String) throws {
        guard millis >= receivedMillis else {
            throw DisclosureError("\(what) is before the request was received (\(receivedAt))")
        }
    }

    /// An RFC 3339 time, or a day in `timeZone` (its first or last millisecond).
    static func instant(_ text: String, endOfDay: Bool, timeZone: TimeZone) -> Int64? {
        if let millis = TimestampParser.parse(text) { return millis }
        guard let day = CivilDay(iso: text) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let (y, m, d) = (endOfDay ? day.adding(days: 1) : day).components
        guard let midnight = calendar.date(from: DateComponents(year: y, month: m, day: d)) else { return nil }
        let millis = Int64((midnight.timeIntervalSince1970 * 1000).rounded())
        return endOfDay ? millis - 1 : millis
    }

    public var json: JSONValue {
        .object([
            ("id", .string(id)), ("received_at", .string(receivedAt)), ("authority", .string(authority)),
            ("jurisdiction", .string(jurisdiction)), ("legal_basis", .string(legalBasis)),
            ("process_type", .string(processType.rawValue)),
            (
                "scope",
                .object([
                    ("users", .array(users.map { .string($0) })),
                    ("start", .string(TimestampParser.formatUTC(scopeStart))),
                    ("end", .string(TimestampParser.formatUTC(scopeEnd))),
                    ("data", .array(dataCategories.map { .string($0.rawValue) })),
                ])
            ),
            ("due", dueDate.map { .string($0.description) } ?? .null),
            ("nondisclosure_until", nondisclosureUntil.map { .string($0.description) } ?? .null),
            ("foreign", .bool(foreign)),
            ("acknowledged_at", acknowledgedAt.map { .string($0) } ?? .null),
            ("member_state", memberState.map { .string($0) } ?? .null),
            ("illegal_content_category", illegalContentCategory.map { .string($0.rawValue) } ?? .null),
        ])
    }
}

extension ProcessType {
    /// A process type named at intake: a built-in one or one of `declared`; anything else is
    /// refused, naming the types that are known.
    public static func resolve(_ name: String, declared: [ProcessType]) throws -> ProcessType {
        if let builtIn = ProcessType(rawValue: name) { return builtIn }
        if let type = declared.first(where: { $0.rawValue == name }) { return type }
        let known = (allCases + declared).map(\.rawValue).joined(separator: ", ")
        throw DisclosureError(
            "unknown process_type '\(name)' (one of \(known); declare others under reporting.process_types in custody.yaml)")
    }
}
