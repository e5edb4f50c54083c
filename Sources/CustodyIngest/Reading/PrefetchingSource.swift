import CustodyCore
import Foundation

/// Decodes a source on its own thread, a few blocks ahead of the reader (`DecodeRing`), so
/// inflating one file and parsing its lines use two cores.
public final class PrefetchingSource: DecodedSource, @unchecked Sendable {
    private let inner: DecodedSource
    private let ring = DecodeRing()

    public init(_ inner: DecodedSource) {
        self.inner = inner
        let thread = Thread { [ring, inner = UncheckedDecodedSource(inner)] in
            ring.produce(from: inner.source)
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { ring.cancel() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int { ring.read(into: buffer) }

    /// Valid once `read` has returned 0 (the producer has stopped by then).
    public var fault: ReadFault? { ring.isFinished ? inner.fault : nil }
    public var isCompressed: Bool { inner.isCompressed }
    public var compressedBytesRead: Int { ring.isFinished ? inner.compressedBytesRead : 0 }
}

/// A source handed to the one thread that decodes it while others only wait for what it
/// decodes (`DecodeRing`, `ParallelFileScan`): a source is not thread-safe, but it is used by
/// one thread at a time.
struct UncheckedDecodedSource: @unchecked Sendable {
    let source: DecodedSource
    init(_ source: DecodedSource) { self.source = source }
}
