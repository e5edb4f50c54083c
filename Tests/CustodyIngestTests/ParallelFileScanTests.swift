import CustodyCore
import CustodyTesting
import Foundation
import Testing

@testable import CustodyIngest

/// A file parsed over several threads in blocks must give exactly the audit of one pass: the
/// same line numbers, first rejected lines, first anonymous publishes, per-day counts and
/// per-user first events, wherever the blocks happen to be cut.
@Suite("ParallelFileScan")
struct ParallelFileScanTests {
    let policy = try! loadPolicy()

    /// Block sizes from one line per block up to all lines in one.
    static let blockSizes = [1, 50, 333, 4096, 1 << 20]

    /// A JSON-lines log exercising everything that depends on line order, `count` lines.
    func mixedLines(count: Int, seed: UInt64) -> [String] {
        var random = SeededRandom(seed: seed)
        let events = ["post", "comment", "view", "verify_phone", "verify_email", "register", "upload", "verify_id"]
        var lines: [String] = []
        for i in 0..<count {
            // Times mostly rising, sometimes out of order, over a few days.
            let second = i * 97 + Int(random.next() % 5000) - 2500
            let day = 10 + (second / 86_400) % 5
            let s = ((second % 86_400) + 86_400) % 86_400
            let ts = String(format: "2026-10-%02dT%02d:%02d:%02dZ", day, s / 3600, s / 60 % 60, s % 60)
            var event = events[Int(random.next() % UInt64(events.count))]
            let userNumber = Int(random.next() % 40)
            var user: String? =
                switch random.next() % 12 {
                case 0: nil  // anonymous
                case 1: "\\u0061lice\(userNumber % 3)"  // escaped: unescaped into the parser's scratch
                case 2: "用户\(userNumber)"  // multi-byte characters
                case 3: String(repeating: "long-user-id-", count: 6) + "\(userNumber % 4)"  // longer than the tally queues
                case 4: "medium-user-\(userNumber)"  // nine to 64 bytes
                default: "u\(userNumber)"
                }
            if i % 13 == 0 {
                // One user who never verifies: more publishes than are kept exactly.
                user = "never-verified"
                event = "post"
            }
            switch random.next() % 50 {
            case 0: lines.append("{not json \(i)")
            case 1: lines.append(#"{"user":"u1","event":"post"}"#)  // no timestamp
            case 2: lines.append("")
            case 3: lines.append("   \t ")
            case 4: lines.append("\u{01}\u{02} binary \(i)")
            default:
                let u = user.map { #","user":"\#($0)""# } ?? ""
                lines.append(#"{"ts":"\#(ts)"\#(u),"event":"\#(event)","n":\#(i)}"#)
            }
        }
        return lines
    }

    func expectSameAudit(_ a: FileAudit, _ b: FileAudit, _ note: String) {
        #expect(a.records == b.records, "\(note)")
        #expect(a.dayCounts == b.dayCounts, "\(note)")
        #expect(a.issues == b.issues, "\(note)")
        #expect(a.compressed == b.compressed, "\(note)")
        #expect(a.bytesRead == b.bytesRead, "\(note)")
        #expect(a.end == b.end, "\(note)")
        #expect(a.timeRange == b.timeRange, "\(note)")
        #expect(a.users.map(\.user) == b.users.map(\.user), "\(note)")
        for (x, y) in zip(a.users, b.users) {
            #expect(x.verifiedAt == y.verifiedAt, "\(note) \(x.user)")
            #expect(x.pending == y.pending, "\(note) \(x.user)")
            #expect(x.firstPending == y.firstPending, "\(note) \(x.user)")
        }
    }

    /// Scans `path` once in one pass and then in blocks of every size, with none to three
    /// parser threads, and compares. With none the calling thread parses every block itself,
    /// its records going straight to the tally; with parser threads, blocks go both ways.
    func expectParallelMatchesOnePass(_ path: String, format: LogFormat) -> FileAudit {
        let single = FileAudit.scan(path: path, index: 2, policy: policy, format: format)
        for size in Self.blockSizes {
            for threads in 0...3 {
                let parallel = ParallelFileScan.scan(
                    path: path, index: 2, policy: policy, format: format, blockBytes: size, parserThreads: threads)
                expectSameAudit(single, parallel, "blocks of \(size) bytes, \(threads) threads")
            }
        }
        return single
    }

    @Test func jsonLinesMatchOnePassForEveryBlockSize() throws {
        let dir = try TemporaryDirectory()
        // A byte-order mark, CRLF and lone CR line ends among the lines.
        var text = "\u{FEFF}" + mixedLines(count: 1500, seed: 1).joined(separator: "\n")
        text = text.replacingOccurrences(of: "\"n\":7}\n", with: "\"n\":7}\r\n").replacingOccurrences(of: "\"n\":9}\n", with: "\"n\":9}\r")
        let path = try dir.write("mixed.jsonl", text)
        let audit = expectParallelMatchesOnePass(path, format: .auto)
        // The fixture does reach what it is meant to test.
        #expect(audit.issues.rejectedLines > 5)
        #expect(audit.issues.anonymousPublishes > 5)
        #expect(audit.issues.nonTextBytes > 0)
        #expect(audit.users.contains { $0.pending.count > PendingPublishes.exactLimit })
        #expect(audit.users.contains { $0.user == "alice0" })
        #expect(audit.dayCounts.count >= 3)
    }

    @Test func aFindingWhoseFirstLineIsInTheSecondBlock() throws {
        let dir = try TemporaryDirectory()
        var lines = (0..<200).map { #"{"ts":"2026-10-10T10:00:\#($0 % 60 < 10 ? "0" : "")\#($0 % 60)Z","user":"v\#($0)","event":"view"}"# }
        lines.append(#"{"ts":"2026-10-11T09:00:00Z","user":"late","event":"post"}"#)
        lines.append(#"{"ts":"2026-10-11T08:00:00Z","event":"upload"}"#)
        lines.append(#"{"ts":"2026-10-11T10:00:00Z","user":"late","event":"verify_phone"}"#)
        let path = try dir.write("late.jsonl", lines.joined(separator: "\n"))
        let single = FileAudit.scan(path: path, index: 1, policy: policy, format: .jsonl)
        // About 80 bytes a line: blocks of 1 KiB put line 201 well past the first block.
        let parallel = ParallelFileScan.scan(path: path, index: 1, policy: policy, format: .jsonl, blockBytes: 1024, parserThreads: 2)
        expectSameAudit(single, parallel, "1 KiB blocks")
        let late = try #require(parallel.users.first { $0.user == "late" })
        #expect(late.firstPending == EventLocation(millis: ms("2026-10-11T09:00:00Z"), file: 1, line: 201))
        #expect(parallel.issues.firstAnonymousPublishLines == [202])
    }

    /// A CRI part never completed is named by the file's line number, also when it lies in a
    /// later block (a block numbers its lines from 1).
    @Test func anUnfinishedContainerPartInALaterBlock() throws {
        let dir = try TemporaryDirectory()
        var lines = (0..<300).map { #"2026-10-10T10:00:00Z stdout F {"user":"v\#($0)","event":"view"}"# }
        lines.insert(#"2026-10-10T10:00:01Z stderr P {"user":"x","#, at: 250)
        let path = try dir.write("pod.log", lines.joined(separator: "\n") + "\n")
        let single = FileAudit.scan(path: path, index: 1, policy: policy, format: .cri)
        // About 60 bytes a line: blocks of 1 KiB put line 251 in the fifteenth block or so.
        for size in Self.blockSizes {
            let parallel = ParallelFileScan.scan(path: path, index: 1, policy: policy, format: .cri, blockBytes: size, parserThreads: 2)
            expectSameAudit(single, parallel, "\(size)-byte blocks")
            #expect(parallel.issues.firstRejectedLines == [251], "\(size)-byte blocks")
        }
        #expect(single.issues.firstRejectedLines == [251])
    }

    @Test func gzipCutShortKeepsTheFaultAndTheCutOffLine() throws {
        let dir = try TemporaryDirectory()
        let whole = try dir.writeGzip("whole.jsonl.gz", lines: mixedLines(count: 3000, seed: 2))
        let bytes = try fileBytes(whole)
        let path = try dir.write("cut.jsonl.gz", Array(bytes[0..<(bytes.count * 2 / 3)]))
        let audit = expectParallelMatchesOnePass(path, format: .jsonl)
        #expect(audit.issues.fault != nil)
        #expect(audit.compressed)
    }

    @Test func overlongLinesAreRejectedInOrder() throws {
        let dir = try TemporaryDirectory()
        var lines = mixedLines(count: 40, seed: 3)
        lines.insert(#"{"ts":"2026-10-10T10:00:00Z","pad":""# + String(repeating: "x", count: LineReader.maximumLineLength) + "\"}", at: 20)
        let path = try dir.write("long.jsonl", lines.joined(separator: "\n"))
        let single = FileAudit.scan(path: path, index: 0, policy: policy, format: .auto)
        #expect(single.issues.firstRejectedLines.contains(21))
        for size in [64, 1 << 20] {
            let parallel = ParallelFileScan.scan(path: path, index: 0, policy: policy, format: .auto, blockBytes: size, parserThreads: 2)
            expectSameAudit(single, parallel, "blocks of \(size) bytes")
        }
    }

    @Test func combinedAndLogfmtMatchOnePass() throws {
        let dir = try TemporaryDirectory()
        var random = SeededRandom(seed: 4)
        let paths = ["/api/posts/1", "/api/verify/phone", "/feed", "/api/comments/2", "/api/register"]
        var combined: [String] = []
        var logfmt: [String] = []
        for i in 0..<800 {
            let user = random.next() % 9 == 0 ? "-" : "user\(random.next() % 30)"
            let path = paths[Int(random.next() % UInt64(paths.count))]
            let minute = (i / 7) % 60
            combined.append(
                #"203.0.113.9 - \#(user) [10/Oct/2026:13:\#(minute < 10 ? "0" : "")\#(minute):36 +0800] "POST \#(path) HTTP/1.1" 201 512 "-" "curl""#
            )
            let event = ["post", "verify_phone", "view", "comment"][Int(random.next() % 4)]
            let u = user == "-" ? "" : " user=\(user)"
            logfmt.append(i % 97 == 5 ? "garbage line \(i)" : "ts=2026-10-10T05:\(minute < 10 ? "0" : "")\(minute):00Z\(u) event=\(event)")
        }
        _ = expectParallelMatchesOnePass(try dir.write("access.log", combined.joined(separator: "\n")), format: .auto)
        _ = expectParallelMatchesOnePass(try dir.write("w.logfmt", logfmt.joined(separator: "\n")), format: .logfmt)
    }

    @Test func formatsWithStateAreParsedInOrderByOneParser() throws {
        let dir = try TemporaryDirectory()
        var rows = ["time,user,event"]
        for i in 0..<300 {
            rows.append("2026-10-10T10:00:\(i % 60 < 10 ? "0" : "")\(i % 60)Z,u\(i % 17),\(i % 5 == 0 ? "post" : "verify_id")")
        }
        #expect(!BlockParser.isStateless(.csv))
        #expect(!BlockParser.isStateless(.auto))
        #expect(BlockParser.isStateless(.jsonl))
        let audit = expectParallelMatchesOnePass(try dir.write("rows.csv", rows.joined(separator: "\n")), format: .auto)
        #expect(audit.records == 300)
    }

    @Test func aMissingFileIsAFault() {
        let audit = ParallelFileScan.scan(path: "/nonexistent/custody/x.jsonl", index: 0, policy: policy, format: .auto)
        #expect(audit.issues.fault != nil)
        #expect(audit.records == 0)
    }
}

/// splitmix64: a small deterministic generator for fixtures.
private struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
