import CustodyCore
import Testing

@Suite("PendingPublishes")
struct PendingPublishesTests {
    @Test func keepsTimesExactlyUpToTheLimit() {
        var p = PendingPublishes()
        #expect(p.isEmpty && p.isExact)
        for t in (1...PendingPublishes.exactLimit).reversed() { p.add(Int64(t * 10)) }
        #expect(p.count == PendingPublishes.exactLimit)
        #expect(p.isExact)
        #expect(Set(p.exact) == Set((1...PendingPublishes.exactLimit).map { Int64($0 * 10) }))
        #expect(p.earliest == 10 && p.latest == Int64(PendingPublishes.exactLimit * 10))
    }

    @Test func fallsBackToCountAndSpanBeyondTheLimit() {
        var p = PendingPublishes()
        for t in 0...PendingPublishes.exactLimit { p.add(Int64(100 - t)) }
        #expect(p.count == PendingPublishes.exactLimit + 1)
        #expect(!p.isExact)
        #expect(p.exact.isEmpty)
        #expect(p.earliest == Int64(100 - PendingPublishes.exactLimit) && p.latest == 100)
        p.add(500)
        #expect(p.latest == 500 && !p.isExact)
    }

    @Test func pruneExactDropsCoveredTimes() {
        var p = PendingPublishes()
        for t: Int64 in [5, 10, 15, 20] { p.add(t) }
        p.prune(verifiedAt: 15)
        #expect(p.count == 2)
        #expect(p.exact.sorted() == [5, 10])
        #expect(p.earliest == 5 && p.latest == 10)
        p.prune(verifiedAt: 5)
        #expect(p.isEmpty)
    }

    /// Pruning is filtering the times and adding those kept again, whether any is dropped or
    /// none (then the value is left as it is).
    @Test func pruneIsAddingTheKeptTimesAgain() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var p = PendingPublishes()
            let times = (0..<Int.random(in: 0...PendingPublishes.exactLimit, using: &random)).map { _ in
                Int64.random(in: 0..<100, using: &random)
            }
            for t in times { p.add(t) }
            let v = Int64.random(in: 0..<110, using: &random)
            var expected = PendingPublishes()
            for t in times where t < v { expected.add(t) }
            p.prune(verifiedAt: v)
            #expect(p == expected, "\(times) pruned at \(v)")
        }
    }

    @Test func pruneSpanOnlyWhenWhollyCovered() {
        var p = PendingPublishes()
        for t in 0..<20 { p.add(Int64(100 + t)) }
        var straddling = p
        straddling.prune(verifiedAt: 110)
        #expect(straddling == p)  // cannot tell how many are before: kept whole
        p.prune(verifiedAt: 100)
        #expect(p.isEmpty)
    }

    @Test func restoringInit() {
        let exact = PendingPublishes(count: 2, earliest: 1, latest: 2, exact: [1, 2])
        #expect(exact.isExact && exact.count == 2)
        let span = PendingPublishes(count: 30, earliest: 1, latest: 99, exact: nil)
        #expect(!span.isExact && span.count == 30 && span.earliest == 1 && span.latest == 99)
    }
}

@Suite("EventLocation")
struct EventLocationTests {
    @Test func ordersByTimeThenFileThenLine() {
        let a = EventLocation(millis: 1, file: 9, line: 9)
        let b = EventLocation(millis: 2, file: 0, line: 1)
        let c = EventLocation(millis: 2, file: 1, line: 0)
        let d = EventLocation(millis: 2, file: 1, line: 5)
        #expect(a < b && b < c && c < d)
        #expect([d, c, b, a].sorted() == [a, b, c, d])
        #expect(!(d < d))
    }
}
