import Testing

@testable import CustodyStore

/// Where groups of ingested parts end: by count, by new bytes, by age; never empty.
@Suite struct CommitGroupingTests {
    /// Feeds parts (new bytes, arrival in milliseconds) and returns the sizes of the groups
    /// committed, the last one committed at the end as a run does.
    func groups(_ grouping: CommitGrouping, _ parts: [(bytes: Int, atMs: Int)]) -> [Int] {
        var grouping = grouping
        var sizes: [Int] = []
        var open = 0
        for part in parts {
            open += 1
            if grouping.add(newBytes: part.bytes, at: .milliseconds(part.atMs)) {
                sizes.append(open)
                open = 0
                grouping.reset()
            }
        }
        if open > 0 { sizes.append(open) }
        return sizes
    }

    @Test func defaultsAreAQuarterThousandPartsSixtyFourMebibytesOrOneSecond() {
        let grouping = CommitGrouping()
        #expect(grouping.maxParts == 256)
        #expect(grouping.maxBytes == 64 << 20)
        #expect(grouping.maxAge == .seconds(1))
        #expect(grouping.isEmpty)
        #expect(grouping.deadline == nil)
        #expect(!grouping.isDue(at: .seconds(100)))
    }

    @Test func manySmallPartsCloseAGroupAtTheCountLimit() {
        // 1,000 parts of 1 KiB, one every millisecond: well inside the byte and age limits.
        let parts = (0..<1000).map { (bytes: 1024, atMs: $0) }
        #expect(groups(CommitGrouping(), parts) == [256, 256, 256, 232])
    }

    /// As a run takes them: a group full by count lets the next hold twice as many parts, up
    /// to the ceiling; groups closed by bytes or age do not.
    @Test func fullGroupsGrowToTheCeiling() {
        var grouping = CommitGrouping()
        var sizes: [Int] = []
        var open = 0
        // 16 parts a millisecond: every group fills by count well inside a second.
        for part in 0..<12_032 {
            open += 1
            if grouping.add(newBytes: 1024, at: .milliseconds(part / 16)) {
                sizes.append(open)
                grouping.reset(taken: open)
                open = 0
            }
        }
        #expect(sizes == [256, 512, 1024, 2048, 4096, 4096])
        #expect(grouping.maxParts == 4096)

        // Closed by its bytes, not its count: the next group is no larger.
        var byBytes = CommitGrouping(maxParts: 100, maxBytes: 10_000, maxAge: .seconds(60))
        for ms in 0..<4 { _ = byBytes.add(newBytes: 3_000, at: .milliseconds(ms)) }
        byBytes.reset(taken: 4)
        #expect(byBytes.maxParts == 100)
        // A ceiling below the first size is the first size.
        #expect(CommitGrouping(maxParts: 8192, maxBytes: 1, maxAge: .seconds(1)).partsCeiling == 8192)
    }

    @Test func newBytesCloseAGroupAtTheByteLimit() {
        let grouping = CommitGrouping(maxParts: 100, maxBytes: 10_000, maxAge: .seconds(60))
        let parts = (0..<10).map { (bytes: 3_000, atMs: $0) }
        // 3 parts hold 9,000 bytes; the 4th reaches 12,000.
        #expect(groups(grouping, parts) == [4, 4, 2])
    }

    @Test func aBigPartClosesItsGroupAtOnce() {
        var grouping = CommitGrouping()
        // Alone: a part as large as the byte limit is committed as soon as it arrives.
        let bigAlone = grouping.add(newBytes: 64 << 20, at: .zero)
        #expect(bigAlone)
        grouping.reset()
        // After small ones: it does not wait for more either.
        let firstSmall = grouping.add(newBytes: 100, at: .zero)
        #expect(!firstSmall)
        let secondSmall = grouping.add(newBytes: 100, at: .milliseconds(1))
        #expect(!secondSmall)
        let bigAfterSmall = grouping.add(newBytes: 200 << 20, at: .milliseconds(2))
        #expect(bigAfterSmall)
        #expect(grouping.parts == 3)
    }

    @Test func anOpenGroupIsDueOnceItsFirstPartIsOldEnough() {
        var grouping = CommitGrouping()
        let first = grouping.add(newBytes: 10, at: .milliseconds(500))
        #expect(!first)
        #expect(grouping.deadline == .milliseconds(1500))
        let second = grouping.add(newBytes: 10, at: .milliseconds(1200))
        #expect(!second)
        #expect(!grouping.isDue(at: .milliseconds(1499)))
        // Nothing new arrived, but the group is due: the run's wake-up commits it.
        #expect(grouping.isDue(at: .milliseconds(1500)))
        // A part arriving late closes the group it joins.
        let late = grouping.add(newBytes: 10, at: .milliseconds(1600))
        #expect(late)
    }

    @Test func slowArrivalsMakeGroupsByAge() {
        // One part every 300 ms: the 5th arrives 1.2 s after the first.
        let parts = (0..<10).map { (bytes: 1, atMs: $0 * 300) }
        #expect(groups(CommitGrouping(), parts) == [5, 5])
    }

    @Test func resetEmptiesTheGroupAndNegativeSizesCountAsNothing() {
        var grouping = CommitGrouping(maxParts: 0, maxBytes: 0, maxAge: .seconds(1))
        // Limits below one are one: every part is a group of its own.
        #expect(grouping.maxParts == 1 && grouping.maxBytes == 1)
        var other = CommitGrouping()
        _ = other.add(newBytes: -5, at: .zero)
        #expect(other.bytes == 0 && other.parts == 1)
        other.reset()
        #expect(other == CommitGrouping())
        let anyPart = grouping.add(newBytes: 0, at: .zero)
        #expect(anyPart)
    }
}
