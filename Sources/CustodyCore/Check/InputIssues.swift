/// What went wrong reading one input file, aggregated: the file's rejected lines (count, first
/// few line numbers and the first cause), the gzip fault that stopped it, if any, the bytes of
/// its rejected lines that are not text, and its publish events without a user.
public struct InputIssues: Sendable, Equatable {
    /// How many rejected line numbers a finding lists before it only counts.
    public static let listedLines = 5

    public var rejectedLines = 0
    public var firstRejectedLines: [Int] = []
    public var firstRejectionCause: String?
    public var fault: ReadFault?
    /// Bytes of rejected lines that are control characters or not valid UTF-8: many of them
    /// mean a binary file (a gzip file whose magic bytes were damaged) read as text.
    public var nonTextBytes = 0
    /// Publish events with no user (field missing, `null`, `""`, combined `-`).
    public var anonymousPublishes = 0
    public var firstAnonymousPublishLines: [Int] = []

    public init() {}

    public mutating func anonymousPublish(line: Int) {
        anonymousPublishes += 1
        if firstAnonymousPublishLines.count < Self.listedLines { firstAnonymousPublishLines.append(line) }
    }

    /// Counts the bytes of a rejected line that are not text. Runs on rejected lines only.
    public mutating func countNonText(_ line: UnsafeBufferPointer<UInt8>) {
        nonTextBytes += Self.nonTextBytes(in: line)
    }

    /// Control characters other than tab, and bytes outside valid UTF-8 sequences.
    static func nonTextBytes(in line: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        var i = 0
        let n = line.count
        while i < n {
            let c = line[i]
            if c < 0x80 {
                if (c < 0x20 && c != 0x09) || c == 0x7F { count += 1 }
                i += 1
                continue
            }
            let length = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0
            var valid = length > 0 && i + length <= n
            if valid { for k in (i + 1)..<(i + length) where line[k] & 0xC0 != 0x80 { valid = false } }
            if valid {
                i += length
            } else {
                count += 1
                i += 1
            }
        }
        return count
    }

    public mutating func reject(line: Int, cause: String) {
        rejectedLines += 1
        if firstRejectedLines.count < Self.listedLines { firstRejectedLines.append(line) }
        if firstRejectionCause == nil { firstRejectionCause = cause }
    }

    /// `reject` for a line known only after later ones were rejected (a line whose fault shows
    /// at the end of the file): listed in line order, its cause first if it is the first line.
    public mutating func rejectEarlier(line: Int, cause: String) {
        rejectedLines += 1
        let place = firstRejectedLines.firstIndex { $0 > line } ?? firstRejectedLines.count
        guard place < Self.listedLines else { return }
        if place == 0 { firstRejectionCause = cause }
        firstRejectedLines.insert(line, at: place)
        if firstRejectedLines.count > Self.listedLines { firstRejectedLines.removeLast() }
    }
}

/// A fault that stopped reading a file: records decoded before it are kept.
public struct ReadFault: Sendable, Equatable, Error {
    /// Byte offset in the file (compressed bytes, for gzip) where the fault was found.
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}
