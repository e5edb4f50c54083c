import CustodyCore
import Dispatch
import Foundation

/// Decodes a source on its own thread, a few blocks ahead of the reader, so inflating one file
/// and parsing its lines use two cores. Used when there are fewer files than cores.
///
/// The producer fills blocks from a small ring; the consumer copies them out in order. Blocks
/// change hands through two semaphores, so each block is touched by one thread at a time.
public final class PrefetchingSource: DecodedSource, @unchecked Sendable {
    static let blockSize = 1 << 20
    static let blockCount = 4

    private let inner: DecodedSource
    private let blocks: [UnsafeMutableRawPointer]
    private var counts: [Int]
    private let filled = DispatchSemaphore(value: 0)
    private let empty = DispatchSemaphore(value: PrefetchingSource.blockCount)
    private let done = DispatchGroup()
    private let cancelled = ManagedAtomicFlag()
    // Consumer side.
    private var current = -1
    private var offsetInCurrent = 0
    private var nextToTake = 0
    private var finished = false

    public init(_ inner: DecodedSource) {
        self.inner = inner
        blocks = (0..<Self.blockCount).map { _ in UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: 64) }
        counts = Array(repeating: 0, count: Self.blockCount)
        done.enter()
        let thread = Thread { [self] in
            produce()
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        cancelled.set()
        for _ in 0..<Self.blockCount { empty.signal() }
        done.wait()
        for block in blocks { block.deallocate() }
    }

    private func produce() {
        var index = 0
        while true {
            empty.wait()
            if cancelled.isSet { return }
            let n = inner.read(into: UnsafeMutableRawBufferPointer(start: blocks[index], count: Self.blockSize))
            counts[index] = n
            filled.signal()
            if n == 0 { return }
            index = (index + 1) % Self.blockCount
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
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

    /// Valid once `read` has returned 0 (the producer has stopped by then).
    public var fault: ReadFault? { finished ? inner.fault : nil }
    public var isCompressed: Bool { inner.isCompressed }
    public var compressedBytesRead: Int { finished ? inner.compressedBytesRead : 0 }
}

/// A set-once flag readable from another thread.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
