#if canImport(Glibc)
import Glibc
#endif

extension Array {
    /// `count` copies of `value`, in storage that the kernel is asked (`MADV_HUGEPAGE`, before
    /// it is first touched) to back with 2 MiB pages when it is large. Tables looked up at random
    /// (a user's id to its slot or row: 16–24 MB with 500,000 users) otherwise land on a random
    /// 4 KiB page at each lookup, missing the TLB as well as the cache, and fault their pages in
    /// 4 KiB at a time. The machine's transparent huge pages are often `madvise` only.
    public static func hugePaged(repeating value: Element, count: Int) -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            if let base = buffer.baseAddress { base.initialize(repeating: value, count: count) }
            initialized = count
        }
    }
}

extension Array {
    /// Makes room for `minimumCapacity` elements (at least twice the capacity so far, as
    /// appending does) in storage asked to be backed by 2 MiB pages when large (`hugePaged`).
    public mutating func reserveHugePaged(_ minimumCapacity: Int) {
        guard capacity < minimumCapacity else { return }
        let old = self
        self = [Element](unsafeUninitializedCapacity: Swift.max(minimumCapacity, 2 * capacity)) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            old.withUnsafeBufferPointer { source in
                if let from = source.baseAddress, let to = buffer.baseAddress { to.initialize(from: from, count: source.count) }
            }
            initialized = old.count
        }
    }
}

/// Large: below it, a table's pages are few and malloc's own.
private let hugePagedBytes = 4 << 20

/// Asks for 2 MiB pages over the whole 4 KiB pages of `buffer` (untouched memory only: pages
/// already faulted in stay as they are until the kernel collapses them). A hint: nothing
/// changes if it is refused.
private func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    guard buffer.count >= hugePagedBytes, let base = buffer.baseAddress else { return }
    let page = 4096
    let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
    guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
    _ = madvise(aligned, end - start, Int32(MADV_HUGEPAGE))
    #endif
}
