import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// `DecodedSources.open(contents:)` decodes a whole file held in memory exactly as
/// `open(path:)` decodes it on disk: same bytes, same fault at the same offset, same
/// `compressedBytesRead`, through either inflater (and ISA-L's hand-over to zlib).
@Suite("A file decoded from memory")
struct InMemorySourceTests {
    static var inflaters: [GzipInflater] { GzipInflater.isalAvailable ? [.isal, .zlib] : [.zlib] }

    func expectSame(_ path: String, _ inflater: GzipInflater, chunk: Int = 7_000, _ note: String) throws {
        let fromFile = try decode(inflater, path, chunk: chunk)
        let fromMemory = drain(try DecodedSources.open(contents: try fileBytes(path), inflater: inflater), chunk: chunk)
        #expect(fromMemory.bytes == fromFile.bytes, "\(note): \(fromMemory.bytes.count) vs \(fromFile.bytes.count) bytes")
        #expect(
            fromMemory.fault == fromFile.fault, "\(note): \(String(describing: fromMemory.fault)) vs \(String(describing: fromFile.fault))")
        #expect(fromMemory.isCompressed == fromFile.isCompressed, "\(note)")
        #expect(fromMemory.compressedBytesRead == fromFile.compressedBytesRead, "\(note)")
    }

    @Test(arguments: inflaters)
    func cleanDamagedAndTruncatedGzipDecodeAlike(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.writeGzip("many.gz", lines: randomHexLines(count: 4_000, seed: 31, length: 10...90), membersEvery: 500)
        try expectSame(path, inflater, "clean")
        let whole = try fileBytes(path)
        #expect(try decode(inflater, path).bytes.count > 200_000, "more than one input buffer")
        var rng = SplitMix64(seed: 99)
        var positions = Array(0..<10) + [whole.count - 1, whole.count - 4, whole.count - 8]
        positions += (0..<25).map { _ in Int.random(in: 0..<whole.count, using: &rng) }
        for position in positions {
            var damaged = whole
            damaged[position] ^= UInt8(truncatingIfNeeded: 1 << (position % 8))
            try expectSame(try dir.write("damaged.gz", damaged), inflater, "flip at \(position)")
            try expectSame(try dir.write("cut.gz", Array(whole[0..<position])), inflater, "cut at \(position)")
        }
        try expectSame(try dir.write("padded.gz", whole + [0, 0, 0, 0]), inflater, "zero padding")
        try expectSame(try dir.write("garbage.gz", whole + Array("junk".utf8)), inflater, "trailing garbage")
    }

    @Test func plainTextAndOtherCompressorsDecodeAlike() throws {
        let dir = try TemporaryDirectory()
        try expectSame(try dir.write("plain.log", "one\ntwo\nthree"), .preferred, "plain")
        try expectSame(try dir.write("empty.log", [UInt8]()), .preferred, "empty")
        let zstd: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0]
        let path = try dir.write("x.zst", zstd)
        #expect(throws: ReadFault.self) { _ = try DecodedSources.open(contents: zstd) }
        #expect(throws: ReadFault.self) { _ = try DecodedSources.open(path: path) }
    }

    @Test func skippingInMemoryMatchesTheFile() throws {
        let dir = try TemporaryDirectory()
        let plain = try dir.write("plain.log", String(repeating: "0123456789\n", count: 100))
        let gz = try dir.writeGzip("a.gz", lines: randomHexLines(count: 500, seed: 3))
        for path in [plain, gz] {
            let fromFile = try DecodedSources.open(path: path)
            let fromMemory = try DecodedSources.open(contents: try fileBytes(path))
            #expect(fromMemory.skip(bytes: 555) == fromFile.skip(bytes: 555))
            #expect(drain(fromMemory).bytes == drain(fromFile).bytes)
        }
    }

    /// A record read from memory is the record read from the file (`RecordReader.Plan.contents`).
    @Test func recordReaderReadsTheBytesItIsGiven() throws {
        let dir = try TemporaryDirectory()
        let policy = try loadPolicy()
        let path = try dir.writeGzip(
            "app.log.gz",
            lines: (0..<30).map { #"{"ts":"2026-10-0\#(1 + $0 % 9)T10:00:00+08:00","user":"u\#($0)","event":"view"}"# })
        let original = try fileBytes(path)
        // The file on disk now says something else: the given bytes are what is read.
        try dir.write("app.log.gz", GzipWriter.compress(Array("not json\n".utf8)))
        let fromMemory = FileAudit.scan(path: path, index: 0, policy: policy, format: .jsonl, plan: RecordReader.Plan(contents: original))
        #expect(fromMemory.records == 30)
        #expect(fromMemory.issues.rejectedLines == 0)
        #expect(fromMemory.bytesRead == original.count)
        let fromFile = FileAudit.scan(path: path, index: 0, policy: policy, format: .jsonl)
        #expect(fromFile.records == 0)
    }
}
