import CustodyCore

/// A run of consecutive lines of one file, copied out of the line reader so that another thread
/// can parse them, and what parsing them found, kept in line order until the block is applied.
///
/// Lines are whole (the line reader has split them, dropped `\r` before `\n` and found overlong
/// ones), so a block never starts or ends inside a line, a multi-byte character or an escape.
/// Owned by one thread at a time (see `ParallelFileScan`); reused once applied.
final class LineBlock: @unchecked Sendable {
    /// One line: where its bytes are in `bytes`, or a mark for a line the reader did not pass on.
    struct Line {
        var offset: Int32
        /// The line's length, or `overlong` / `cutOff`.
        var length: Int32
        var number: Int

        static let overlong: Int32 = -1
        static let cutOff: Int32 = -2
    }

    /// A record with a user, for the per-user tally.
    struct UserRecord {
        var millis: Int64
        var userPrefix: UInt64
        /// Offset of the user's bytes in `bytes`, or (with `unescapedFlag`) in `unescaped`.
        var userOffset: UInt32
        var userLength: UInt32
        var line: Int
        var role: EventRole?

        static let unescapedFlag: UInt32 = 1 << 31
    }

    /// Bytes gathered before the block is handed on (a line longer than this still fits whole).
    let targetBytes: Int
    let byteCapacity: Int
    let lineCapacity: Int
    let bytes: UnsafeMutablePointer<UInt8>
    let lines: UnsafeMutablePointer<Line>
    private(set) var byteCount = 0
    private(set) var lineCount = 0

    // Results, in line order; filled by `BlockParser.parse(_:)`.
    var records = 0
    var userRecords: [UserRecord] = []
    /// User ids the parser unescaped (they are not in `bytes` as they must be counted).
    var unescaped: [UInt8] = []
    var rejections: [(line: Int, cause: String)] = []
    var anonymousPublishLines: [Int] = []

    // Hand-over state, guarded by the scan's lock.
    var sequence = -1
    var state = State.free

    enum State { case free, filled, parsing, parsed }

    init(targetBytes: Int, lineCapacity: Int) {
        self.targetBytes = targetBytes
        byteCapacity = targetBytes + LineReader.maximumLineLength
        self.lineCapacity = lineCapacity
        bytes = .allocate(capacity: byteCapacity)
        lines = .allocate(capacity: lineCapacity)
    }

    deinit {
        bytes.deallocate()
        lines.deallocate()
    }

    var isEmpty: Bool { lineCount == 0 }
    /// Whether the block should be handed on before taking `length` more bytes or another line.
    func isFull(adding length: Int) -> Bool {
        lineCount == lineCapacity || byteCount >= targetBytes || byteCount + length > byteCapacity
    }

    func append(_ line: UnsafeBufferPointer<UInt8>, number: Int) {
        (bytes + byteCount).update(from: line.baseAddress!, count: line.count)
        lines[lineCount] = Line(offset: Int32(byteCount), length: Int32(line.count), number: number)
        byteCount += line.count
        lineCount += 1
    }

    func appendMark(_ mark: Int32, number: Int) {
        lines[lineCount] = Line(offset: Int32(byteCount), length: mark, number: number)
        lineCount += 1
    }

    /// Empties the block for new lines.
    func reset() {
        byteCount = 0
        lineCount = 0
        records = 0
        userRecords.removeAll(keepingCapacity: true)
        unescaped.removeAll(keepingCapacity: true)
        rejections.removeAll(keepingCapacity: true)
        anonymousPublishLines.removeAll(keepingCapacity: true)
    }
}
