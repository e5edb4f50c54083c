import CustodyCore
import CustodyTesting
import Foundation
import Testing

@testable import CustodyIngest

/// The parallel scan inflates straight into its blocks and cuts them after line ends, carrying
/// the unfinished line into the next block: wherever reads and cuts fall (inside a line, between
/// a `\r` and its `\n`, inside an overlong line, at a fault), the audit is that of one pass.
@Suite("ParallelFileScan blocks cut in place")
struct InPlaceBlockTests {
    let policy = try! loadPolicy()

    func record(_ i: Int, user: String = "u") -> String {
        #"{"ts":"2026-10-10T10:00:\#(i % 60 < 10 ? "0" : "")\#(i % 60)Z","user":"\#(user)\#(i % 7)","event":"\#(i % 5 == 0 ? "post" : "view")"}"#
    }

    func expectSame(_ a: FileAudit, _ b: FileAudit, _ note: String) {
        #expect(a.records == b.records, "\(note)")
        #expect(a.dayCounts == b.dayCounts, "\(note)")
        #expect(a.issues == b.issues, "\(note)")
        #expect(a.bytesRead == b.bytesRead, "\(note)")
        #expect(a.end == b.end, "\(note)")
        #expect(a.timeRange == b.timeRange, "\(note)")
        #expect(a.users.map(\.user) == b.users.map(\.user), "\(note)")
        for (x, y) in zip(a.users, b.users) {
            #expect(x.pending == y.pending, "\(note) \(x.user)")
            #expect(x.firstPending == y.firstPending, "\(note) \(x.user)")
        }
    }

    /// Scans `path` in one pass and then with every combination of `blocks` and `reads`.
    @discardableResult
    func expectMatchesOnePass(_ path: String, blocks: [Int], reads: [Int], threads: Int = 2) -> FileAudit {
        let single = FileAudit.scan(path: path, index: 3, policy: policy, format: .auto)
        for size in blocks {
            for read in reads {
                let parallel = ParallelFileScan.scan(
                    path: path, index: 3, policy: policy, format: .auto, blockBytes: size, readBytes: read, parserThreads: threads)
                expectSame(single, parallel, "blocks of \(size), reads of \(read)")
            }
        }
        return single
    }

    @Test func linesSplitAcrossReadsAndBlocks() throws {
        let dir = try TemporaryDirectory()
        let lines = (0..<60).map { record($0) }
        let path = try dir.write("split.jsonl", lines.joined(separator: "\n") + "\n")
        let audit = expectMatchesOnePass(path, blocks: [1, 2, 3, 5, 17, 64, 100, 1000], reads: [1, 2, 3, 7, 64, 4096])
        #expect(audit.records == 60)
        #expect(audit.end == LineReader.Position(bytes: try fileBytes(path).count, lines: 60))
    }

    /// Every line end is `\r\n` or a lone `\r`, so with reads and blocks of every small size a
    /// cut falls between a `\r` and its `\n`, and just after a lone `\r`.
    @Test func crlfAndLoneCRAtEveryBoundary() throws {
        let dir = try TemporaryDirectory()
        var text = ""
        for i in 0..<12 { text += record(i) + (i % 3 == 1 ? "\r" : "\r\n") }
        text += "\r\n\r\r" + record(12) + "\r"  // empty lines, then a last line ending in a lone `\r`
        let path = try dir.write("crlf.jsonl", text)
        let audit = expectMatchesOnePass(path, blocks: Array(1...9) + [40, 77, 120], reads: [1, 2, 3, 5, 8, 13, 71])
        #expect(audit.records == 13)
        #expect(audit.issues.rejectedLines == 0)
        #expect(audit.end.lines == 16)
    }

    /// A gzip file cut short: the records before the fault are kept and the unfinished line is
    /// reported as cut off, with the line number one pass gives it.
    @Test func aFaultMidFileKeepsTheRecordsBeforeIt() throws {
        let dir = try TemporaryDirectory()
        let whole = try dir.writeGzip("whole.jsonl.gz", lines: (0..<4000).map { record($0, user: "someone-") })
        let bytes = try fileBytes(whole)
        let path = try dir.write("cut.jsonl.gz", Array(bytes[0..<(bytes.count / 2)]))
        let audit = expectMatchesOnePass(path, blocks: [1, 333, 4096, 1 << 20], reads: [7, 1000, LineReader.readSize])
        #expect(audit.issues.fault != nil)
        #expect(audit.records > 100)
        #expect(audit.issues.firstRejectionCause == Rejection.cutOffByFault.cause)
        #expect(audit.issues.firstRejectedLines == [audit.records + 1])
    }

    /// Overlong lines (over `LineReader.maximumLineLength`) first, in the middle and last, ended
    /// by `\n`, `\r\n`, a lone `\r` or the end of the file, with reads ending on the line end's
    /// bytes: each is one rejected line, never held, and the lines after it keep their numbers.
    @Test func overlongLinesAtBoundaries() throws {
        let dir = try TemporaryDirectory()
        let limit = LineReader.maximumLineLength
        let cases: [(String, [UInt8])] = [
            ("first, then LF", Array(repeating: 0x78, count: limit + 1) + Array("\n\(record(1))\n".utf8)),
            ("middle, CRLF", Array("\(record(0))\n".utf8) + Array(repeating: 0x78, count: limit + 5) + Array("\r\n\(record(2))".utf8)),
            ("middle, lone CR", Array("\(record(0))\r".utf8) + Array(repeating: 0x78, count: limit + 2) + Array("\r\(record(3))\n".utf8)),
            ("exactly at the limit with CR", Array(repeating: 0x20, count: limit) + Array("\r\n\(record(4))\n".utf8)),
            ("one over the limit", Array(repeating: 0x20, count: limit + 1) + Array("\n\(record(5))\n".utf8)),
            ("last, no line end", Array("\(record(0))\n".utf8) + Array(repeating: 0x78, count: limit + 3)),
            ("last, ending in CR", Array("\(record(0))\n".utf8) + Array(repeating: 0x78, count: limit + 3) + [0x0D]),
            // Long enough to be skipped before their ends are read; the short line between comes
            // in the same read as the first long line's end.
            (
                "two around a short one",
                Array(repeating: 0x78, count: limit + 5000) + Array("\n\(record(1))\n".utf8)
                    + Array(repeating: 0x78, count: limit + 3000) + Array("\n\(record(2))\n".utf8)
            ),
        ]
        for (name, bytes) in cases {
            let path = try dir.write("\(name).log", bytes)
            // One read that ends just after the last `\r`: its next byte comes with the next read.
            let reads = [1000, 4099] + (bytes.lastIndex(of: 0x0D).map { [$0 + 1] } ?? [])
            let single = expectMatchesOnePass(path, blocks: [1, 4096, 1 << 20], reads: reads)
            #expect(single.end.bytes == bytes.count, "\(name)")
        }
    }

    /// An overlong line cut off by a fault: it is overlong, as in one pass.
    @Test func overlongLineCutOffByAFault() throws {
        let dir = try TemporaryDirectory()
        // Three times the line limit, last in the file: cut at 70 % of the compressed bytes, the
        // stream stops about two limits into the line, while the reader is skipping it.
        let long = String(repeating: "y", count: 3 * LineReader.maximumLineLength)
        let whole = try dir.writeGzip("whole.jsonl.gz", lines: [record(0), record(1), long])
        let bytes = try fileBytes(whole)
        let path = try dir.write("cut.jsonl.gz", Array(bytes[0..<(bytes.count * 7 / 10)]))
        let audit = expectMatchesOnePass(path, blocks: [64, 1 << 20], reads: [4096, LineReader.readSize])
        #expect(audit.issues.fault != nil)
        #expect(audit.records == 2)
        #expect(audit.issues.rejectedLines == 1)
        #expect(audit.issues.firstRejectedLines == [3])
        #expect(audit.end.bytes > LineReader.maximumLineLength)
    }

    /// `lastLineEnd` cuts after the last `\n`, or a later `\r` with a byte after it.
    @Test func lastLineEnd() {
        func cut(_ s: String) -> Int {
            var bytes = Array(s.utf8)
            return bytes.withUnsafeMutableBufferPointer { ParallelFileScan.lastLineEnd($0.baseAddress!, from: 0, to: $0.count) }
        }
        #expect(cut("abc") == 0)
        #expect(cut("a\nbc") == 2)
        #expect(cut("a\nb\rc") == 4)
        #expect(cut("a\nb\r") == 2)  // a last `\r` may be the first half of `\r\n`
        #expect(cut("a\r\n") == 3)
        #expect(cut("\r") == 0)
        #expect(cut("\rx") == 1)
    }
}
