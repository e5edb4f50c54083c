/// What went wrong reading one input file, aggregated: the file's rejected lines (count, first
/// few line numbers and the first cause) and the gzip fault that stopped it, if any.
public struct InputIssues: Sendable, Equatable {
    /// How many rejected line numbers a finding lists before it only counts.
    public static let listedLines = 5

    public var rejectedLines = 0
    public var firstRejectedLines: [Int] = []
    public var firstRejectionCause: String?
    public var fault: ReadFault?

    public init() {}

    public mutating func reject(line: Int, cause: String) {
        rejectedLines += 1
        if firstRejectedLines.count < Self.listedLines { firstRejectedLines.append(line) }
        if firstRejectionCause == nil { firstRejectionCause = cause }
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
