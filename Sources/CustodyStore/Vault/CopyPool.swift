import Foundation

/// A few long-lived threads for work that blocks on the disk (copies of adopted gzip files into
/// the vault), so that such work never costs a thread per file: a fresh run over 1,000 small
/// files used to start 1,000 threads. Work waits in order when every thread is busy.
final class CopyPool: @unchecked Sendable {
    /// As many threads as cores: at most one copy a reading job is in flight anyway.
    static let shared = CopyPool(threads: max(1, ProcessInfo.processInfo.activeProcessorCount))

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    private var idle = 0
    private let limit: Int

    init(threads limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `work` on one of the pool's threads, starting one (up to the limit) when none is idle.
    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        queue.append(work)
        if idle == 0 && threads < limit {
            threads += 1
            Thread.detachNewThread { [self] in serve() }
        } else {
            condition.signal()
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while head == queue.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let work = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.unlock()
            work()
        }
    }
}
