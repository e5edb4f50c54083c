import CustodyCore
import Foundation
import Testing

@testable import CustodyIngest

/// Parser threads of a one-file scan step back for the reader thread (`ThreadPriority`); the
/// thread that asked for the scan, and every other thread, keeps its priority.
@Suite("Thread priority of helper threads")
struct ThreadPriorityTests {
    /// The nice values of a new thread before and after it lowers its own priority, and of the
    /// thread that started it afterwards.
    @Test func loweringIsPerThread() async throws {
        #if os(Linux)
        let caller = try #require(ThreadPriority.currentThreadNice())
        let seen: (Int32?, Int32?) = await withCheckedContinuation { continuation in
            let thread = Thread {
                let before = ThreadPriority.currentThreadNice()
                ThreadPriority.lowerCurrentThread()
                continuation.resume(returning: (before, ThreadPriority.currentThreadNice()))
            }
            thread.start()
        }
        let before = try #require(seen.0)
        #expect(seen.1 == min(before + ThreadPriority.helperIncrement, 19))
        #expect(ThreadPriority.currentThreadNice() == caller)
        #endif
    }

    /// A whole parallel scan (parser threads started and ended) leaves the calling thread's
    /// priority as it was, and the audit complete.
    @Test func scanLeavesTheCallerAlone() throws {
        #if os(Linux)
        let dir = try TemporaryDirectory()
        let lines = (0..<5_000).map { #"{"ts":"2026-10-10T10:00:00Z","user":"u\#($0 % 13)","event":"view"}"# }
        let path = try dir.writeGzip("many.jsonl.gz", lines: lines)
        let before = try #require(ThreadPriority.currentThreadNice())
        let seen = NiceValues()
        let audit = ParallelFileScan.scan(
            path: path, index: 0, policy: try loadPolicy(), format: .auto, blockBytes: 4096, parserThreads: 2,
            parserStarted: { seen.add(ThreadPriority.currentThreadNice()) })
        #expect(audit.records == 5_000)
        #expect(ThreadPriority.currentThreadNice() == before)
        // Each parser thread runs lowered (a scan that forgot to lower them fails here).
        #expect(seen.values == [min(before + ThreadPriority.helperIncrement, 19), min(before + ThreadPriority.helperIncrement, 19)])
        #endif
    }
}

/// Nice values reported from parser threads.
private final class NiceValues: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int32?] = []
    func add(_ value: Int32?) { lock.withLock { seen.append(value) } }
    var values: [Int32?] { lock.withLock { seen } }
}
