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

    private let db: Database
    private let statements: [String]
    private let appending: Bool
    /// The statements used so far, by log2 of their rows: looked up in the connection's cache
    /// once (each lookup hashed the whole text, ~3 KB for 64 rows: ~5 % of writing a row).
    private var prepared: [Statement?] = Array(repeating: nil, count: batchRows.trailingZeroBitCount + 1)
    /// Rows added and not written yet (fewer than `batchRows`).
    private var pending = UserRowBatch()

    init(_ db: Database, updating: Bool = false, appending: Bool = false) {
        self.db = db
        self.appending = appending && !updating
        statements = updating ? Self.upserts : self.appending ? Self.appends : Self.inserts
        pending.reserve(Self.batchRows)
    }

    /// Adds a row; writes the pending rows once there are `batchRows` of them.
    mutating func add(
        key: Int64, name: String, verifiedAt: Int64?, firstMillis: Int64?, firstSegment: Int64?, firstLine: Int64?
    ) throws {
        try checkFollows(pending.rows.last, key)
        pending.add(
            key: key, name: name, verifiedAt: verifiedAt, firstMillis: firstMillis, firstSegment: firstSegment,
            firstLine: firstLine)
        if pending.rows.count == Self.batchRows { try writePending() }
    }

    /// Adds rows built elsewhere (`GroupUserMerge`, on another thread), in order: full statements
    /// are written straight from the batch's rows, and only the rest is kept pending.
    mutating func add(_ batch: UserRowBatch) throws {
        guard let first = batch.rows.first else { return }
        try checkFollows(pending.rows.last, first.key)
        if appending, !batch.keysFollow {
            throw DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: "new users' keys do not follow each other")
        }
        var rest = batch.rows[...]
        if !pending.rows.isEmpty {
            let topUp = rest.prefix(Self.batchRows - pending.rows.count)
            pending.append(topUp, names: batch.names)
            rest = rest.dropFirst(topUp.count)
            guard pending.rows.count == Self.batchRows else { return }
            try writePending()
        }
        while rest.count >= Self.batchRows {
            try write(rest.prefix(Self.batchRows), names: batch.names)
            rest = rest.dropFirst(Self.batchRows)
        }
        pending.append(rest, names: batch.names)
    }

    /// Appending, each row's key follows the one before (checked again against SQLite's).
    private func checkFollows(_ previous: UserRowBatch.Row?, _ key: Int64) throws {
        if appending, let previous, key != previous.key + 1 {
            throw DatabaseError(
                resultCode: .SQLITE_CONSTRAINT, message: "new users' keys \(previous.key) and \(key) do not follow each other")
        }
    }

    /// Writes the rows still pending.
    mutating func flush() throws {
        var rest = pending.rows[...]
        var size = Self.batchRows / 2
        while !rest.isEmpty {
            while size > rest.count { size /= 2 }
            try write(rest.prefix(size), names: pending.names)
            rest = rest.dropFirst(size)
        }
        pending.removeAll()
    }

    private mutating func writePending() throws {
        try write(pending.rows[...], names: pending.names)
        pending.removeAll()
    }

    /// Runs one statement over `chunk` (a power of two of rows), whose names are in `names`.
    private mutating func write(_ chunk: ArraySlice<UserRowBatch.Row>, names: [UInt8]) throws {
        let size = chunk.count.trailingZeroBitCount
        let statement = try prepared[size] ?? db.cachedStatement(sql: statements[size])
        prepared[size] = statement
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

/// `users` rows ready to be bound: their values, and their names' bytes back to back (bound
/// without copying). Built by `UserRowInserter.add`, or apart (`GroupUserMerge`, on the thread
/// that merges the rows, while the committing thread writes the ones before).
struct UserRowBatch {
    struct Row {
        var key: Int64
        var verifiedAt: Int64?
        var firstMillis: Int64?
        var firstSegment: Int64?
        var firstLine: Int64?
        /// The name's bytes in `names`.
        var nameStart: Int
        var nameCount: Int
    }

    private(set) var rows: [Row] = []
    private(set) var names: [UInt8] = []
    /// Whether each row's key follows the one before (what appending needs).
    private(set) var keysFollow = true

    mutating func reserve(_ count: Int) {
        rows.reserveCapacity(count)
        names.reserveCapacity(count * 16)
    }

    mutating func add(
        key: Int64, name: String, verifiedAt: Int64?, firstMillis: Int64?, firstSegment: Int64?, firstLine: Int64?
    ) {
        if let last = rows.last, key != last.key + 1 { keysFollow = false }
        var name = name
        let start = names.count
        name.withUTF8 { names.append(contentsOf: $0) }
        rows.append(
            Row(
                key: key, verifiedAt: verifiedAt, firstMillis: firstMillis, firstSegment: firstSegment,
                firstLine: firstLine, nameStart: start, nameCount: names.count - start))
    }

    /// Appends `more`, whose names are in `moreNames`.
    mutating func append(_ more: ArraySlice<Row>, names moreNames: [UInt8]) {
        for var row in more {
            if let last = rows.last, row.key != last.key + 1 { keysFollow = false }
            let start = names.count
            names.append(contentsOf: moreNames[row.nameStart..<row.nameStart + row.nameCount])
            row.nameStart = start
            rows.append(row)
        }
    }

    mutating func removeAll() {
        rows.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true)
        keysFollow = true
    }
}
