import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

@Suite("Gzip and plain decoding")
struct GzipSourceTests {
    @Test(arguments: GzipInflater.allCases)
    func plainFileNamedGzIsReadAsPlain(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("looks-compressed.log.gz", "{\"ts\":1}\nplain text\n")
        let decoded = try decode(inflater, path)
        #expect(!decoded.isCompressed)
        #expect(decoded.text == "{\"ts\":1}\nplain text\n")
        #expect(decoded.fault == nil)
        #expect(decoded.compressedBytesRead == 20)
    }

    @Test(arguments: GzipInflater.allCases)
    func gzipWithoutTheExtensionIsDetected(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("access.log", GzipWriter.compress(Array("a\nb\n".utf8)))
        let decoded = try decode(inflater, path)
        #expect(decoded.isCompressed)
        #expect(decoded.text == "a\nb\n")
    }

    @Test(arguments: GzipInflater.allCases)
    func emptyFile(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let decoded = try decode(inflater, try dir.write("empty.log", ""))
        #expect(!decoded.isCompressed)
        #expect(decoded.bytes.isEmpty)
        #expect(decoded.fault == nil)
    }

    @Test(arguments: GzipInflater.allCases)
    func oneMagicByteIsPlain(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let decoded = try decode(inflater, try dir.write("one", [0x1F]))
        #expect(!decoded.isCompressed)
        #expect(decoded.bytes == [0x1F])
    }

    @Test(arguments: GzipInflater.allCases)
    func missingFileThrows(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        #expect(throws: ReadFault.self) { _ = try DecodedSources.open(path: dir.path("absent.gz"), inflater: inflater) }
    }

    @Test(arguments: GzipInflater.allCases)
    func emptyMemberInTheMiddle(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("three.gz")
        let writer = try GzipWriter(path: path)
        try writer.write("first\n")
        try writer.finishMember()
        try writer.finishMember()  // an empty member
        try writer.write("third\n")
        try writer.close()
        let decoded = try decode(inflater, path)
        #expect(decoded.text == "first\nthird\n")
        #expect(decoded.fault == nil)
        let (events, fault) = try lineEvents(inflater, path)
        #expect(events == [.text("first", 1), .text("third", 2)])
        #expect(fault == nil)
    }

    @Test(arguments: GzipInflater.allCases)
    func concatenatedCompressOutputsAreOneStream(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let bytes = GzipWriter.compress(Array("a\n".utf8)) + GzipWriter.compress([]) + GzipWriter.compress(Array("b\n".utf8))
        let decoded = try decode(inflater, try dir.write("cat.gz", bytes))
        #expect(decoded.text == "a\nb\n")
        #expect(decoded.fault == nil)
        #expect(decoded.compressedBytesRead == bytes.count)
    }

    @Test(arguments: GzipInflater.allCases, [1, 7, 512, 300_000])
    func zeroPaddingAfterTheLastMemberIsAccepted(inflater: GzipInflater, padding: Int) throws {
        let dir = try TemporaryDirectory()
        let bytes = GzipWriter.compress(Array("padded\n".utf8)) + [UInt8](repeating: 0, count: padding)
        let decoded = try decode(inflater, try dir.write("padded.gz", bytes))
        #expect(decoded.text == "padded\n")
        #expect(decoded.fault == nil)
    }

    @Test(arguments: GzipInflater.allCases)
    func garbageAfterZeroPaddingIsAFault(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let member = GzipWriter.compress(Array("x\n".utf8))
        let bytes = member + [0, 0, 0, 0x41, 0x42]
        let decoded = try decode(inflater, try dir.write("padded-garbage.gz", bytes))
        #expect(decoded.text == "x\n")
        #expect(decoded.fault?.offset == member.count + 3)
    }

    @Test(arguments: GzipInflater.allCases)
    func singleStrayByteAfterAMemberIsAFault(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let member = GzipWriter.compress(Array("x\n".utf8))
        let decoded = try decode(inflater, try dir.write("stray.gz", member + [0x1F]))
        #expect(decoded.text == "x\n")
        #expect(decoded.fault?.offset == member.count)
    }

    @Test(arguments: GzipInflater.allCases)
    func corruptSecondMemberKeepsTheFirst(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let first = GzipWriter.compress(Array("one\n".utf8))
        var second = GzipWriter.compress(Array("two\n".utf8))
        second[second.count - 8] ^= 0xFF  // CRC-32
        let decoded = try decode(inflater, try dir.write("two.gz", first + second))
        #expect(decoded.text == "one\ntwo\n")
        #expect(decoded.fault?.offset == first.count + second.count - 8)
    }

    @Test(arguments: GzipInflater.allCases)
    func headerCorruptionIsAFault(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        var bytes = GzipWriter.compress(Array("x\n".utf8))
        bytes[2] = 7  // compression method other than deflate
        let decoded = try decode(inflater, try dir.write("method.gz", bytes))
        #expect(decoded.isCompressed)
        #expect(decoded.bytes.isEmpty)
        #expect(decoded.fault != nil)
        #expect((0...10).contains(decoded.fault?.offset ?? -1))
    }

    /// Large, poorly compressible content in many members: member boundaries land at every kind
    /// of position relative to the reader's 256 KiB input buffer.
    @Test(arguments: GzipInflater.allCases, [(1, 64 * 1024), (97, 1000), (5000, 1)])
    func largeMultiMemberRoundTrip(inflater: GzipInflater, shape: (membersEvery: Int, chunk: Int)) throws {
        let (membersEvery, chunk) = shape
        let dir = try TemporaryDirectory()
        let lines = randomHexLines(count: 12_000, seed: UInt64(membersEvery))
        let path = try dir.writeGzip("big.gz", lines: lines, membersEvery: membersEvery)
        let expected = Array((lines.joined(separator: "\n") + "\n").utf8)
        let decoded = try decode(inflater, path, chunk: chunk)
        #expect(decoded.fault == nil)
        #expect(decoded.bytes.count == expected.count)
        #expect(decoded.bytes == expected)
        #expect(decoded.compressedBytesRead == (try fileBytes(path)).count)
    }

    /// A first member ending just before, at or just after the reader's 256 KiB input block, so
    /// the next member's magic bytes straddle a refill.
    @Test(arguments: GzipInflater.allCases, [-3, -2, -1, 0, 1, 2])
    func memberBoundaryAtTheInputBlockEdge(inflater: GzipInflater, delta: Int) throws {
        let target = 256 * 1024 + delta
        // Stored (level 0) deflate grows one byte per input byte, so a content length gives any size.
        var n = target - 200
        var first = GzipWriter.compress([UInt8](repeating: 0x61, count: n), level: 0)
        while first.count < target {
            n += target - first.count
            first = GzipWriter.compress([UInt8](repeating: 0x61, count: n), level: 0)
        }
        try #require(first.count == target)
        let second = GzipWriter.compress(Array("\ntail\n".utf8))
        let dir = try TemporaryDirectory()
        let decoded = try decode(inflater, try dir.write("edge.gz", first + second))
        #expect(decoded.fault == nil)
        #expect(decoded.bytes.count == n + 6)
        #expect(decoded.text.hasSuffix("aa\ntail\n"))

        // A lone stray byte in the same place is a fault at its offset.
        let stray = try decode(inflater, try dir.write("stray.gz", first + [0x1F]))
        #expect(stray.bytes.count == n)
        #expect(stray.fault?.offset == target)
    }

    @Test(arguments: GzipInflater.allCases)
    func prefetchingSourceYieldsTheSameBytesAndFault(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let lines = randomHexLines(count: 30_000, seed: 7)
        let path = try dir.writeGzip("big.gz", lines: lines, membersEvery: 333)
        var bytes = try fileBytes(path)
        let truncatedPath = try dir.write("cut.gz", Array(bytes[0..<(bytes.count * 2 / 3)]))
        bytes.removeAll()
        for p in [path, truncatedPath] {
            let direct = try decode(inflater, p)
            let prefetched = drain(PrefetchingSource(try DecodedSources.open(path: p, inflater: inflater)), chunk: 10_000)
            #expect(prefetched.bytes == direct.bytes)
            #expect(prefetched.fault == direct.fault)
            #expect(prefetched.isCompressed)
        }
    }

    /// Every prefix of a gzip file (shorter than the whole) is a fault, never a crash, and what
    /// it yields is a prefix of the real content.
    @Test(arguments: GzipInflater.allCases)
    func truncatedAtEveryPosition(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let content = Array((randomHexLines(count: 40, seed: 3, length: 5...40).joined(separator: "\n") + "\n").utf8)
        let whole = GzipWriter.compress(content, level: 1)
        for cut in 2..<whole.count {
            let path = try dir.write("cut.gz", Array(whole[0..<cut]))
            let decoded = try decode(inflater, path, chunk: cut % 2 == 0 ? 64 * 1024 : 3)
            #expect(decoded.isCompressed)
            #expect(decoded.fault != nil, "cut at \(cut) of \(whole.count)")
            #expect(
                decoded.bytes.count <= content.count && Array(content[0..<decoded.bytes.count]) == decoded.bytes,
                "cut at \(cut)")
            #expect((0...cut).contains(decoded.fault?.offset ?? -1), "cut at \(cut): offset \(decoded.fault?.offset ?? -1)")
        }
    }

    @Test(arguments: GzipInflater.allCases)
    func truncatedLargeFileAtSampledPositions(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let lines = randomHexLines(count: 8_000, seed: 11)
        let path = try dir.writeGzip("big.gz", lines: lines, membersEvery: 1_000)
        let whole = try fileBytes(path)
        let content = Array((lines.joined(separator: "\n") + "\n").utf8)
        var rng = SplitMix64(seed: 99)
        var cuts = [2, 10, 11, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, whole.count - 1, whole.count - 4, whole.count - 8]
        cuts += (0..<20).map { _ in Int.random(in: 2..<whole.count, using: &rng) }
        for cut in cuts where cut < whole.count {
            let decoded = try decode(inflater, try dir.write("cut.gz", Array(whole[0..<cut])))
            #expect(decoded.fault != nil, "cut at \(cut)")
            #expect(Array(content[0..<decoded.bytes.count]) == decoded.bytes, "cut at \(cut)")
        }
    }

    @Test(arguments: GzipInflater.allCases)
    func skipBytes(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.writeGzip("s.gz", lines: ["0123456789", "abcdef"])
        let source = try DecodedSources.open(path: path, inflater: inflater)
        #expect(source.skip(bytes: 11) == 11)
        #expect(drain(source).text == "abcdef\n")
        let plain = try DecodedSources.open(path: try dir.write("p.log", "0123456789\nabcdef\n"), inflater: inflater)
        #expect(plain.skip(bytes: 11) == 11)
        #expect(drain(plain).text == "abcdef\n")
        let short = try DecodedSources.open(path: try dir.write("short.log", "abc"), inflater: inflater)
        #expect(short.skip(bytes: 10) == 3)
    }
}
