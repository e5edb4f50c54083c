import CustodyCore
import Foundation

/// What the ledger says happened, replayed from its entries: the facts that holds, purges,
/// requests and productions are judged by. The state's tables (`legal_holds`, `purges`,
/// `requests`, …) are caches of these; `custody verify` compares them, and `purge` decides
/// from the ledger's holds, so editing a table neither deletes held evidence nor goes unseen.
public struct LedgerFacts: Sendable {
    /// A purge the ledger recorded.
    public struct PurgeRecord: Sendable {
        public var seq: Int64
        public var recordedAt: String
        public var lastDay: String?
    }

    /// A production the ledger recorded.
    public struct ProductionRecord: Sendable, Equatable {
        public var seq: Int64
        public var request: String
        public var directory: String
        public var manifestSHA256: String
        public var records: Int
        /// Paths (relative to the package) and SHA-256 of the records files.
        public var files: [String: String]
    }

    /// Held vault objects: object → requests holding it.
    public var holds: [String: Set<String>] = [:]
    /// Holds that lapse (US preservation, 18 U.S.C. § 2703(f)): request → when, and how often
    /// the hold was extended.
    public var holdExpiry: [String: (expiresAt: String, extensions: Int)] = [:]
    /// Purged vault objects and the entry that recorded each purge.
    public var purged: [String: PurgeRecord] = [:]
    /// The request as received (its full encoded form), by id.
    public var received: [String: JSONValue] = [:]
    /// The request's latest recorded state (`request.state` entries), by id.
    public var states: [String: JSONValue] = [:]
    /// (request, user) → produce?, reason.
    public var decisions: [String: [String: (produce: Bool, reason: String)]] = [:]
    public var productions: [ProductionRecord] = []
    public var entries = 0

    public init(entries: [LedgerEntry]) {
        for entry in entries {
            self.entries += 1
            guard let body = entry.body else { continue }
            let request = body["request"]?.stringValue
            switch entry.kind {
            case "request.received":
                if let id = body["id"]?.stringValue { received[id] = body }
            case "request.state":
                if let request, let record = body["record"] { states[request] = record }
            case "hold.placed":
                guard let request else { continue }
                if let expiry = body["expires_at"]?.stringValue, holdExpiry[request] == nil { holdExpiry[request] = (expiry, 0) }
                for object in body["vault_objects"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    holds[object, default: []].insert(request)
                }
            case "hold.released":
                guard let request else { continue }
                // A release names its objects, or (older entries) releases all of the request's holds.
                let named = body["vault_objects"]?.arrayValue?.compactMap(\.stringValue)
                for object in named ?? Array(holds.keys) {
                    holds[object]?.remove(request)
                    if holds[object]?.isEmpty == true { holds[object] = nil }
                }
            case "hold.extended":
                if let request, let expiry = body["expires_at"]?.stringValue {
                    holdExpiry[request] = (expiry, (holdExpiry[request]?.extensions ?? 0) + 1)
                }
            case "purge.deleted":
                if let object = body["vault_object"]?.stringValue {
                    purged[object] = PurgeRecord(seq: entry.seq, recordedAt: entry.recordedAt, lastDay: body["last_day"]?.stringValue)
                }
            case "decision.recorded":
                if let request, let user = body["user"]?.stringValue, let produce = body["produce"]?.boolValue {
                    decisions[request, default: [:]][user] = (produce, body["reason"]?.stringValue ?? "")
                }
            case "request.produced":
                if let request, let directory = body["directory"]?.stringValue, let manifest = body["manifest_sha256"]?.stringValue {
                    var files: [String: String] = [:]
                    for file in body["files"]?.arrayValue ?? [] {
                        if let path = file["path"]?.stringValue, let sha = file["sha256"]?.stringValue { files[path] = sha }
                    }
                    productions.append(
                        ProductionRecord(
                            seq: entry.seq, request: request, directory: directory, manifestSHA256: manifest,
                            records: body["records"]?.intValue ?? 0, files: files))
                }
            default:
                break
            }
        }
    }

    /// Requests whose holds have lapsed before `day` (YYYY-MM-DD).
    public func lapsedRequests(before day: String) -> Set<String> {
        Set(holdExpiry.filter { $0.value.expiresAt < day }.keys)
    }

    public static func load(ledger: Ledger, database: StateDatabase) throws -> LedgerFacts {
        LedgerFacts(entries: try ledger.entries(database: database))
    }
}
