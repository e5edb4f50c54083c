import CustodyCore
import CustodyIngest
import CustodyTesting
import Testing

/// ISA-L and zlib give the same bytes and the same fault (offset and message) for the same file.
@Suite("ISA-L and zlib inflate alike")
struct GzipInflaterParityTests {
    @Test(.enabled(if: GzipInflater.isalAvailable, "built without libisal-dev: zlib inflates everything"))
    func aCleanFileIsInflatedByISALAlone() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.writeGzip("clean.gz", lines: randomHexLines(count: 20_000, seed: 5), membersEvery: 3_000)
        let source = try DecodedSources.open(path: path, inflater: .isal)
        let decoded = drain(source)
        #expect(decoded.fault == nil)
        #expect(DecodedSources.inflater(of: source) == .isal)
        #expect(decoded.bytes == (try decode(.zlib, path)).bytes, "differs from zlib")
    }

    @Test(.enabled(if: GzipInflater.isalAvailable, "built without libisal-dev"))
    func aFaultHandsTheFileToZlib() throws {
        let dir = try TemporaryDirectory()
        var bytes = GzipWriter.compress(Array("one\ntwo\n".utf8))
        bytes[bytes.count - 8] ^= 1
        let source = try DecodedSources.open(path: try dir.write("bad.gz", bytes), inflater: .isal)
        let decoded = drain(source)
        #expect(decoded.fault?.offset == bytes.count - 8)
        #expect(DecodedSources.inflater(of: source) == .zlib)
    }

    /// Flipped bytes all over a multi-member file (headers, deflate data, trailers): the two
    /// paths agree on the fault and on every byte zlib returns. ISA-L may have returned a few
    /// more bytes of the damaged block before it saw the damage (zlib rejects some blocks at
    /// their header that ISA-L decodes until it meets a bad code); never fewer, never others.
    @Test func corruptionAnywhereGivesTheSameBytesAndFault() throws {
        let dir = try TemporaryDirectory()
        let lines = randomHexLines(count: 6_000, seed: 21, length: 10...90)
        let path = try dir.writeGzip("many.gz", lines: lines, membersEvery: 700)
        let whole = try fileBytes(path)
        var rng = SplitMix64(seed: 2026)
        var positions = Array(0..<12) + [whole.count - 1, whole.count - 4, whole.count - 8]
        positions += (0..<60).map { _ in Int.random(in: 0..<whole.count, using: &rng) }
        for position in positions {
            var damaged = whole
            damaged[position] ^= UInt8(truncatingIfNeeded: 1 << (position % 8))
            let damagedPath = try dir.write("damaged.gz", damaged)
            let zlib = try decode(.zlib, damagedPath, chunk: 7_000)
            let isal = try decode(.isal, damagedPath, chunk: 7_000)
            #expect(isal.bytes.starts(with: zlib.bytes), "flip at \(position): \(isal.bytes.count) vs \(zlib.bytes.count) bytes")
            #expect(isal.bytes.count == zlib.bytes.count || zlib.fault != nil, "flip at \(position)")
            #expect(isal.fault == zlib.fault, "flip at \(position): \(String(describing: isal.fault)) vs \(String(describing: zlib.fault))")
            #expect(isal.compressedBytesRead == zlib.compressedBytesRead, "flip at \(position)")
        }
    }

    @Test func truncationAnywhereGivesTheSameBytesAndFault() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.writeGzip("many.gz", lines: randomHexLines(count: 3_000, seed: 22), membersEvery: 400)
        let whole = try fileBytes(path)
        var rng = SplitMix64(seed: 7)
        for cut in (0..<40).map({ _ in Int.random(in: 1..<whole.count, using: &rng) }) + [1, 2, 9, 10, whole.count - 1] {
            let cutPath = try dir.write("cut.gz", Array(whole[0..<cut]))
            let zlib = try decode(.zlib, cutPath)
            let isal = try decode(.isal, cutPath)
            #expect(
                isal.bytes.count == zlib.bytes.count && isal.bytes == zlib.bytes,
                "cut at \(cut): \(isal.bytes.count) vs \(zlib.bytes.count) bytes")
            #expect(isal.fault == zlib.fault, "cut at \(cut): \(String(describing: isal.fault)) vs \(String(describing: zlib.fault))")
        }
    }
}
