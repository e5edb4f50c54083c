import CustodyCore
import Foundation
import GRDB

/// A row of `log_files`: one log file, however it has been renamed or compressed.
struct LogFileRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "log_files"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

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
    /// CRC-32 of the decoded bytes `[0, bytesRead)`; nil for rows from before it was kept.
    var contentChecksum: Int64?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The file's rejected lines and fault as a check report wants them.
    var issues: InputIssues {
        var issues = InputIssues()
        issues.rejectedLines = rejectedLines
        issues.firstRejectedLines = (try? JSONDecoder().decode([Int].self, from: Data(firstRejectedLines.utf8))) ?? []
        issues.firstRejectionCause = firstRejectionCause
        if let faultOffset, let faultMessage { issues.fault = ReadFault(offset: faultOffset, message: faultMessage) }
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
