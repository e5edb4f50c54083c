#if canImport(Glibc)
import Glibc
#endif

/// Scheduling priority of the calling thread.
///
/// A one-file scan has one serial stage, the reader thread's inflate, and parser threads that
/// only soak up what capacity is left. With two cores and four runnable threads, the scheduler
/// gave the reader half a core and it sat runnable but waiting for a third of the scan, so a
/// parser that could have waited held up the whole file (`Benchmarks/RESULTS.md`, 2026-11-29,
/// seventh session). Parser threads therefore lower their own priority: they still take every
/// idle cycle, but no longer take the reader's.
enum ThreadPriority {
    /// How much less a helper thread asks of the scheduler (a `nice` increment: at +10 a thread
    /// weighs about a tenth of one at 0 when both want the same core). +10 measured 7 % faster
    /// than +5 on a one-file high-entropy check (interleaved, quiet). The price, on a host busy
    /// with other processes: the calling thread waits for the blocks a parser holds, and a
    /// parser there gets a tenth of a competing thread's share, so such a check runs slower.
    static let helperIncrement: Int32 = 10

    /// Lowers the calling thread's priority by `increment` nice steps. Linux keeps the nice value
    /// per thread (`setpriority(2)`), so other threads keep theirs. Raising it back needs a
    /// privilege, so call it only on threads that end with their work. Elsewhere, or when the call
    /// fails, nothing changes: priority is a speed matter, never a correctness one.
    static func lowerCurrentThread(by increment: Int32 = helperIncrement) {
        #if os(Linux)
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        guard errno == 0 else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(current + increment, 19))
        #endif
    }

    /// The calling thread's nice value (Linux), or nil where that is not per thread.
    static func currentThreadNice() -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : nil
        #else
        return nil
        #endif
    }
}
