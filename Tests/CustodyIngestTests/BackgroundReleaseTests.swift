import Foundation
import Testing

@testable import CustodyIngest

/// Large values handed to `BackgroundRelease` are freed on its queue, not by the caller.
@Suite("BackgroundRelease")
struct BackgroundReleaseTests {
    /// Signals, from its deinit, the thread it was freed on.
    final class Tracked: @unchecked Sendable {
        let freed: DispatchSemaphore
        let onThread: UnsafeMutablePointer<pthread_t>
        init(freed: DispatchSemaphore, onThread: UnsafeMutablePointer<pthread_t>) {
            self.freed = freed
            self.onThread = onThread
        }
        deinit {
            onThread.pointee = pthread_self()
            freed.signal()
        }
    }

    @Test func lastReferenceDroppedOnAnotherThread() {
        let freed = DispatchSemaphore(value: 0)
        let onThread = UnsafeMutablePointer<pthread_t>.allocate(capacity: 1)
        defer { onThread.deallocate() }
        onThread.initialize(to: pthread_self())
        var values = [Tracked(freed: freed, onThread: onThread)]
        values.reserveCapacity(2)
        BackgroundRelease.release(consume values)
        #expect(freed.wait(timeout: .now() + 10) == .success)
        #expect(pthread_equal(onThread.pointee, pthread_self()) == 0)
    }
}
