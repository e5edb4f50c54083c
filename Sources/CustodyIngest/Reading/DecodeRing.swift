import Dispatch
import Foundation

/// A few blocks of decoded bytes between one producer thread, which decodes a source into them,
/// and one consumer, which copies them out in order: inflating a file and parsing its lines on
/// two cores.
///
/// Blocks change hands through two semaphores, so each block is touched by one thread at a
/// time; the semaphores also order the producer's writes (the block and the source's state)
/// before the consumer's reads.
final class DecodeRing: @unchecked Sendable {
    static let blockSize = 1 << 20
    static let blockCount = 4

    private let blocks: [UnsafeMutableRawPointer]
    /// Bytes in each block: written by the producer, read by the consumer, one block at a time
    /// (raw memory, so the two threads never touch one array's storage).
    private let counts: UnsafeMutablePointer<Int>
    private let filled = DispatchSemaphore(value: 0)
    /// Created at 0 and signalled once per block: libdispatch aborts when a semaphore is freed
    /// below its initial value, which a reader that stops early (the ring full) would leave.
    private let empty = DispatchSemaphore(value: 0)
    private let cancelled = ManagedAtomicFlag()
    // Consumer side.
    private var current = -1
    private var offsetInCurrent = 0
    private var nextToTake = 0
    private var finished = false

    init() {
        blocks = (0..<Self.blockCount).map { _ in UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: 64) }
        counts = UnsafeMutablePointer<Int>.allocate(capacity: Self.blockCount)
        counts.initialize(repeating: 0, count: Self.blockCount)
        for _ in 0..<Self.blockCount { empty.signal() }
    }

    // The producer holds the ring while it runs, so the blocks go only after it has stopped.
    deinit {
        for block in blocks { block.deallocate() }
        counts.deallocate()
    }

    /// On the consumer's side, when it reads no more: a producer waiting for a free block stops.
    func cancel() {
        cancelled.set()
        for _ in 0..<Self.blockCount { empty.signal() }
    }

    /// Whether the consumer has taken the end (a read of 0 bytes): the producer has stopped and
    /// the source's state may be read on the consumer's thread.
    var isFinished: Bool { finished }

    /// On the producer's thread, once: decodes `source` into the blocks until it ends (or the
    /// consumer cancels). `source` must not be touched by any other thread until the consumer
    /// has taken the end.
    func produce(from source: DecodedSource) {
        var index = 0
        while true {
            empty.wait()
            if cancelled.isSet { return }
            let n = source.read(into: UnsafeMutableRawBufferPointer(start: blocks[index], count: Self.blockSize))
            counts[index] = n
            filled.signal()
            if n == 0 { return }
            index = (index + 1) % Self.blockCount
        }
    }

    /// On the consumer's thread: the next decoded bytes, as `DecodedSource.read`; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        if current < 0 || offsetInCurrent == counts[current] {
            if current >= 0 { empty.signal() }
            filled.wait()
            current = nextToTake
            nextToTake = (nextToTake + 1) % Self.blockCount
            offsetInCurrent = 0
            if counts[current] == 0 {
                finished = true
                return 0
            }
        }
        let n = min(buffer.count, counts[current] - offsetInCurrent)
        buffer.baseAddress!.copyMemory(from: blocks[current] + offsetInCurrent, byteCount: n)
        offsetInCurrent += n
        return n
    }
}

/// A set-once flag readable from another thread.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
