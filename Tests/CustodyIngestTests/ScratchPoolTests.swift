import Testing

@testable import CustodyIngest

/// Big scratch buffers given back are handed out again, and the pool keeps a bounded number.
/// (Sizes unlike any the parsers use, so that tests running beside these do not take them.)
@Suite("ScratchPool")
struct ScratchPoolTests {
    @Test func aBufferGivenBackIsTheNextOneTakenOfItsSize() {
        let size = 12_345
        let first = ScratchPool.take(byteCount: size)
        first.storeBytes(of: 0xAB, as: UInt8.self)
        ScratchPool.give(first, byteCount: size)
        let second = ScratchPool.take(byteCount: size)
        #expect(second == first)
        // Another size does not get it.
        let other = ScratchPool.take(byteCount: size + 16)
        #expect(other != first)
        ScratchPool.give(other, byteCount: size + 16)
        ScratchPool.give(second, byteCount: size)
    }

    @Test func atMostKeptPerSizeAreKept() {
        let size = 23_456
        let count = ScratchPool.keptPerSize + 3
        let taken = (0..<count).map { _ in ScratchPool.take(byteCount: size) }
        #expect(Set(taken).count == count)
        for buffer in taken { ScratchPool.give(buffer, byteCount: size) }
        #expect(ScratchPool.kept(byteCount: size) == ScratchPool.keptPerSize)
        // The first `keptPerSize` given were kept (the rest freed); they come back last kept first.
        let again = (0..<ScratchPool.keptPerSize).map { _ in ScratchPool.take(byteCount: size) }
        #expect(again == Array(taken.prefix(ScratchPool.keptPerSize).reversed()))
        #expect(ScratchPool.kept(byteCount: size) == 0)
        for buffer in again { ScratchPool.give(buffer, byteCount: size) }
    }
}
