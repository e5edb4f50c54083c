import GRDB
import GRDBSQLite

/// Inserts new rows of the `users` table many to a statement: `INSERT … VALUES (…), (…), …`.
/// One row per statement paid a statement's start, end and reset for every user, and its rowid
/// check descended the table's B-tree from the root each time; within one statement the table's
/// cursor stays at the end, where each new (higher) key goes (a fresh run with 500,000 users
/// inserts them all in its commits; Benchmarks/RESULTS.md).
///
/// Rows are added in key order and written `batchRows` at a time, the rest by `flush()` in
/// power-of-two statements (so that at most a few statement shapes are ever cached). Only
/// inside the caller's `pool.write` transaction, like `BoundStatement`.
///
/// With `updating`, the rows are known users' (`INSERT OR REPLACE`): each is written whole, its
/// name as given (the caller gives the stored one). One `UPDATE` per row cost the same
/// per-statement price (a fresh run with 500,000 users rewrites ~290,000 rows).
///
/// With `appending`, the rows are new users' whose keys follow the table's highest, one after
/// another: inserted without their key, SQLite gives each the next (`OP_NewRowid`, at the end of
/// the table) instead of looking each key up from the root first (the key checks were a fifth of
/// a fresh run's commit instructions with 500,000 users). The keys SQLite gave are checked against
/// the given ones after each statement; any difference throws (the caller's transaction rolls
/// back).
struct UserRowInserter {
    /// Rows a full statement inserts (6 parameters each, far below SQLite's limit of 32,766).
    static let batchRows = 64
    private static let columns = 6

    private struct Row {
        var key: Int64
        var verifiedAt: Int64?
        var firstMillis: Int64?
        var firstSegment: Int64?
        var firstLine: Int64?
        /// The name's bytes in `names`.
        var nameStart: Int
        var nameCount: Int
    }

    private let db: Database
    private let statements: [String]
    private let appending: Bool
    private var rows: [Row] = []
    /// The pending rows' names, back to back: bound without copying, they stay put until the
    /// statement has run.
    private var names: [UInt8] = []

    init(_ db: Database, updating: Bool = false, appending: Bool = false) {
        self.db = db
        self.appending = appending && !updating
        statements = updating ? Self.upserts : self.appending ? Self.appends : Self.inserts
        rows.reserveCapacity(Self.batchRows)
        names.reserveCapacity(Self.batchRows * 16)
    }

    /// Adds a row; writes the pending rows once there are `batchRows` of them.
    mutating func add(
        key: Int64, name: String, verifiedAt: Int64?, firstMillis: Int64?, firstSegment: Int64?, firstLine: Int64?
    ) throws {
        // Appending, each row's key follows the one before (checked again against SQLite's).
        if appending, let previous = rows.last, key != previous.key + 1 {
            throw DatabaseError(
                resultCode: .SQLITE_CONSTRAINT, message: "new users' keys \(previous.key) and \(key) do not follow each other")
        }
        var name = name
        let start = names.count
        name.withUTF8 { names.append(contentsOf: $0) }
        rows.append(
            Row(
                key: key, verifiedAt: verifiedAt, firstMillis: firstMillis, firstSegment: firstSegment,
                firstLine: firstLine, nameStart: start, nameCount: names.count - start))
        if rows.count == Self.batchRows { try write(rows[...]) }
    }

    /// Writes the rows still pending.
    mutating func flush() throws {
        var rest = rows[...]
        var size = Self.batchRows / 2
        while !rest.isEmpty {
            while size > rest.count { size /= 2 }
            try write(rest.prefix(size))
            rest = rest.dropFirst(size)
        }
        rows.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true)
    }

    private mutating func write(_ chunk: ArraySlice<Row>) throws {
        let statement = try db.cachedStatement(sql: statements[chunk.count.trailingZeroBitCount])
        let handle = statement.sqliteStatement
        // Only the values present are bound: every parameter is NULL here (a statement is new,
        // or was cleared after its last run below; these statements are only run here). Most
        // rows' first uncovered publish is NULL, and a bind call each (with the connection's
        // mutex) was ~15 % of what SQLite took a row (500,000 rows, measured apart).
        func bind(_ value: Int64?, _ index: Int32) {
            if let value { sqlite3_bind_int64(handle, index, value) }
        }
        // Appending, the key is not bound: each row's parameters start one earlier.
        let columns = appending ? Self.columns - 1 : Self.columns
        let code = names.withUnsafeBufferPointer { names -> Int32 in
            let base = UnsafeRawPointer(names.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            for (i, row) in chunk.enumerated() {
                let first = Int32(i * columns) - (appending ? 1 : 0)
                if !appending { bind(row.key, first + 1) }
                // Not copied (a nil destructor is SQLITE_STATIC): `names` is not changed until
                // the statement has run and its parameters are cleared.
                sqlite3_bind_text(
                    handle, first + 2, (base + row.nameStart).assumingMemoryBound(to: CChar.self), Int32(row.nameCount), nil)
                bind(row.verifiedAt, first + 3)
                bind(row.firstMillis, first + 4)
                bind(row.firstSegment, first + 5)
                bind(row.firstLine, first + 6)
            }
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            // Every parameter NULL again for the next run (nothing here throws between the binds
            // and this), and no pointer into `names` left bound once they change.
            sqlite3_clear_bindings(handle)
            return code
        }
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                sql: statement.sql)
        }
        if appending, let first = chunk.first, let last = chunk.last {
            // SQLite gave the rows consecutive keys ending here: they must be the given ones.
            let given = sqlite3_last_insert_rowid(db.sqliteConnection)
            guard given == last.key && given - Int64(chunk.count - 1) == first.key else {
                throw DatabaseError(
                    resultCode: .SQLITE_CONSTRAINT,
                    message: "new users were given keys \(given - Int64(chunk.count - 1))...\(given), not \(first.key)...\(last.key)",
                    sql: statement.sql)
            }
        }
        if chunk.count == rows.count {
            rows.removeAll(keepingCapacity: true)
            names.removeAll(keepingCapacity: true)
        }
    }

    /// The statements' text by log2 of their rows (chunks are powers of two), built once.
    private static let inserts = (0...batchRows.trailingZeroBitCount).map { sql(rows: 1 << $0) }
    /// Known users' rows are replaced whole: with no index, trigger or foreign key on `users`,
    /// SQLite overwrites the row in place, where `ON CONFLICT(id) DO UPDATE` first read the old
    /// row's columns to build the new one (~10 % less per row, measured apart). Names are
    /// written as given: the writer's name of the key, the one stored.
    private static let upserts = (0...batchRows.trailingZeroBitCount).map { sql(rows: 1 << $0, replacing: true) }

    private static let appends = (0...batchRows.trailingZeroBitCount).map { sql(rows: 1 << $0, withKeys: false) }

    private static func sql(rows: Int, withKeys: Bool = true, replacing: Bool = false) -> String {
        let values = Array(repeating: withKeys ? "(?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
        return """
            INSERT \(replacing ? "OR REPLACE " : "")INTO users (\(withKeys ? "id, " : "")user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                               first_unverified_publish_line)
            VALUES \(values)
            """
    }
}
