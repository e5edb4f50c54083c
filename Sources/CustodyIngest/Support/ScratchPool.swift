import Synchronization

/// Big scratch buffers (a parser's 1 MiB room for an unescaped value, a line reader's buffer),
/// handed back when a file is done and reused for the next one.
///
/// Every file's parsers and line reader took ~8 MiB of such buffers from `malloc` and gave them
/// back. A buffer that large comes from the top of a thread's heap, and small allocations made
/// while it is held land above it; freed, it becomes a hole that later small allocations are
/// spread through. A fresh run over 10,000 small files ended with four heaps of ~20 MB each
/// where the live heap was under 45 MB, and every page of them zeroed by the kernel on first
/// touch (a sixth of the run's samples). Reused, the buffers stay where they are, and so does
/// the heap. Only pages a buffer has really used are resident.
enum ScratchPool {
    /// Free buffers of one byte count (as bit patterns: raw pointers are not `Sendable`).
    private struct Shelf {
        let byteCount: Int
        var buffers: [UInt] = []
    }

    /// One shelf per byte count asked for (two or three in a process). Not a dictionary: its
    /// first use costs a scan of the runtime's protocol conformances (`Int: Hashable`), ~30 µs
    /// of every start.
    private static let free = Mutex<[Shelf]>([])

    /// Buffers of one size kept at most; more are freed (as many files read at once as that
    /// is more than any machine's cores would ask for).
    static let keptPerSize = 32

    /// A buffer of `byteCount` bytes, 16-byte aligned, its content undefined.
    static func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let reused = free.withLock { shelves in
            shelves.firstIndex { $0.byteCount == byteCount }.flatMap { shelves[$0].buffers.popLast() }
        }
        if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return pointer }
        return .allocate(byteCount: byteCount, alignment: 16)
    }

    /// Gives back a buffer `take(byteCount:)` returned, with the same byte count.
    static func give(_ buffer: UnsafeMutableRawPointer, byteCount: Int) {
        let kept = free.withLock { shelves in
            guard let index = shelves.firstIndex(where: { $0.byteCount == byteCount }) else {
                shelves.append(Shelf(byteCount: byteCount, buffers: [UInt(bitPattern: buffer)]))
                return true
            }
            guard shelves[index].buffers.count < keptPerSize else { return false }
            shelves[index].buffers.append(UInt(bitPattern: buffer))
            return true
        }
        if !kept { buffer.deallocate() }
    }

    /// Free buffers of `byteCount` bytes held now.
    static func kept(byteCount: Int) -> Int {
        free.withLock { shelves in shelves.first { $0.byteCount == byteCount }?.buffers.count ?? 0 }
    }

    /// `take(byteCount:)` typed as bytes, `count` of them.
    static func takeBytes(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        take(byteCount: count).bindMemory(to: UInt8.self, capacity: count)
    }

    /// Gives back what `takeBytes(_:)` returned.
    static func giveBytes(_ buffer: UnsafeMutablePointer<UInt8>, count: Int) {
        give(UnsafeMutableRawPointer(buffer), byteCount: count)
    }
}
