import CustodyCore
import CustodyStore
import Foundation
import GRDB

/// Compares the tables that cache disclosure facts (`requests`, `request_decisions`,
/// `productions`, `legal_holds`, `purges`, `vault_objects.purged_at`) with what the ledger
/// recorded. Any difference means a table was edited behind the ledger's back (or a change was
/// made without its ledger entry): the ledger is the record, the table is not believed.
public enum LedgerConsistency {
    /// One line per disagreement, naming the table, the row and the field.
    public static func disagreements(book: RequestBook, facts: LedgerFacts) throws -> [String] {
        try book.database.pool.read { db in
            var out: [String] = []
            // Requests: the row as received, and the record as it last stood.
            let ids = try String.fetchAll(db, sql: "SELECT id FROM requests ORDER BY id")
            for id in ids {
                guard let received = facts.received[id] else {
                    out.append("requests: \(id) is in the table but the ledger never received it")
                    continue
                }
                guard let record = try RequestRecord.load(id: id, db: db) else { continue }
                // The last recorded state holds the whole record, request fields included (some
                // may change after intake); ledgers written before those entries have only the
                // request as received.
                if let state = facts.states[id] {
                    let changed = differingFields(record.ledgerSnapshot, state)
                    if !changed.isEmpty {
                        out.append("requests: \(id) differs from its last state in the ledger (\(changed.joined(separator: ", ")))")
                    }
                } else {
                    let fields = differingFields(record.request.json, received)
                    if !fields.isEmpty {
                        out.append("requests: \(id) differs from the request the ledger received (\(fields.joined(separator: ", ")))")
                    }
                }
            }
            for id in facts.received.keys.sorted() where !ids.contains(id) {
                out.append("requests: \(id) was received (ledger) but is missing from the table")
            }

            // Decisions.
            var tableDecisions: [String: [String: (Bool, String)]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT request_id, user, produce, reason FROM request_decisions") {
                tableDecisions[row[0], default: [:]][row[1]] = (row[2], row[3])
            }
            for request in Set(tableDecisions.keys).union(facts.decisions.keys).sorted() {
                let table = tableDecisions[request] ?? [:]
                let ledger = facts.decisions[request] ?? [:]
                for user in Set(table.keys).union(ledger.keys).sorted() {
                    let t = table[user]
                    let l = ledger[user]
                    if t?.0 != l?.produce || t?.1 != l?.reason {
                        out.append("request_decisions: \(request) / \(user) differs from the ledger's decision")
                    }
                }
            }

            // Productions.
            let tableProductions = try Row.fetchAll(db, sql: "SELECT request_id, directory, manifest_sha256 FROM productions")
                .map { "\($0[0] as String)|\($0[1] as String)|\($0[2] as String)" }.sorted()
            let ledgerProductions = facts.productions.map { "\($0.request)|\($0.directory)|\($0.manifestSHA256)" }.sorted()
            if tableProductions != ledgerProductions {
                let extra = Set(tableProductions).subtracting(ledgerProductions).sorted()
                let missing = Set(ledgerProductions).subtracting(tableProductions).sorted()
                out.append(
                    "productions: the table differs from the ledger (\(extra.count) not in the ledger, \(missing.count) missing from the table)"
                )
            }

            // Legal holds.
            var tableHolds = Set<String>()
            for row in try Row.fetchAll(db, sql: "SELECT vault_object, request_id FROM legal_holds WHERE released_at IS NULL") {
                tableHolds.insert("\(row[1] as String) holds \(row[0] as String)")
            }
            var ledgerHolds = Set<String>()
            for (object, requests) in facts.holds { for request in requests { ledgerHolds.insert("\(request) holds \(object)") } }
            for hold in ledgerHolds.subtracting(tableHolds).sorted() {
                out.append("legal_holds: \(hold) in the ledger, but the table shows it released or absent")
            }
            for hold in tableHolds.subtracting(ledgerHolds).sorted() {
                out.append("legal_holds: \(hold) in the table, but the ledger has no such active hold")
            }

            // Purges.
            let purgedObjects = Set(try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects WHERE purged_at IS NOT NULL"))
            let purgeRows = Set(try String.fetchAll(db, sql: "SELECT vault_object FROM purges"))
            let ledgerPurges = Set(facts.purged.keys)
            for object in purgedObjects.union(purgeRows).subtracting(ledgerPurges).sorted() {
                out.append("purges: \(object) is marked purged in the state, but the ledger records no purge of it")
            }
            for object in ledgerPurges.subtracting(purgedObjects).sorted() {
                out.append("vault_objects: \(object) was purged (ledger entry \(facts.purged[object]!.seq)) but the table does not say so")
            }
            return out
        }
    }

    /// Refuses (an `IntegrityError` naming the first problem) when the ledger fails
    /// verification, holds entries no checkpoint signs that this process did not record, or the
    /// tables disagree with it: what is published or produced must follow from a ledger Custody
    /// signed. (An entry chained onto the head needs no key; published and produced from, it
    /// then passed every check that trusts the ledger.)
    public static func requireAgreement(book: RequestBook) throws {
        let ledger = try book.ledger.verify(database: book.database)
        if let failure = ledger.firstFailure {
            throw IntegrityError("ledger entry \(failure.seq) fails verification (\(failure.reason)); run custody verify")
        }
        if let named = LedgerVerification.naming(ledger.unsignedNotRecordedHere) {
            throw IntegrityError("ledger \(named) signed by no checkpoint and not recorded by this command; run custody verify")
        }
        let facts = try LedgerFacts.load(ledger: book.ledger, database: book.database)
        let found = try disagreements(book: book, facts: facts)
        if let first = found.first {
            throw IntegrityError(
                "the state's tables disagree with the ledger (\(found.count) difference\(found.count == 1 ? "" : "s"); first: \(first)); run custody verify"
            )
        }
    }

    /// Top-level keys whose values differ between two JSON objects (compared canonically).
    static func differingFields(_ a: JSONValue, _ b: JSONValue) -> [String] {
        guard case .object(let x) = a, case .object(let y) = b else { return a.canonicalText == b.canonicalText ? [] : ["(value)"] }
        var keys = x.map(\.0)
        for (key, _) in y where !keys.contains(key) { keys.append(key) }
        // A field one side lacks counts as null: a field added to requests later is null in
        // entries written before it existed.
        return keys.filter { key in (a[key] ?? .null).canonicalText != (b[key] ?? .null).canonicalText }.sorted()
    }
}
