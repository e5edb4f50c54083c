import CLineScan
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// `custody_newlines` (the line splitter's search for line ends) against a byte loop.
@Suite("Newline scan")
struct NewlineScanTests {
    typealias Scan = @Sendable (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt32>?, Int, UnsafeMutablePointer<Int>?) -> Int

    static let scans: [(String, Scan)] = [
        ("dispatched", { custody_newlines($0, $1, $2, $3, $4) }),
        ("sse2", { custody_newlines_sse2($0, $1, $2, $3, $4) }),
    ]

    /// Every newline offset of `bytes`, found by calling `scan` until it has looked at all of
    /// them, with room for `capacity` offsets per call.
    func offsets(_ bytes: UnsafeBufferPointer<UInt8>, capacity: Int, scan: Scan) -> [Int] {
        let out = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        defer { out.deallocate() }
        var result: [Int] = []
        var from = 0
        repeat {
            var scanned = 0
            let found = scan(bytes.baseAddress.map { $0 + from }, bytes.count - from, out, capacity, &scanned)
            #expect(scanned > 0 || from == bytes.count, "no progress at \(from) of \(bytes.count)")
            if scanned == 0 { break }
            result += (0..<found).map { from + Int(out[$0]) }
            from += scanned
        } while from < bytes.count
        return result
    }

    @Test(arguments: [0, 1, 2, 3])
    func everyLengthDensityAndAlignment(offset: Int) {
        var random = SplitMix64(seed: UInt64(offset) + 40)
        for (name, scan) in Self.scans {
            for length in 0...300 {
                // No newlines, all newlines, and densities in between.
                for density in [0, 1, 8, 64, 256] {
                    let buffer = (0..<(length + offset)).map { _ -> UInt8 in
                        density == 1
                            ? 0x0A
                            : density != 0 && random.next() % UInt64(density) == 0 ? 0x0A : UInt8(truncatingIfNeeded: random.next() | 1)
                    }
                    // Line ends: LF, and CR not followed by LF (a CR in the last byte: unknown).
                    let expected = (0..<length).filter {
                        buffer[offset + $0] == 0x0A || (buffer[offset + $0] == 0x0D && $0 + 1 < length && buffer[offset + $0 + 1] != 0x0A)
                    }
                    for capacity in [64, 65, 100, 1024] {
                        let found = buffer.withUnsafeBufferPointer {
                            offsets(UnsafeBufferPointer(rebasing: $0[offset...]), capacity: capacity, scan: scan)
                        }
                        if found != expected {
                            Issue.record("\(name): length \(length), density \(density), capacity \(capacity): \(found) != \(expected)")
                            return
                        }
                    }
                }
            }
        }
    }

    /// The last partial block is read with a masked load: data that ends where an unreadable
    /// page begins is scanned without a fault, whatever its length.
    @Test func readsNothingPastTheEnd() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(region, 2 * page) }
        #expect(mprotect(region + page, page, PROT_NONE) == 0)
        let pageEnd = (region + page).assumingMemoryBound(to: UInt8.self)
        for (name, scan) in Self.scans {
            for length in 0...200 {
                let start = pageEnd - length
                for i in 0..<length { start[i] = i % 7 == 0 ? 0x0A : 0x61 }
                let found = offsets(UnsafeBufferPointer(start: start, count: length), capacity: 64, scan: scan)
                #expect(found == (0..<length).filter { $0 % 7 == 0 }, "\(name), length \(length)")
            }
        }
    }

    @Test func loneCarriageReturnsEndLinesAndCRLFDoesNot() {
        for (name, scan) in Self.scans {
            // CRs at every position of a 64-byte block, the block boundary included.
            for position in 0..<140 {
                for next in [UInt8(0x0A), 0x61, 0x0D] {
                    var buffer = [UInt8](repeating: 0x61, count: 150)
                    buffer[position] = 0x0D
                    buffer[position + 1] = next
                    var expected: [Int] = []
                    for i in buffer.indices {
                        if buffer[i] == 0x0A || (buffer[i] == 0x0D && i + 1 < buffer.count && buffer[i + 1] != 0x0A) { expected.append(i) }
                    }
                    let found = buffer.withUnsafeBufferPointer { offsets($0, capacity: 64, scan: scan) }
                    #expect(found == expected, "\(name): CR at \(position) before \(next)")
                }
            }
        }
    }

    /// The scan writes each block's first line end before knowing whether there is one (counted
    /// only if there is): it must still write nothing past `capacity`, whatever the density.
    @Test func writesNothingPastTheCapacity() {
        var random = SplitMix64(seed: 77)
        let guardCount = 64
        let sentinel: UInt32 = 0xDEAD_BEEF
        for (name, scan) in Self.scans {
            for density in [1, 2, 64, 1_000_000] {
                let bytes = (0..<4096).map { _ -> UInt8 in random.next() % UInt64(density) == 0 ? 0x0A : 0x61 }
                for capacity in [64, 65, 127, 128] {
                    let out = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity + guardCount)
                    defer { out.deallocate() }
                    out.initialize(repeating: sentinel, count: capacity + guardCount)
                    var scanned = 0
                    let found = bytes.withUnsafeBufferPointer { scan($0.baseAddress, $0.count, out, capacity, &scanned) }
                    #expect(found <= capacity, "\(name), density \(density), capacity \(capacity)")
                    #expect(
                        (capacity..<(capacity + guardCount)).allSatisfy { out[$0] == sentinel },
                        "\(name), density \(density), capacity \(capacity): written past the capacity")
                    // What it reports is right: every offset a line end, in order, none missed.
                    let expected = (0..<scanned).filter { bytes[$0] == 0x0A }
                    #expect((0..<found).map { Int(out[$0]) } == expected, "\(name), density \(density), capacity \(capacity)")
                }
            }
        }
    }
}
