import CustodyCore
import Foundation
import GRDB

/// A row of `log_files`: one log file, however it has been renamed or compressed.
struct LogFileRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "log_files"

    var id: Int64?
    var fingerprint: String
    var fingerprintLength: Int
    var firstPath: String
    var lastPath: String
    var compressed: Bool
    var bytesRead: Int
    var linesRead: Int
    var records: Int
    var rejectedLines: Int
    var firstRejectedLines: String
    var firstRejectionCause: String?
    var faultOffset: Int?
    var faultMessage: String?
    var readToEnd: Bool
    var lastInode: Int64?
    var lastSize: Int64?
    var lastMtimeNs: Int64?
    var firstSeenAt: String
    var lastReadAt: String
    var nonTextBytes: Int
    var anonymousPublishes: Int
    var firstAnonymousPublishLines: String
    /// CRC-32 of the decoded bytes `[0, bytesRead)`; nil for rows from before it was kept.
    var contentChecksum: Int64?

    // Column names spelled out: with GRDB's convertFromSnakeCase strategy, decoding the rows was
    // two thirds of a run with nothing new over 10,000 files (perf), the strategy converting
    // every column name of every row again.
    enum CodingKeys: String, CodingKey {
        case id, fingerprint
        case fingerprintLength = "fingerprint_length"
        case firstPath = "first_path"
        case lastPath = "last_path"
        case compressed
        case bytesRead = "bytes_read"
        case linesRead = "lines_read"
        case records
        case rejectedLines = "rejected_lines"
        case firstRejectedLines = "first_rejected_lines"
        case firstRejectionCause = "first_rejection_cause"
        case faultOffset = "fault_offset"
        case faultMessage = "fault_message"
        case readToEnd = "read_to_end"
        case lastInode = "last_inode"
        case lastSize = "last_size"
        case lastMtimeNs = "last_mtime_ns"
        case firstSeenAt = "first_seen_at"
        case lastReadAt = "last_read_at"
        case contentChecksum = "content_checksum"
        case nonTextBytes = "non_text_bytes"
        case anonymousPublishes = "anonymous_publishes"
        case firstAnonymousPublishLines = "first_anonymous_publish_lines"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The file's rejected lines and fault as a check report wants them.
    var issues: InputIssues {
        Self.issues(
            rejectedLines: rejectedLines, firstRejectedLines: firstRejectedLines, firstRejectionCause: firstRejectionCause,
            faultOffset: faultOffset, faultMessage: faultMessage, nonTextBytes: nonTextBytes,
            anonymousPublishes: anonymousPublishes, firstAnonymousPublishLines: firstAnonymousPublishLines)
    }

    /// The issues a row's columns describe (`firstRejectedLines` and `firstAnonymousPublishLines`
    /// are JSON arrays of line numbers).
    static func issues(
        rejectedLines: Int, firstRejectedLines: String, firstRejectionCause: String?, faultOffset: Int?, faultMessage: String?,
        nonTextBytes: Int, anonymousPublishes: Int, firstAnonymousPublishLines: String
    ) -> InputIssues {
        // Most rows have no listed lines: "[]" without a JSON decoder (one per row was a tenth
        // of the closing audit over 10,000 files).
        func lines(_ text: String) -> [Int] {
            text == "[]" ? [] : (try? JSONDecoder().decode([Int].self, from: Data(text.utf8))) ?? []
        }
        var issues = InputIssues()
        issues.rejectedLines = rejectedLines
        issues.firstRejectedLines = lines(firstRejectedLines)
        issues.firstRejectionCause = firstRejectionCause
        if let faultOffset, let faultMessage { issues.fault = ReadFault(offset: faultOffset, message: faultMessage) }
        issues.nonTextBytes = nonTextBytes
        issues.anonymousPublishes = anonymousPublishes
        issues.firstAnonymousPublishLines = lines(firstAnonymousPublishLines)
        return issues
    }

    /// Unchanged on disk since it was read to its end: nothing new to read.
    func isUnchanged(_ identity: FileIdentity) -> Bool {
        isUnchanged(FileIdentity.Status(inode: identity.inode, size: identity.size, modifiedNanoseconds: identity.modifiedNanoseconds))
    }

    func isUnchanged(_ status: FileIdentity.Status) -> Bool {
        readToEnd && lastInode == Int64(bitPattern: status.inode) && lastSize == status.size
            && lastMtimeNs == status.modifiedNanoseconds
    }
}

extension LogFileRecord {
    /// Read by name, without `Decodable` (an extension keeps the memberwise initialiser).
    init(row: Row) throws {
        id = row[CodingKeys.id.rawValue]
        fingerprint = row[CodingKeys.fingerprint.rawValue]
        fingerprintLength = row[CodingKeys.fingerprintLength.rawValue]
        firstPath = row[CodingKeys.firstPath.rawValue]
        lastPath = row[CodingKeys.lastPath.rawValue]
        compressed = row[CodingKeys.compressed.rawValue]
        bytesRead = row[CodingKeys.bytesRead.rawValue]
        linesRead = row[CodingKeys.linesRead.rawValue]
        records = row[CodingKeys.records.rawValue]
        rejectedLines = row[CodingKeys.rejectedLines.rawValue]
        firstRejectedLines = row[CodingKeys.firstRejectedLines.rawValue]
        firstRejectionCause = row[CodingKeys.firstRejectionCause.rawValue]
        faultOffset = row[CodingKeys.faultOffset.rawValue]
        faultMessage = row[CodingKeys.faultMessage.rawValue]
        readToEnd = row[CodingKeys.readToEnd.rawValue]
        lastInode = row[CodingKeys.lastInode.rawValue]
        lastSize = row[CodingKeys.lastSize.rawValue]
        lastMtimeNs = row[CodingKeys.lastMtimeNs.rawValue]
        firstSeenAt = row[CodingKeys.firstSeenAt.rawValue]
        lastReadAt = row[CodingKeys.lastReadAt.rawValue]
        contentChecksum = row[CodingKeys.contentChecksum.rawValue]
        nonTextBytes = row[CodingKeys.nonTextBytes.rawValue]
        anonymousPublishes = row[CodingKeys.anonymousPublishes.rawValue]
        firstAnonymousPublishLines = row[CodingKeys.firstAnonymousPublishLines.rawValue]
    }
}

extension LogFileRecord {
    /// Every column but `id`, in the order `values` gives them.
    private static let columns: [CodingKeys] = [
        .fingerprint, .fingerprintLength, .firstPath, .lastPath, .compressed, .bytesRead, .linesRead, .records, .rejectedLines,
        .firstRejectedLines, .firstRejectionCause, .faultOffset, .faultMessage, .readToEnd, .lastInode, .lastSize, .lastMtimeNs,
        .firstSeenAt, .lastReadAt, .nonTextBytes, .anonymousPublishes, .firstAnonymousPublishLines, .contentChecksum,
    ]
    static let insertSQL =
        "INSERT INTO log_files (\(columns.map(\.rawValue).joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    static let updateSQL = "UPDATE log_files SET \(columns.map { "\($0.rawValue) = ?" }.joined(separator: ", ")) WHERE id = ?"

    /// Binds every column but `id`, in the order of `columns`, from parameter 1 on.
    private func bind(_ statement: BoundStatement) {
        func flag(_ value: Bool) -> Int64 { value ? 1 : 0 }  // as GRDB stores a Bool
        let values: [Int64?] = [
            Int64(fingerprintLength), flag(compressed), Int64(bytesRead), Int64(linesRead), Int64(records), Int64(rejectedLines),
            faultOffset.map(Int64.init), flag(readToEnd), lastInode, lastSize, lastMtimeNs, Int64(nonTextBytes),
            Int64(anonymousPublishes), contentChecksum,
        ]
        let texts: [String?] = [
            fingerprint, firstPath, lastPath, firstRejectedLines, firstRejectionCause, faultMessage, firstSeenAt, lastReadAt,
            firstAnonymousPublishLines,
        ]
        for (column, value) in zip(Self.integerColumns, values) { statement.bind(value, at: column) }
        for (column, text) in zip(Self.textColumns, texts) { statement.bind(text, at: column) }
    }

    /// Parameter numbers (from 1) of the integer and text columns, in the order `bind` gives them.
    private static let integerColumns: [Int32] =
        ([
            .fingerprintLength, .compressed, .bytesRead, .linesRead, .records, .rejectedLines, .faultOffset, .readToEnd, .lastInode,
            .lastSize, .lastMtimeNs, .nonTextBytes, .anonymousPublishes, .contentChecksum,
        ] as [CodingKeys]).map(parameter)
    private static let textColumns: [Int32] =
        ([
            .fingerprint, .firstPath, .lastPath, .firstRejectedLines, .firstRejectionCause, .faultMessage, .firstSeenAt, .lastReadAt,
            .firstAnonymousPublishLines,
        ] as [CodingKeys]).map(parameter)
    private static func parameter(_ key: CodingKeys) -> Int32 { Int32(columns.firstIndex(of: key)! + 1) }

    /// Inserts the row (setting `id`) through one cached statement, its values bound one by one:
    /// GRDB's `Encodable` path, which builds the row's statement each time, was a tenth of a fresh
    /// run over 10,000 small files (perf), and an argument array per row most of what was left.
    mutating func insertCached(_ db: Database) throws {
        try insert(through: BoundStatement(db, sql: Self.insertSQL), db)
    }

    /// Inserts the row (setting `id`) through `insert`, a statement of `insertSQL` already looked up.
    mutating func insert(through insert: BoundStatement, _ db: Database) throws {
        bind(insert)
        try insert.run(db)
        id = db.lastInsertedRowID
    }

    /// Updates every column of the row with `id`, through one cached statement.
    func updateCached(_ db: Database) throws {
        try update(through: BoundStatement(db, sql: Self.updateSQL), db)
    }

    /// Updates every column of the row with `id` through `update`, a statement of `updateSQL`.
    func update(through update: BoundStatement, _ db: Database) throws {
        bind(update)
        update.bind(id, at: Int32(Self.columns.count + 1))
        try update.run(db)
    }
}
