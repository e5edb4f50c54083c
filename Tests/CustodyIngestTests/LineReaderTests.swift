import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

@Suite("LineReader")
struct LineReaderTests {
    let mib = LineReader.maximumLineLength

    func events(of bytes: [UInt8], gzip: Bool = false) throws -> [LineEvent] {
        let dir = try TemporaryDirectory()
        let path = try dir.write("input", gzip ? GzipWriter.compress(bytes) : bytes)
        let (events, fault) = try lineEvents(path)
        #expect(fault == nil)
        return events
    }

    func events(of text: String, gzip: Bool = false) throws -> [LineEvent] {
        try events(of: Array(text.utf8), gzip: gzip)
    }

    @Test(arguments: [false, true])
    func crlfLineEndings(gzip: Bool) throws {
        #expect(try events(of: "a\r\nbc\r\n\r\nd\r\n", gzip: gzip) == [.text("a", 1), .text("bc", 2), .text("", 3), .text("d", 4)])
    }

    @Test func aLoneCarriageReturnEndsALine() throws {
        // Old Mac line ends: a CR not followed by LF is a line end of its own.
        #expect(try events(of: "a\r\r\nb\rc\n") == [.text("a", 1), .text("", 2), .text("b", 3), .text("c", 4)])
        #expect(try events(of: "x\ry\rz", gzip: true) == [.text("x", 1), .text("y", 2), .text("z", 3)])
    }

    @Test(arguments: [false, true])
    func lastLineWithoutNewline(gzip: Bool) throws {
        #expect(try events(of: "first\nlast", gzip: gzip) == [.text("first", 1), .text("last", 2)])
        #expect(try events(of: "only", gzip: gzip) == [.text("only", 1)])
        #expect(try events(of: "first\r\nlast\r", gzip: gzip) == [.text("first", 1), .text("last", 2)])
    }

    @Test func emptyLinesAreCounted() throws {
        #expect(try events(of: "\n\na\n\nb\n") == [.text("", 1), .text("", 2), .text("a", 3), .text("", 4), .text("b", 5)])
        #expect(try events(of: "") == [])
        #expect(try events(of: "\n") == [.text("", 1)])
    }

    @Test(arguments: [false, true])
    func lineOfExactlyTheMaximumIsAccepted(gzip: Bool) throws {
        let long = [UInt8](repeating: 0x61, count: mib)
        let result = try events(of: long + [0x0A] + Array("next\n".utf8), gzip: gzip)
        #expect(result == [.line(long, 1), .text("next", 2)])
    }

    @Test(arguments: [false, true])
    func lineOneByteTooLongIsOverlong(gzip: Bool) throws {
        let long = [UInt8](repeating: 0x62, count: mib + 1)
        let input = Array("before\n".utf8) + long + [0x0A] + Array("after\nagain\n".utf8)
        let result = try events(of: input, gzip: gzip)
        #expect(result == [.text("before", 1), .overlong(2), .text("after", 3), .text("again", 4)])
    }

    @Test func veryLongLinesAreSkippedWithoutBufferingThem() throws {
        let huge = [UInt8](repeating: 0x63, count: 3 * mib + 12_345)
        let input = huge + [0x0A] + huge + [0x0A] + Array("ok\n".utf8) + huge
        #expect(try events(of: input) == [.overlong(1), .overlong(2), .text("ok", 3), .overlong(4)])
    }

    @Test func overlongLineAtTheEndWithoutNewline() throws {
        let long = [UInt8](repeating: 0x64, count: mib + 1)
        #expect(try events(of: Array("x\n".utf8) + long) == [.text("x", 1), .overlong(2)])
    }

    @Test func invalidUTF8IsPassedThroughAsBytes() throws {
        let input: [UInt8] = [0xFF, 0xFE, 0x0A, 0xC3, 0x28, 0x0A, 0xE2, 0x82, 0x0A, 0x00, 0x01, 0x0A, 0xF0, 0x9F, 0x98]
        #expect(
            try events(of: input) == [
                .line([0xFF, 0xFE], 1), .line([0xC3, 0x28], 2), .line([0xE2, 0x82], 3),
                .line([0x00, 0x01], 4), .line([0xF0, 0x9F, 0x98], 5),
            ])
    }

    /// Many lines of mixed lengths, crossing the reader's internal block boundaries.
    @Test(arguments: [false, true])
    func manyLinesSurviveBlockBoundaries(gzip: Bool) throws {
        var rng = SplitMix64(seed: 5)
        var lines: [String] = []
        for i in 0..<40_000 {
            let length = i % 997 == 0 ? Int.random(in: 100_000...300_000, using: &rng) : Int.random(in: 0...120, using: &rng)
            lines.append(String(repeating: Character(UnicodeScalar(UInt8(0x41 + i % 26))), count: length))
        }
        let result = try events(of: lines.joined(separator: "\n") + "\n", gzip: gzip)
        #expect(result.count == lines.count)
        let expected = lines.enumerated().map { LineEvent.text($0.element, $0.offset + 1) }
        if let mismatch = zip(result, expected).first(where: { $0 != $1 }) {
            Issue.record("first mismatch: \(mismatch.0) vs \(mismatch.1)")
        }
    }

    @Test func completeLinesOnlyLeavesTheUnfinishedLineAndResumes() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("growing.log", "a\nbb\nccc")
        var seen: [LineEvent] = []
        var consumed: [UInt8] = []
        let first = LineReader.forEachLine(
            in: try DecodedSources.open(path: path), from: .start, completeLinesOnly: true,
            consumed: { consumed += $0 }
        ) { event in
            if case .line(let bytes, let n) = event { seen.append(.line(Array(bytes), n)) }
        }
        #expect(seen == [.text("a", 1), .text("bb", 2)])
        #expect(first.end == LineReader.Position(bytes: 5, lines: 2))
        #expect(first.fault == nil)
        #expect(consumed == Array("a\nbb\n".utf8))

        // The file grows; reading resumes where the first pass stopped.
        try dir.write("growing.log", "a\nbb\nccc\ndddd\n")
        seen = []
        consumed = []
        let second = LineReader.forEachLine(
            in: try DecodedSources.open(path: path), from: first.end, completeLinesOnly: true,
            consumed: { consumed += $0 }
        ) { event in
            if case .line(let bytes, let n) = event { seen.append(.line(Array(bytes), n)) }
        }
        #expect(seen == [.text("ccc", 3), .text("dddd", 4)])
        #expect(second.end == LineReader.Position(bytes: 14, lines: 4))
        #expect(consumed == Array("ccc\ndddd\n".utf8))
    }

    @Test func consumedSeesEveryByteOnceIncludingOverlongLines() throws {
        let dir = try TemporaryDirectory()
        var input = Array("x\n".utf8) + [UInt8](repeating: 0x65, count: mib + 10) + [0x0A]
        input += Array(randomHexLines(count: 5_000, seed: 8).joined(separator: "\n").utf8)
        let path = try dir.write("in.log", input)
        var consumed: [UInt8] = []
        var count = 0
        let outcome = LineReader.forEachLine(
            in: try DecodedSources.open(path: path), from: .start, completeLinesOnly: false,
            consumed: { consumed += $0 }
        ) { _ in count += 1 }
        #expect(consumed == input)
        #expect(count == 5_002)
        #expect(outcome.end == LineReader.Position(bytes: input.count, lines: 5_002))
    }

    /// The `\r` of a CRLF ending is not content, yet it counts towards the length limit.
    @Test
    func lineOfExactlyTheMaximumWithCRLF() throws {
        let long = [UInt8](repeating: 0x61, count: mib)
        #expect(try events(of: long + [0x0D, 0x0A] + Array("next\r\n".utf8)) == [.line(long, 1), .text("next", 2)])
    }

    /// A growing file whose last, unfinished line is already overlong: the first pass reports it
    /// and skips its bytes; the resumed pass must not read the rest of it as a new line.
    @Test
    func growingOverlongLineIsReportedOnce() throws {
        let dir = try TemporaryDirectory()
        let start = Array("a\n".utf8) + [UInt8](repeating: 0x78, count: mib + mib / 2)
        let path = try dir.write("g.log", start)
        var seen: [LineEvent] = []
        func collect(_ event: LineReader.Event) {
            switch event {
            case .line(let bytes, let n): seen.append(.line(Array(bytes), n))
            case .overlong(let n): seen.append(.overlong(n))
            case .cutOff(let n): seen.append(.cutOff(n))
            }
        }
        let first = LineReader.forEachLine(
            in: try DecodedSources.open(path: path), from: .start, completeLinesOnly: true,
            consumed: nil, collect)
        try dir.write("g.log", start + [UInt8](repeating: 0x78, count: mib / 2) + Array("\nb\n".utf8))
        _ = LineReader.forEachLine(
            in: try DecodedSources.open(path: path), from: first.end, completeLinesOnly: true,
            consumed: nil, collect)
        // One pass over the finished file gives the same events.
        #expect(
            seen.filter {
                if case .line = $0 { return true }
                return false
            } == [.text("a", 1), .text("b", 3)])
        #expect(seen.contains(.overlong(2)))
    }
}
