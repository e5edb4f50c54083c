import CustodyCore
import GRDB
import GRDBSQLite

/// Reads the `users` table in key order: each user's key, name, earliest verification and
/// earliest uncovered publish (whose `file` is the segment id).
enum UserRegistryRows {
    /// Every row, or those whose keys are in `keys`.
    static func forEach(
        _ db: Database, keys: ClosedRange<Int64>? = nil, _ body: (Int64, String, Int64?, EventLocation?) throws -> Void
    ) throws {
        try forEachRaw(db, keys: keys) { key, name, verifiedAt, first in
            try body(key, String(decoding: name, as: UTF8.self), verifiedAt, first)
        }
    }

    /// Every row (or those whose keys are in `keys`) with its name's bytes as stored, valid only
    /// during the call.
    static func forEachRaw(
        _ db: Database, keys: ClosedRange<Int64>? = nil,
        _ body: (Int64, UnsafeBufferPointer<UInt8>, Int64?, EventLocation?) throws -> Void
    ) throws {
        // Stepped and read through SQLite's C API: a GRDB row per user, its columns converted
        // through `DatabaseValue`, was a fifth of the closing audit with 500,000 users.
        let statement = try db.makeStatement(
            sql: """
                SELECT id, user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                       first_unverified_publish_line FROM users \(keys == nil ? "" : "WHERE id BETWEEN ? AND ?") ORDER BY id
                """)
        // Kept alive to the end: the statement is finalized when it goes.
        try withExtendedLifetime(statement) { try forEachRaw(statement, keys: keys, body) }
    }

    private static func forEachRaw(
        _ statement: Statement, keys: ClosedRange<Int64>?,
        _ body: (Int64, UnsafeBufferPointer<UInt8>, Int64?, EventLocation?) throws -> Void
    ) throws {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        if let keys {
            sqlite3_bind_int64(handle, 1, keys.lowerBound)
            sqlite3_bind_int64(handle, 2, keys.upperBound)
        }
        func integer(_ column: Int32) -> Int64? {
            sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
        }
        while try statement.stepRow() {
            // The name as stored (NOT NULL); its bytes are valid until the next step.
            let bytes = sqlite3_column_text(handle, 1)
            let count = Int(sqlite3_column_bytes(handle, 1))
            let name = bytes.map { UnsafeBufferPointer(start: $0, count: count) } ?? UnsafeBufferPointer(start: nil, count: 0)
            var first: EventLocation?
            if let ms = integer(3), let segment = integer(4), let line = integer(5) {
                first = EventLocation(millis: ms, file: Int32(truncatingIfNeeded: segment), line: Int(line))
            }
            try body(sqlite3_column_int64(handle, 0), name, integer(2), first)
        }
    }
}

/// Rows of the `users` table read on another connection, kept compact until the closing audit
/// merges them (a name's bytes, its verification and, rarely, its first uncovered publish):
/// ~20 bytes a user, not an activity's ~100.
struct UserRowColumns: Sendable {
    private var nameBytes: [UInt8] = []
    /// Where each row's name ends in `nameBytes`.
    private var nameEnds: [Int] = []
    private var verifiedAt: [Int64?] = []
    /// The few rows that have one, in row order.
    private var firstPending: [(row: Int, location: EventLocation)] = []

    var count: Int { nameEnds.count }

    /// The rows whose keys are in `keys`, in key order.
    init(_ db: Database, keys: ClosedRange<Int64>) throws {
        // Sized for the keys in range up to the highest (dense unless the state was edited by
        // hand; at most a million rows ahead): grown by doubling instead, each array was copied
        // into fresh pages again and again.
        if let high = try Int64.fetchOne(db, sql: "SELECT max(id) FROM users"), high >= keys.lowerBound {
            let (span, overflow) = min(high, keys.upperBound).subtractingReportingOverflow(keys.lowerBound)
            let rows = overflow ? 0 : Int(min(span, 1 << 20)) + 1
            nameEnds.reserveCapacity(rows)
            verifiedAt.reserveCapacity(rows)
            nameBytes.reserveCapacity(rows * 8)
        }
        try UserRegistryRows.forEachRaw(db, keys: keys) { _, name, verified, first in
            if let first { firstPending.append((nameEnds.count, first)) }
            nameBytes.append(contentsOf: name)
            nameEnds.append(nameBytes.count)
            verifiedAt.append(verified)
        }
    }

    /// Each row, in order, as the registry merges it.
    func forEach(_ body: (UserFileActivity) throws -> Void) rethrows {
        try forEachRaw { name, verifiedAt, first in
            try body(
                UserFileActivity(
                    user: String(decoding: name, as: UTF8.self), verifiedAt: verifiedAt, pending: PendingPublishes(),
                    firstPending: first))
        }
    }

    /// Each row, in order, with its name's bytes as read (valid only during the call).
    func forEachRaw(_ body: (UnsafeBufferPointer<UInt8>, Int64?, EventLocation?) throws -> Void) rethrows {
        var nextFirst = 0
        try nameBytes.withUnsafeBufferPointer { bytes in
            var start = 0
            for (i, end) in nameEnds.enumerated() {
                var first: EventLocation?
                if nextFirst < firstPending.count && firstPending[nextFirst].row == i {
                    first = firstPending[nextFirst].location
                    nextFirst += 1
                }
                try body(UnsafeBufferPointer(rebasing: bytes[start..<end]), verifiedAt[i], first)
                start = end
            }
        }
    }
}
