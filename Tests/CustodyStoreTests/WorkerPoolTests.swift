import Dispatch
import Foundation
import Testing

@testable import CustodyStore

@Suite struct WorkerPoolTests {
    /// `run` reads files on the pool's threads so that the concurrency pool stays free for the
    /// run's loop (committing, starting the next read, a group's deadline). Were the work run on
    /// the concurrency pool's threads, more blocked works than cores would leave no thread for the
    /// detached task below, and the gate would not open before the works give up waiting.
    @Test func blockingWorkLeavesTheConcurrencyPoolFree() async throws {
        let pool = WorkerPool(threads: 64)
        let works = ProcessInfo.processInfo.activeProcessorCount + 1
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<works {
                group.addTask {
                    try await pool.run {
                        started.signal()
                        // Long: the whole suite runs tests in parallel, and other suites' work
                        // can hold the concurrency pool's threads for minutes under load (the
                        // gate waited 121 s once); only a pool that never frees one times out.
                        return gate.wait(timeout: .now() + .seconds(300)) == .success
                    }
                }
            }
            // Every work is blocked before the other task is asked to run.
            for _ in 0..<works { await Task.detached { started.wait() }.value }
            let other = await Task.detached { 42 }.value
            #expect(other == 42)
            for _ in 0..<works { gate.signal() }
            var opened = 0
            for try await didOpen in group where didOpen { opened += 1 }
            #expect(opened == works)
        }
    }

    @Test func runPassesOnTheWorksError() async {
        struct Expected: Error {}
        await #expect(throws: Expected.self) {
            try await WorkerPool(threads: 1).run { () throws -> Int in throw Expected() }
        }
    }

    /// One thread waits; two works arrive at once. The waiting thread is signalled for the first;
    /// the second must get a thread of its own, not count on the one already signalled (both
    /// works wait for each other here, so sharing a thread would leave the second waiting).
    @Test func twoWorksArrivingTogetherGetTwoThreads() throws {
        let pool = WorkerPool(threads: 2)
        let warmedUp = DispatchSemaphore(value: 0)
        pool.submit { warmedUp.signal() }
        warmedUp.wait()
        Thread.sleep(forTimeInterval: 0.05)  // its thread is now waiting for work
        let first = DispatchSemaphore(value: 0)
        let second = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var metTheOther = 0
        }
        let outcomes = Outcomes()
        func work(signal mine: DispatchSemaphore, await other: DispatchSemaphore) -> @Sendable () -> Void {
            {
                mine.signal()
                let met = other.wait(timeout: .now() + .seconds(5)) == .success
                outcomes.lock.lock()
                if met { outcomes.metTheOther += 1 }
                outcomes.lock.unlock()
                done.signal()
            }
        }
        pool.submit(work(signal: first, await: second))
        pool.submit(work(signal: second, await: first))
        done.wait()
        done.wait()
        #expect(outcomes.metTheOther == 2)
    }
}
