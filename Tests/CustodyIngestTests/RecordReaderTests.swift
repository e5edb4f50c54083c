import CustodyCore
import CustodyIngest
import CustodyTesting
import Testing

@Suite("RecordReader")
struct RecordReaderTests {
    let policy = try! loadPolicy()

    func read(_ path: String, format: LogFormat = .auto) -> (RecordReader.Outcome, [(Int64, String?, String?, Int)]) {
        var records: [(Int64, String?, String?, Int)] = []
        let outcome = RecordReader.read(path: path, policy: policy, format: format) { record, line in
            records.append(
                (
                    record.millis, record.user.map { String(decoding: $0, as: UTF8.self) },
                    record.event.map { String(decoding: $0, as: UTF8.self) }, line
                ))
        }
        return (outcome, records)
    }

    /// A UTF-8 byte-order mark before the first line made that line a rejected line.
    @Test func byteOrderMarkOnTheFirstLineIsSkipped() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write(
            "bom.jsonl", "\u{FEFF}{\"ts\":\"2026-10-10T05:55:36Z\",\"user\":\"a\",\"event\":\"post\"}\n\u{FEFF}{\"ts\":1}\n")
        let (outcome, records) = read(path)
        #expect(records.map(\.1) == ["a"])
        // Only the first line may carry one; elsewhere it is content.
        #expect(outcome.issues.rejectedLines == 1)
        #expect(outcome.issues.firstRejectedLines == [2])
    }

    @Test func emptyAndBlankLinesAreIgnoredAndRejectedLinesCounted() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write(
            "a.jsonl",
            """
            {"ts":"2026-10-10T05:55:36Z","user":"a","event":"post"}

               \t
            not json
            {"ts":"2026-10-10T05:55:37Z","user":"b","event":"view"}
            {"user":"c"}
            {"ts":"2026-10-10T05:55:38Z"}

            """)
        let (outcome, records) = read(path)
        #expect(records.map(\.3) == [1, 5, 7])
        #expect(records.map(\.1) == ["a", "b", nil])
        #expect(outcome.records == 3)
        #expect(outcome.issues.rejectedLines == 2)
        #expect(outcome.issues.firstRejectedLines == [4, 6])
        #expect(outcome.issues.firstRejectionCause == Rejection.notJSONObject.cause)
        #expect(outcome.issues.fault == nil)
        #expect(!outcome.compressed)
    }

    @Test func onlyTheFirstFewRejectedLinesAreListed() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("bad.log", String(repeating: "nonsense\n", count: 12))
        let (outcome, records) = read(path)
        #expect(records.isEmpty)
        #expect(outcome.issues.rejectedLines == 12)
        #expect(outcome.issues.firstRejectedLines == [1, 2, 3, 4, 5])
        #expect(outcome.issues.firstRejectionCause == Rejection.unrecognisedFormat.cause)
    }

    @Test func overlongLinesAreRejected() throws {
        let dir = try TemporaryDirectory()
        let good = #"{"ts":"2026-10-10T05:55:36Z","user":"a"}"#
        let long = "{\"ts\":\"2026-10-10T05:55:36Z\",\"pad\":\"" + String(repeating: "x", count: LineReader.maximumLineLength) + "\"}"
        let path = try dir.write("long.jsonl", [good, long, good].joined(separator: "\n"))
        let (outcome, records) = read(path)
        #expect(records.map(\.3) == [1, 3])
        #expect(outcome.issues.firstRejectedLines == [2])
        #expect(outcome.issues.firstRejectionCause == Rejection.overlong.cause)
    }

    @Test func recordsBeforeAGzipFaultAreKept() throws {
        let dir = try TemporaryDirectory()
        let lines = (0..<2_000).map {
            #"{"ts":"2026-10-10T05:55:36Z","user":"u\#($0)","event":"view","pad":"\#(randomHexLines(count: 1, seed: UInt64($0))[0])"}"#
        }
        let whole = try fileBytes(try dir.writeGzip("full.gz", lines: lines))
        let path = try dir.write("cut.gz", Array(whole[0..<(whole.count / 2)]))
        let (outcome, records) = read(path)
        #expect(outcome.compressed)
        let fault = try #require(outcome.issues.fault)
        #expect(fault.offset > 0 && fault.offset <= whole.count / 2)
        #expect(records.count > 100 && records.count < 2_000)
        // The records kept are the first lines, in order.
        #expect(records.map(\.1) == (0..<records.count).map { "u\($0)" })
        // The line cut in half is rejected, not parsed.
        #expect(outcome.issues.firstRejectedLines == [records.count + 1])
        #expect(outcome.issues.firstRejectionCause == Rejection.cutOffByFault.cause)
    }

    @Test func missingFileIsAFault() throws {
        let dir = try TemporaryDirectory()
        let (outcome, records) = read(dir.path("absent.log"))
        #expect(records.isEmpty)
        #expect(outcome.issues.fault?.offset == 0)
    }

    @Test func sniffsEachFile() throws {
        let dir = try TemporaryDirectory()
        let combined = try dir.write(
            "access.log",
            #"10.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] "POST /api/comments/1 HTTP/1.1" 201 5 "-" "ua""# + "\n")
        let logfmt = try dir.writeGzip("w.logfmt.gz", lines: ["ts=2026-10-10T05:55:36Z user=carol event=message"])
        #expect(read(combined).1.map(\.2) == ["comment"])
        #expect(read(logfmt).1.map(\.1) == ["carol"])
        #expect(read(logfmt).0.compressed)
    }
}
