import CustodyCore
import CustodyStore
import Foundation
import GRDB

/// US preservation requests (18 U.S.C. § 2703(f)(2)): records are preserved for 90 days,
/// extended once for another 90 upon a renewed request. The expiry is a fact of the ledger
/// (`hold.placed` carries `expires_at`, `hold.extended` the new one), like the hold itself;
/// after it the hold no longer protects objects from `purge` (they return to the normal
/// retention rule; nothing is deleted because a hold lapsed, only if past `maximum_days`).
/// Preservation holds of other jurisdictions do not lapse: they last until the request closes.
extension RequestBook {
    public static let preservationDays = 90
    public static let preservationLaw = "18 U.S.C. § 2703(f)"

    /// When a request's holds lapse, or nil when they last until it is closed.
    static func preservationExpiry(_ request: DisclosureRequest) -> String? {
        guard request.processType == .preservation, request.jurisdiction == "US" else { return nil }
        return Self.adding(days: preservationDays, to: request.receivedMillis)
    }

    static func adding(days: Int, to millis: Int64) -> String {
        StateDatabase.timestamp(Date(timeIntervalSince1970: TimeInterval(millis) / 1000 + TimeInterval(days * 86_400)))
    }

    /// Expiring holds by request: when they lapse and how often they were extended.
    public func holdExpiries() throws -> [String: (expiresAt: String, extensions: Int)] {
        try LedgerFacts.load(ledger: ledger, database: database).holdExpiry
    }

    /// `custody hold extend`: extends a US preservation hold once by 90 days, before it lapses.
    @discardableResult
    public func extendHold(_ id: String, at: Date = Date()) throws -> String {
        let current = try record(id)
        guard let expiry = try holdExpiries()[id] else {
            throw DisclosureError(
                "request \(id) holds no expiring preservation hold (only US preservation requests, \(Self.preservationLaw), expire)")
        }
        guard expiry.extensions == 0 else {
            throw DisclosureError(
                "the hold of \(id) was already extended to \(expiry.expiresAt): \(Self.preservationLaw) allows one 90-day extension; a longer hold needs new legal process"
            )
        }
        guard [.received, .underReview, .decided, .produced].contains(current.status) else {
            throw DisclosureError("request \(id) is \(current.status.rawValue): its hold was released")
        }
        let now = StateDatabase.timestamp(at)
        guard now <= expiry.expiresAt else {
            throw DisclosureError("the hold of \(id) lapsed on \(expiry.expiresAt): record a new preservation request")
        }
        guard let expiresMillis = TimestampParser.parse(expiry.expiresAt) else {
            throw DisclosureError("the ledger's expiry of \(id) ('\(expiry.expiresAt)') is not a time")
        }
        let extended = Self.adding(days: Self.preservationDays, to: expiresMillis)
        _ = try database.pool.write { db in
            try ledger.append(
                "hold.extended",
                .object([
                    ("request", .string(id)), ("expires_at", .string(extended)),
                    ("extended_at", .string(now)), ("law", .string(Self.preservationLaw)),
                ]), db: db)
        }
        try ledger.checkpoint(database: database)
        return extended
    }
}
