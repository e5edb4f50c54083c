import Testing

@testable import CustodyIngest

/// The dissect splitter's inline delimiter search, against a plain byte-by-byte search: every
/// line length to past two blocks of 16 (four words of 8), every start and limit, matches anywhere.
@Suite("Delimiter scan")
struct DelimiterScanTests {
    /// Line `n` bytes long, allocated exactly (no readable slack after it), with `needle` at
    /// `positions` and `filler` elsewhere.
    func withLine<R>(_ n: Int, needle: UInt8, at positions: [Int], filler: UInt8 = 0x61, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
        defer { p.deallocate() }
        p.initialize(repeating: filler, count: n)
        for k in positions where k < n { p[k] = needle }
        return body(UnsafePointer(p))
    }

    func naive(_ byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, limit: Int) -> Int? {
        (from..<max(from, limit)).first { p[$0] == byte }
    }

    @Test func firstIndexAgreesWithAByteLoopAtEveryLengthStartAndLimit() {
        var checked = 0
        var firstMiss: String?
        for n in 0...33 {
            // No match, one match at each position, and two matches (the first must win).
            var placements: [[Int]] = [[]]
            for k in 0..<n { placements.append([k]) }
            for k in stride(from: 0, to: n, by: 3) { placements.append([k, min(k + 1, n - 1)]) }
            for positions in placements {
                // 0x01 as filler is the byte just above the needle 0x00 after the XOR: the case
                // a carrying "has zero byte" test would flag falsely.
                for (needle, filler) in [(UInt8(0x22), UInt8(0x61)), (0x20, 0x21), (0x00, 0x01), (0xFF, 0x7F)] {
                    withLine(n, needle: needle, at: positions, filler: filler) { p in
                        for from in 0...n {
                            for limit in from...n {
                                let expected = naive(needle, p, from: from, limit: limit)
                                var got = [
                                    DelimiterScan.firstIndexSWAR(of: needle, p, from: from, limit: limit),
                                    DelimiterScan.firstIndexBytes(of: needle, p, from: from, limit: limit),
                                    DelimiterScan.firstIndex(of: needle, p, from: from, limit: limit),
                                ]
                                #if arch(x86_64)
                                got.append(DelimiterScan.firstIndexSSE2(of: needle, p, from: from, limit: limit))
                                #endif
                                // One #expect per case would take minutes; the first miss is shown.
                                if got.contains(where: { $0 != expected }) && firstMiss == nil {
                                    firstMiss =
                                        "n \(n) needle \(needle) at \(positions) from \(from) limit \(limit): \(got) != \(String(describing: expected))"
                                }
                                checked += 1
                            }
                        }
                    }
                }
            }
        }
        #expect(firstMiss == nil, "\(firstMiss ?? "")")
        #expect(checked > 100_000)
    }

    @Test func findSkipsDecoysOfTheFirstByteAndNeedsTheWholeDelimiterInTheLine() {
        let delimiter: [UInt8] = Array("\" \"".utf8)
        for n in 1...48 {
            for at in 0..<n {
                // Decoys: a quote not followed by ` "` before the match.
                var line = [UInt8]((0..<n).map { $0 % 4 == 1 ? 0x22 : 0x78 })
                for (k, c) in delimiter.enumerated() where at + k < n { line[at + k] = c }
                let expected: Int? = {
                    guard n >= delimiter.count else { return nil }
                    return (0...(n - delimiter.count)).first { Array(line[$0..<($0 + delimiter.count)]) == delimiter }
                }()
                let found = line.withUnsafeBufferPointer { l in
                    delimiter.withUnsafeBufferPointer { d in DelimiterScan.find(d.baseAddress!, d.count, l.baseAddress!, from: 0, n) }
                }
                #expect(found == expected, "n \(n) at \(at)")
            }
        }
    }
}
