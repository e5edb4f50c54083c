import CustodyCore
import CustodyIngest
import Testing

/// Decoder vectors from Go's and flate2's gzip test suites (see Fixtures/README.md).
@Suite("Gzip fixtures")
struct GzipFixtureTests {
    @Test(arguments: GzipInflater.allCases, [1, 3, 64 * 1024])
    func emptyContentWithFileName(inflater: GzipInflater, chunk: Int) throws {
        let decoded = try decode(inflater, try fixture("go_empty.gz"), chunk: chunk)
        #expect(decoded.isCompressed)
        #expect(decoded.bytes.isEmpty)
        #expect(decoded.fault == nil)
    }

    @Test(arguments: GzipInflater.allCases, [1, 5, 64 * 1024])
    func extraHeaderField(inflater: GzipInflater, chunk: Int) throws {
        let decoded = try decode(inflater, try fixture("go_fextra_foobar.gz"), chunk: chunk)
        #expect(decoded.isCompressed)
        #expect(decoded.text == "hello, world")
        #expect(decoded.fault == nil)
        #expect(decoded.compressedBytesRead == 41)
    }

    @Test(arguments: GzipInflater.allCases, [1, 4, 64 * 1024])
    func multiMemberReadsEveryMember(inflater: GzipInflater, chunk: Int) throws {
        let decoded = try decode(inflater, try fixture("flate2_multi.gz"), chunk: chunk)
        #expect(decoded.text == "first\nsecond\n")
        #expect(decoded.bytes == (try fileBytes(try fixture("flate2_multi.txt"))))
        #expect(decoded.fault == nil)
    }

    @Test(arguments: GzipInflater.allCases)
    func multiMemberLines(inflater: GzipInflater) throws {
        let (events, fault) = try lineEvents(inflater, try fixture("flate2_multi.gz"))
        #expect(events == [.text("first", 1), .text("second", 2)])
        #expect(fault == nil)
    }

    @Test(arguments: GzipInflater.allCases)
    func badCRCKeepsTheContentAndPointsAtTheTrailer(inflater: GzipInflater) throws {
        let decoded = try decode(inflater, try fixture("go_hello_bad_crc.gz"))
        #expect(decoded.text == "hello world\n")
        let fault = try #require(decoded.fault)
        #expect(fault.offset == 42 - 8)  // the CRC-32 field
        #expect(fault.message.contains("CRC"))
    }

    @Test(arguments: GzipInflater.allCases)
    func badLengthKeepsTheContentAndPointsAtTheTrailer(inflater: GzipInflater) throws {
        let decoded = try decode(inflater, try fixture("go_hello_bad_isize.gz"))
        #expect(decoded.text == "hello world\n")
        let fault = try #require(decoded.fault)
        #expect(fault.offset == 42 - 4)  // the ISIZE field
        #expect(fault.message.contains("ISIZE"))
    }

    @Test(arguments: GzipInflater.allCases)
    func trailingGarbageAfterAValidMember(inflater: GzipInflater) throws {
        let decoded = try decode(inflater, try fixture("go_hello_trailing_garbage.gz"))
        #expect(decoded.text == "hello world\n")
        let fault = try #require(decoded.fault)
        #expect(fault.offset == 42)  // the first byte of "garbage!!!"
        #expect(fault.message.contains("trailing garbage"))
    }

    @Test(arguments: GzipInflater.allCases)
    func truncatedInsideTheTrailer(inflater: GzipInflater) throws {
        let decoded = try decode(inflater, try fixture("go_fextra_foobar_truncated.gz"))
        #expect(decoded.text == "hello, world")
        let fault = try #require(decoded.fault)
        #expect(fault.offset == 35)  // the end of the file
        #expect(fault.message.contains("truncated"))
    }

    @Test(arguments: GzipInflater.allCases)
    func truncatedUnfinishedLineIsReportedAsCutOff(inflater: GzipInflater) throws {
        let (events, fault) = try lineEvents(inflater, try fixture("go_fextra_foobar_truncated.gz"))
        #expect(events == [.cutOff(1)])
        #expect(fault != nil)
    }

    @Test(arguments: GzipInflater.allCases)
    func faultAfterACompleteLineKeepsTheLine(inflater: GzipInflater) throws {
        let (events, fault) = try lineEvents(inflater, try fixture("go_hello_bad_crc.gz"))
        #expect(events == [.text("hello world", 1)])
        #expect(fault?.offset == 34)
    }
}
