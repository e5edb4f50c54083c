import CustodyCore

/// A run of whole lines of one file's decoded bytes, inflated straight into the block by the
/// scan's reader thread and split into lines by whichever thread parses it, and what parsing
/// them found, kept in line order (numbered from 1 within the block) until the block is
/// applied.
///
/// The reader cuts a block just after a line end (`ParallelFileScan.lastLineEnd`), so a block
/// never starts or ends inside a line, a multi-byte character or an escape; the unfinished line
/// after the cut starts the next block. An overlong line is held only when its end arrives in
/// the same read as its start (the parser then rejects it); one that outgrows the block while
/// unfinished is skipped by the reader and marked at the start of the block after it (or the end
/// of the last block). Memory stays within the block's capacity either way. Owned by one thread
/// at a time; reused once applied.
final class LineBlock: @unchecked Sendable {
    /// A record with a user, for the per-user tally.
    struct UserRecord {
        var millis: Int64
        var userPrefix: UInt64
        /// Offset of the user's bytes in `bytes`, or (with `unescapedFlag`) in `unescaped`.
        var userOffset: UInt32
        var userLength: UInt32
        /// The line number within the block (from 1).
        var line: Int
        var role: EventRole?

        static let unescapedFlag: UInt32 = 1 << 31
    }

    /// Decoded bytes gathered before the block is cut (a longer line still fits whole).
    let targetBytes: Int
    let byteCapacity: Int
    let bytes: UnsafeMutablePointer<UInt8>
    /// Bytes of whole lines (the bytes after them, up to `filled`, go on to the next block).
    var byteCount = 0
    /// Bytes the reader put in `bytes`, the next block's start included.
    var filled = 0

    /// The block's first line is an overlong line the reader skipped.
    var startsWithOverlong = false
    /// The file's last block only: the source stopped at a fault, so an unfinished last line was
    /// cut off.
    var endsWithFault = false
    /// The file's last block only: the file ended inside an overlong line the reader was skipping.
    var endsWithOverlong = false

    // Results, in line order; filled by `BlockParser.parse(_:)`.
    /// Lines in the block, empty and rejected ones included.
    var lineCount = 0
    var records = 0
    /// Records with a user, in line order (`appendUserRecord`); valid until the block is reset.
    var userRecords: UnsafeBufferPointer<UserRecord> { UnsafeBufferPointer(start: userRecordStorage, count: userRecordCount) }
    /// User ids the parser unescaped (they are not in `bytes` as they must be counted).
    var unescaped: [UInt8] = []
    /// Rejected lines, numbered within the block.
    var rejections: [(line: Int, cause: String)] = []
    /// Publishes without a user, numbered within the block.
    var anonymousPublishLines: [Int] = []

    /// The records of `userRecords`, in memory the block owns: an array's append, one record for
    /// every line with a user, was three calls (uniqueness, capacity, the store), in the profile
    /// of a logfmt check.
    private var userRecordStorage: UnsafeMutablePointer<UserRecord>
    private var userRecordCount = 0
    private var userRecordCapacity = 1024

    // Hand-over state, guarded by the scan's lock.
    var sequence = -1
    var state = State.free

    enum State { case free, filled, parsing, parsed }

    /// Room for an unfinished line carried over (up to the line limit and its `\r`), then
    /// `targetBytes`, then one more read.
    init(targetBytes: Int, readBytes: Int) {
        self.targetBytes = targetBytes
        byteCapacity = LineReader.maximumLineLength + 2 + targetBytes + readBytes
        bytes = .allocate(capacity: byteCapacity)
        userRecordStorage = .allocate(capacity: userRecordCapacity)
    }

    deinit {
        bytes.deallocate()
        userRecordStorage.deallocate()
    }

    @inline(__always)
    func appendUserRecord(_ record: UserRecord) {
        if userRecordCount == userRecordCapacity { growUserRecords() }
        (userRecordStorage + userRecordCount).initialize(to: record)
        userRecordCount &+= 1
    }

    @inline(never)
    private func growUserRecords() {
        let grown = UnsafeMutablePointer<UserRecord>.allocate(capacity: 2 * userRecordCapacity)
        grown.moveInitialize(from: userRecordStorage, count: userRecordCount)
        userRecordStorage.deallocate()
        userRecordStorage = grown
        userRecordCapacity *= 2
    }

    /// Empties the block for new lines.
    func reset() {
        byteCount = 0
        filled = 0
        startsWithOverlong = false
        endsWithFault = false
        endsWithOverlong = false
        lineCount = 0
        records = 0
        userRecordCount = 0
        unescaped.removeAll(keepingCapacity: true)
        rejections.removeAll(keepingCapacity: true)
        anonymousPublishLines.removeAll(keepingCapacity: true)
    }
}
