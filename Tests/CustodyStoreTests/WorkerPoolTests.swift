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
                        return gate.wait(timeout: .now() + .seconds(10)) == .success
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
}
