import Foundation

/// Long-lived threads for work that blocks: copies of adopted gzip files into the vault, and the
/// reading of files during `run`. Threads start on demand, up to a limit, and then wait for work;
/// work waits in order when every thread is busy.
///
/// Why not the Swift concurrency pool: it has one thread per core, and work that blocks there
/// for a whole file starves everything else. With two cores and two files being read, the run's
/// loop could not commit a group, nor start the next read while committing, nor wake up at a
/// group's deadline, until a read finished.
final class WorkerPool: @unchecked Sendable {
    /// Copies of adopted gzip files: as many threads as cores, since at most one copy per reading
    /// job is in flight. A fresh run over 1,000 small files used to start a thread per file.
    static let copies = WorkerPool(threads: max(1, ProcessInfo.processInfo.activeProcessorCount))
    /// Reading files during `run`: the caller bounds how many are read at once (`--jobs`); the
    /// limit only caps threads if it asks for more.
    static let reads = WorkerPool(threads: 64)
    /// Making a commit group's vault objects durable while its rows are written (`run`): one
    /// group is committed at a time.
    static let syncs = WorkerPool(threads: 1)
    /// Committing a group's rows during `run`, beside the reads: one group at a time.
    static let commits = WorkerPool(threads: 1)
    /// Merging a big commit group's users while the committing thread writes them
    /// (`GroupUserMerge`): one group at a time, and never behind a queue of reads.
    static let merges = WorkerPool(threads: 1)

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    /// Threads waiting for work (signalled or not).
    private var waiting = 0
    private let limit: Int

    init(threads limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `work` on one of the pool's threads: a waiting one, or a new one (up to the limit)
    /// when more work is queued than threads wait, else the first thread that is done.
    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        queue.append(work)
        // More work waiting to be taken than threads waiting for it: a waiting thread already
        // signalled for earlier work must not be counted on for this one. Counting only what is
        // queued and who waits also holds when a thread wakes without a signal.
        if queue.count - head > waiting && threads < limit {
            threads += 1
            Thread.detachNewThread { [self] in serve() }
        }
        condition.signal()
    }

    /// Runs `work` on one of the pool's threads and returns its result; the calling task is
    /// suspended meanwhile, so its thread stays free for other tasks.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try work() }) }
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while head == queue.count {
                waiting += 1
                condition.wait()
                waiting -= 1
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

/// Work started on a pool whose result is waited for later, on the caller's thread.
final class Background<T: Sendable>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    // Written once, by the pool's thread, before `finished` is signalled; read after waiting.
    private var result: Result<T, Error>?

    init(on pool: WorkerPool, _ work: @escaping @Sendable () throws -> T) {
        pool.submit { [self] in
            result = Result { try work() }
            finished.signal()
        }
    }

    /// The work's result once it is done (waiting again returns it again).
    func wait() throws -> T {
        finished.wait()
        finished.signal()
        return try result!.get()
    }
}
