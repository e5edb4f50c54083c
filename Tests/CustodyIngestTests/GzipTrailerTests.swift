import CCRC32
import CustodyCore
import CustodyIngest
import CustodyTesting
import Testing

/// CRC-32 by the definition: bit by bit, gzip's reflected polynomial.
private func referenceCRC32(_ bytes: some Sequence<UInt8>, _ start: UInt32 = 0) -> UInt32 {
    var crc = ~start
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

private func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
}

private func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

/// One gzip member holding `content` in stored (uncompressed) deflate blocks, so that its size
/// is exact: 10 + 5 per 65,535-byte block + content + 8. With `headerCRC`, the FHCRC flag and
/// the header's CRC-16 are added (`wrongHeaderCRC` spoils the latter).
private func storedMember(_ content: [UInt8], headerCRC: Bool = false, wrongHeaderCRC: Bool = false) -> [UInt8] {
    var header: [UInt8] = [0x1F, 0x8B, 0x08, headerCRC ? 0x02 : 0x00, 0, 0, 0, 0, 0x00, 0xFF]
    if headerCRC {
        let crc16 = UInt16(truncatingIfNeeded: referenceCRC32(header)) ^ (wrongHeaderCRC ? 1 : 0)
        header += [UInt8(truncatingIfNeeded: crc16), UInt8(truncatingIfNeeded: crc16 >> 8)]
    }
    var member = header
    var offset = 0
    repeat {
        let length = min(65_535, content.count - offset)
        let final: UInt8 = offset + length == content.count ? 1 : 0
        member += [final, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
        member += content[offset..<(offset + length)]
        offset += length
    } while offset < content.count
    return member + littleEndian(referenceCRC32(content)) + littleEndian(UInt32(truncatingIfNeeded: content.count))
}

@Suite("gzip trailers checked by Custody")
struct GzipTrailerTests {
    @Test func crc32MatchesTheDefinitionForEveryLengthAndAlignment() {
        let bytes = pseudoRandomBytes(1_100, seed: 32)
        var mismatches: [String] = []
        bytes.withUnsafeBytes { all in
            for offset in 0..<16 {
                for length in 0...(all.count - 16) where length < 300 || length % 97 == 0 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    if CRC32.update(0, slice) != referenceCRC32(slice) { mismatches.append("\(offset)+\(length)") }
                }
            }
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(5))")
    }

    /// The folding code without AVX-512 (the path CPUs without it take) on the same lengths.
    @Test func crc32WithoutAVX512MatchesTheDefinition() throws {
        try #require(custody_crc32_fold_available() != 0, "this CPU has no PCLMULQDQ: zlib computes the CRC")
        let bytes = pseudoRandomBytes(1_100, seed: 34)
        var mismatches: [String] = []
        bytes.withUnsafeBufferPointer { all in
            for offset in 0..<16 {
                for length in stride(from: 64, through: all.count - 16, by: 16) {
                    let slice = UnsafeBufferPointer(rebasing: all[offset..<(offset + length)])
                    let start = UInt32(truncatingIfNeeded: length &* 2_654_435_761)
                    if custody_crc32_fold_sse(start, slice.baseAddress!, length) != referenceCRC32(slice, start) {
                        mismatches.append("\(offset)+\(length)")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(5))")
    }

    @Test func crc32ChainsAcrossSplitsAndFromAnyStart() {
        let bytes = pseudoRandomBytes(700, seed: 33)
        let whole = referenceCRC32(bytes)
        bytes.withUnsafeBytes { all in
            for split in 0...all.count {
                let first = CRC32.update(0, UnsafeRawBufferPointer(rebasing: all[..<split]))
                #expect(CRC32.update(first, UnsafeRawBufferPointer(rebasing: all[split...])) == whole)
            }
            #expect(CRC32.update(0xDEAD_BEEF, all) == referenceCRC32(bytes, 0xDEAD_BEEF))
        }
    }

    /// The reader fills 256 KiB of input at a time, the first fill from offset 0: a member
    /// ending 1 to 7 bytes past 262,144 has its trailer split between two fills.
    @Test(arguments: GzipInflater.allCases, 1...7)
    func trailerSplitBetweenInputFills(inflater: GzipInflater, bytesPastTheFill: Int) throws {
        let end = 262_144 + bytesPastTheFill
        let content = pseudoRandomBytes(end - 10 - 5 * 4 - 8, seed: UInt64(bytesPastTheFill))
        let first = storedMember(content)
        #expect(first.count == end)
        let second = storedMember(Array("second member\n".utf8))
        let dir = try TemporaryDirectory()

        let good = try decode(inflater, try dir.write("good.gz", first + second))
        #expect(good.fault == nil)
        #expect(good.bytes == content + Array("second member\n".utf8))

        var badCRC = first + second
        badCRC[end - 8] ^= 0x40
        let crcFault = try #require(try decode(inflater, try dir.write("bad-crc.gz", badCRC)).fault)
        #expect(crcFault.offset == end - 8)
        #expect(crcFault.message == "CRC-32 mismatch: incorrect data check")

        var badLength = first + second
        badLength[end - 1] ^= 0x01
        let lengthFault = try #require(try decode(inflater, try dir.write("bad-isize.gz", badLength)).fault)
        #expect(lengthFault.offset == end - 4)
        #expect(lengthFault.message == "length (ISIZE) mismatch: incorrect length check")
    }

    @Test(arguments: GzipInflater.allCases)
    func aCorruptByteInTheContentIsACRCMismatch(inflater: GzipInflater) throws {
        let content = pseudoRandomBytes(100_000, seed: 5)
        var member = storedMember(content)
        member[70_000] ^= 0x01
        let dir = try TemporaryDirectory()
        let decoded = try decode(inflater, try dir.write("flipped.gz", member))
        #expect(decoded.bytes.count == content.count)
        #expect(decoded.fault?.message == "CRC-32 mismatch: incorrect data check")
        #expect(decoded.fault?.offset == member.count - 8)
    }

    /// A header with a reserved flag set (bits 5 to 7) is refused, as zlib refuses it: ISA-L
    /// read past it, so the two paths disagreed on the same file.
    @Test(arguments: GzipInflater.allCases)
    func reservedHeaderFlagsAreRefused(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let plain = storedMember(Array("plain\n".utf8))
        for flag: UInt8 in [0x20, 0x40, 0x80] {
            var member = storedMember(Array("reserved\n".utf8))
            member[3] = flag
            let decoded = try decode(inflater, try dir.write("reserved-\(flag).gz", plain + member))
            #expect(decoded.text == "plain\n")
            #expect(decoded.fault?.message.contains("unknown header flags set") == true, "\(String(describing: decoded.fault))")
            // Where zlib stops: after the member's first four bytes (the flags among them).
            #expect(decoded.fault?.offset == plain.count + 4)
        }
    }

    /// Members whose header carries its own CRC-16 are checked by zlib, header and trailer.
    @Test(arguments: GzipInflater.allCases)
    func headerCRCMembersAreCheckedByZlib(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        let content = Array("header crc\n".utf8)
        let plain = storedMember(Array("plain\n".utf8))

        let good = try decode(inflater, try dir.write("fhcrc.gz", plain + storedMember(content, headerCRC: true) + plain))
        #expect(good.fault == nil)
        #expect(good.text == "plain\nheader crc\nplain\n")

        let badHeader = try decode(
            inflater, try dir.write("bad-fhcrc.gz", plain + storedMember(content, headerCRC: true, wrongHeaderCRC: true)))
        #expect(badHeader.text == "plain\n")
        #expect(badHeader.fault?.message.contains("header crc mismatch") == true)

        var badTrailer = storedMember(content, headerCRC: true)
        badTrailer[badTrailer.count - 8] ^= 0x01
        let trailerFault = try decode(inflater, try dir.write("bad-fhcrc-trailer.gz", plain + badTrailer)).fault
        #expect(trailerFault?.message == "CRC-32 mismatch: incorrect data check")
        #expect(trailerFault?.offset == plain.count + badTrailer.count - 8)
    }
}
