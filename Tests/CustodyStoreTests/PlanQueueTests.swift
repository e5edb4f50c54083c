import Testing

@testable import CustodyStore

/// A run's plans are let go as their reads start: a plan (with its file's bytes) lives only as
/// long as what was read from it.
@Suite struct PlanQueueTests {
    @Test func aPlanIsLetGoOnceTakenAndDropped() throws {
        let fixture = try ReadOnceTests.Fixture()
        let paths = try ["a", "b", "c"].map { try fixture.log("\($0).log.gz", user: $0, lines: 3) }
        var plans = try fixture.plan(Array(paths.prefix(2)))
        #expect(plans.count == 2)
        weak let first = plans[0]
        var queue = PlanQueue(plans)
        plans = []
        queue.append(contentsOf: try fixture.plan([paths[2]]))
        #expect(queue.count == 3)
        #expect(queue.waiting == 3)
        #expect(queue.next === first)

        var taken = queue.take()
        #expect(taken === first)
        #expect(queue.waiting == 2)
        #expect(first != nil)  // held by what was taken
        taken = nil
        #expect(first == nil)  // the queue holds it no more

        #expect(queue.take()?.path == paths[1])
        #expect(queue.take()?.path == paths[2])
        #expect(queue.take() == nil)
        #expect(queue.next == nil)
        #expect(queue.count == 3)
        #expect(queue.waiting == 0)
    }
}
