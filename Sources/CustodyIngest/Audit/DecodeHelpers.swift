import Foundation

/// The files a check's (or a run's) workers are reading, so that a worker with no file left can
/// help one of them: it decodes ahead for the file with the most compressed bytes left
/// (`HandOffSource`), and the file's own worker only parses. A file joins when it is read with
/// `RecordReader.Plan.helpers` naming the board.
public final class DecodeHelpers: @unchecked Sendable {
    private let lock = NSLock()
    private var reading: [ObjectIdentifier: HandOffSource] = [:]
    private var _offers = 0
    private var _handOffs = 0

    public init() {}

    /// Times an idle worker asked for a file to help (`helpOne`), and files it helped: for tests.
    public var offers: Int { lock.withLock { _offers } }
    public var handOffs: Int { lock.withLock { _handOffs } }

    /// `source` is being read and may take help.
    func add(_ source: HandOffSource) {
        lock.withLock { reading[ObjectIdentifier(source)] = source }
    }

    /// `source` is read to its end (or its reader stopped).
    func remove(_ source: HandOffSource) {
        _ = lock.withLock { reading.removeValue(forKey: ObjectIdentifier(source)) }
    }

    /// On an idle worker's thread: decodes the rest of the file with the most left to read and
    /// returns true once it is decoded; false at once when no file takes help.
    public func helpOne() -> Bool {
        lock.withLock { _offers += 1 }
        while true {
            let candidate = lock.withLock {
                reading.values.compactMap { source in source.bytesLeftToHelp.map { (source, $0) } }
                    .max { $0.1 < $1.1 }?.0
            }
            guard let candidate else { return false }
            // A source that ended meanwhile declines and no longer takes help: the next is tried.
            if candidate.help() {
                lock.withLock { _handOffs += 1 }
                return true
            }
        }
    }
}
