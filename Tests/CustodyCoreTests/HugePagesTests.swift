import Testing

@testable import CustodyCore

/// Arrays whose storage is asked to live in 2 MiB pages (`hugePaged`, `reserveHugePaged`) hold
/// what ordinary arrays hold, small or large (the advice is only given from 4 MiB).
@Suite struct HugePagesTests {
    @Test(arguments: [0, 1, 1000, 300_000, (4 << 20) / 8 + 3])
    func hugePagedHoldsCopiesOfTheValue(count: Int) {
        let array = [Int64].hugePaged(repeating: -7, count: count)
        #expect(array.count == count)
        #expect(array.allSatisfy { $0 == -7 })
    }

    @Test(arguments: [(0, 10), (5, 1_000_000), (1000, 700_000), (600_000, 1_200_000), (10, 3)])
    func reservingKeepsTheElements(count: Int, minimum: Int) {
        var array = (0..<count).map { Int32?(Int32($0)) }
        let before = array.capacity
        array.reserveHugePaged(minimum)
        #expect(array == (0..<count).map { Int32?(Int32($0)) })
        #expect(array.capacity >= max(minimum, count))
        // Grown at least as appending grows an array (twice), so that repeated growth stays linear.
        if before < minimum { #expect(array.capacity >= 2 * before) }
        array.append(contentsOf: repeatElement(nil, count: 5))
        #expect(array.count == count + 5)
        #expect(array.suffix(5).allSatisfy { $0 == nil })
    }
}
