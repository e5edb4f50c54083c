import Testing

@testable import CustodyStore

/// `pending_publishes.exact_times_ms` is read with a byte scan: it must read back what the
/// writer writes, and refuse (nil: times not known exactly) what is not an array of integers.
@Suite struct ExactTimesTextTests {
    @Test func readsBackWhatIsWritten() {
        for times: [Int64] in [[], [0], [1_763_000_000_000], [-5, 7, 9_223_372_036_854_775_807], Array(0..<8).map { $0 * 1000 }] {
            #expect(ExactTimesText.parse(ExactTimesText.format(times)) == times)
        }
        #expect(ExactTimesText.parse(" [ 1 , 2 ] ") == [1, 2])
    }

    @Test func refusesAnythingElse() {
        for text in ["", "[", "]", "[1,]", "[,1]", "[1 2]", "[1.5]", "[\"1\"]", "1", "[1]x", "[-]", "[99999999999999999999]", "{}"] {
            #expect(ExactTimesText.parse(text) == nil, "\(text)")
        }
    }
}
