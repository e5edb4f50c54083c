import CustodyCore
import Dispatch
import Foundation

/// A source its reader decodes on its own thread until a worker with nothing left to do offers
/// to decode the rest (`DecodeHelpers`); from the next read on, that worker inflates into a
/// `DecodeRing` and the reader only parses.
///
/// A check (and a run) gives each worker whole files, so its end waits for the slowest worker's
/// last file: with equal files on two cores of unequal speed, one core sat idle for the last
/// ~10 % of the check. The hand-off puts that core to work on the inflate (about half a file's
/// CPU).
///
/// The source is touched by one thread at a time: the reader until it accepts an offer, the
/// helper from then until the end. The reader accepts at its next read, so it never waits.
final class HandOffSource: DecodedSource, @unchecked Sendable {
    private enum State {
        /// The reader decodes.
        case direct
        /// A helper waits for the reader's next read.
        case offered
        /// The helper decodes into `ring`.
        case handedOver
        /// The reader has read the end, or stopped: no more help.
        case closed
    }

    private let inner: DecodedSource
    /// Compressed bytes in the whole file, to choose the file with the most left to read.
    let totalBytes: Int
    private let lock = NSLock()
    private let answered = DispatchSemaphore(value: 0)
    // Under `lock`.
    private var state = State.direct
    private var readSoFar = 0
    private var helperRing: DecodeRing?
    // Reader side.
    private var ring: DecodeRing?

    init(_ inner: DecodedSource, totalBytes: Int) {
        self.inner = inner
        self.totalBytes = totalBytes
    }

    deinit { close() }

    // MARK: reader

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if let ring { return ring.read(into: buffer) }
        lock.lock()
        if state == .offered {
            let ring = DecodeRing()
            self.ring = ring
            helperRing = ring
            state = .handedOver
            lock.unlock()
            answered.signal()
            return ring.read(into: buffer)
        }
        lock.unlock()
        let n = inner.read(into: buffer)
        let progress = inner.compressedBytesRead
        lock.withLock {
            readSoFar = progress
            if n == 0 { closeLocked() }
        }
        return n
    }

    /// The reader reads no more: an offer waiting is declined, and a helper decoding stops.
    func close() {
        lock.withLock { closeLocked() }
        ring?.cancel()
    }

    private func closeLocked() {
        if state == .offered { answered.signal() }
        if state != .handedOver { state = .closed }
    }

    /// After a hand-off, the helper's state is read only once the reader has taken the end
    /// (the helper has stopped by then).
    var fault: ReadFault? {
        guard let ring else { return inner.fault }
        return ring.isFinished ? inner.fault : nil
    }

    var isCompressed: Bool { inner.isCompressed }

    var compressedBytesRead: Int {
        guard let ring else { return inner.compressedBytesRead }
        return ring.isFinished ? inner.compressedBytesRead : lock.withLock { readSoFar }
    }

    // MARK: helper

    /// Compressed bytes not yet read, while the source takes help; nil once it does not.
    var bytesLeftToHelp: Int? {
        lock.withLock { state == .direct ? max(0, totalBytes - readSoFar) : nil }
    }

    /// On a helper's thread: offers to decode the rest of the file and, once the reader accepts,
    /// does so until the end. False when the source took no help (it ended, or has a helper).
    func help() -> Bool {
        let offered = lock.withLock {
            guard state == .direct else { return false }
            state = .offered
            return true
        }
        guard offered else { return false }
        answered.wait()
        guard let ring = lock.withLock({ helperRing }) else { return false }
        ring.produce(from: inner)
        return true
    }
}
