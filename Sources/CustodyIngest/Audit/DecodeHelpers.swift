import Foundation

/// The files a check's (or a run's) workers are reading, so that a worker with no file left can
/// help one of them: it decodes ahead for the file with the most compressed bytes left
/// (`HandOffSource`), and the file's own worker only parses.
///
/// Whoever starts a read announces it (`expectRead`) before the read is under way, and passes
/// the ticket in `RecordReader.Plan.helpers`; the read joins the board once its file is open.
/// A helper started right after a read (the last file started with a worker still free) waits
/// for that read to open its file rather than find nothing and give up.
public final class DecodeHelpers: @unchecked Sendable {
    /// A read announced to the board, to be read with its help.
    public struct Ticket: Sendable {
        let board: DecodeHelpers
        let id: Int
        /// The file's size, to choose the file with the most left to read.
        let fileBytes: Int

        /// The read takes no help (it failed before opening its file); see `DecodeHelpers.settle`.
        public func settle() { board.settle(self) }
    }

    /// How long a helper waits for an announced read to open its file.
    static let patience: TimeInterval = 0.1

    private let condition = NSCondition()
    // Under `condition`.
    private var reading: [ObjectIdentifier: HandOffSource] = [:]
    private var announced = Set<Int>()
    private var nextTicket = 0
    private var _offers = 0
    private var _handOffs = 0

    public init() {}

    /// Times an idle worker asked for a file to help (`helpOne`), and files it helped: for tests.
    public var offers: Int { condition.withLock { _offers } }
    public var handOffs: Int { condition.withLock { _handOffs } }

    /// Announces a read of a file of `fileBytes` that is about to start.
    public func expectRead(fileBytes: Int) -> Ticket {
        condition.withLock {
            nextTicket += 1
            announced.insert(nextTicket)
            return Ticket(board: self, id: nextTicket, fileBytes: fileBytes)
        }
    }

    /// The read of `ticket` takes no help (it failed before opening its file). A ticket settles
    /// once; later calls do nothing, so a read can settle it again on its way out.
    public func settle(_ ticket: Ticket) { settle(ticket, source: nil) }

    /// The read of `ticket` has opened its file: `source` may take help, or nil when it takes
    /// none (not compressed, or not opened).
    func settle(_ ticket: Ticket, source: HandOffSource?) {
        condition.withLock {
            guard announced.remove(ticket.id) != nil else { return }
            if let source { reading[ObjectIdentifier(source)] = source }
            condition.broadcast()
        }
    }

    /// `source` is read to its end (or its reader stopped).
    func remove(_ source: HandOffSource) {
        _ = condition.withLock { reading.removeValue(forKey: ObjectIdentifier(source)) }
    }

    /// On an idle worker's thread: decodes the rest of the file with the most left to read and
    /// returns true once it is decoded; false when no file takes help (at once when no
    /// announced read is still opening its file, else after at most `patience`).
    public func helpOne() -> Bool {
        let deadline = Date(timeIntervalSinceNow: Self.patience)
        condition.withLock { _offers += 1 }
        while true {
            condition.lock()
            var candidate = mostLeft()
            while candidate == nil && !announced.isEmpty && condition.wait(until: deadline) { candidate = mostLeft() }
            condition.unlock()
            guard let candidate else { return false }
            // A source that ended meanwhile declines and no longer takes help: the next is tried.
            if candidate.help() {
                condition.withLock { _handOffs += 1 }
                return true
            }
        }
    }

    /// Under `condition`: the source with the most compressed bytes left that takes help.
    private func mostLeft() -> HandOffSource? {
        reading.values.compactMap { source in source.bytesLeftToHelp.map { (source, $0) } }.max { $0.1 < $1.1 }?.0
    }
}
