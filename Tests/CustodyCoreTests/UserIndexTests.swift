import Testing

@testable import CustodyCore

/// `UserIndex` gives dense ids in first-seen order, the same id to the same name, whether the
/// table was sized at once (the first batch into an empty index) or grew batch by batch.
@Suite("UserIndex ids")
struct UserIndexTests {
    func name(_ i: Int) -> String { i % 3 == 0 ? "user-with-a-long-name-\(i)" : "u\(i)" }

    @Test func firstSeenOrderAcrossBatchesAndGrowth() {
        var index = UserIndex()
        // 20,000 names, each twice (the second time in reverse order), into an empty index.
        let first = (0..<20_000).map(name) + (0..<20_000).reversed().map(name)
        let ids = index.intern(count: first.count) { first[$0] }
        #expect(ids[..<20_000].elementsEqual((0..<20_000).map { Int32($0) }))
        #expect(ids[20_000...].elementsEqual((0..<20_000).reversed().map { Int32($0) }))
        #expect(index.count == 20_000)
        // A second file: half known, half new, so the table grows past the first reservation.
        let second = (10_000..<50_000).map(name)
        let more = index.intern(count: second.count) { second[$0] }
        #expect(more[..<10_000].elementsEqual((10_000..<20_000).map { Int32($0) }))
        #expect(more[10_000...].elementsEqual((20_000..<50_000).map { Int32($0) }))
        #expect(index.names == (0..<50_000).map(name))
    }

    /// Reserved ahead (the closing audit's state users), then interned in small batches and
    /// past the reservation: the same ids and names as without it.
    @Test(arguments: [0, 1, 5_000, 30_000])
    func reservedAheadGivesTheSameIds(reserved: Int) {
        var plain = UserIndex()
        var reserving = UserIndex()
        reserving.reserveCapacity(reserved)
        let names = (0..<30_000).map(name) + (0..<1_000).map(name)
        var start = 0
        while start < names.count {
            let end = min(start + 4_096, names.count)
            let a = plain.intern(count: end - start) { names[start + $0] }
            let b = reserving.intern(count: end - start) { names[start + $0] }
            #expect(a == b)
            start = end
        }
        #expect(reserving.names == plain.names)
        #expect(reserving.count == 30_000)
    }

    /// Names adopted without lookups (one file's distinct users) and then looked up again, in
    /// a few names or many (whether or not the table must grow): the same ids and names as
    /// interning them. The table is built at that next lookup; a lookup that missed the adopted
    /// names would hand them new ids.
    @Test(arguments: [1, 100, 20_000])
    func adoptedNamesAreFoundByTheNextLookup(adopted: Int) {
        var plain = UserIndex()
        var adopting = UserIndex()
        let first = (0..<adopted).map(name)
        let a = plain.intern(count: first.count) { first[$0] }
        let b = adopting.adoptDistinct(count: first.count) { first[$0] }
        #expect(b == a)
        let second = (0..<(adopted + 50)).reversed().map(name)
        #expect(adopting.intern(count: second.count) { second[$0] } == plain.intern(count: second.count) { second[$0] })
        #expect(adopting.names == plain.names)
        #expect(adopting.count == adopted + 50)
    }

    /// Only an empty index adopts: names are then interned as usual by the caller.
    @Test func onlyAnEmptyIndexAdopts() {
        var index = UserIndex()
        _ = index.intern(count: 1) { _ in "u1" }
        #expect(index.adoptDistinct(count: 1) { _ in "u2" } == nil)
        #expect(index.names == ["u1"])
    }

    /// A second file holding the adopted users again: the table is sized as when the first file
    /// was interned, not for twice the users (which doubled a check's memory for the table).
    @Test func adoptedThenSeenAgainSizesTheTableAsInterning() {
        let names = (0..<20_000).map(name)
        var plain = UserIndex()
        _ = plain.intern(count: names.count) { names[$0] }
        _ = plain.intern(count: names.count) { names[$0] }
        var adopting = UserIndex()
        _ = adopting.adoptDistinct(count: names.count) { names[$0] }
        _ = adopting.intern(count: names.count) { names[$0] }
        #expect(adopting.tableSlots == plain.tableSlots)
        #expect(adopting.names == plain.names)
    }
}
