import CustodyCore
import CustodyIngest
import Foundation
import Testing

/// A lone CR is a line end like LF: two records are never merged into one line.
@Suite("Lone carriage returns")
struct LoneCarriageReturnTests {
    /// Hands out its bytes `chunk` at a time, so that a CR can end one read and its next byte
    /// start the next.
    final class ChunkedSource: DecodedSource {
        let bytes: [UInt8]
        let chunk: Int
        var offset = 0
        init(_ bytes: [UInt8], chunk: Int) {
            self.bytes = bytes
            self.chunk = chunk
        }
        func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            let n = min(chunk, buffer.count, bytes.count - offset)
            if n > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.withUnsafeBytes { $0 }[offset..<(offset + n)])) }
            offset += n
            return n
        }
        var fault: ReadFault? { nil }
        var isCompressed: Bool { false }
        var compressedBytesRead: Int { offset }
    }

    func lines(_ bytes: [UInt8], chunk: Int) -> [String] {
        var out: [String] = []
        LineReader.forEachLine(in: ChunkedSource(bytes, chunk: chunk)) { event in
            if case .line(let line, _) = event { out.append(String(decoding: line, as: UTF8.self)) }
        }
        return out
    }

    @Test func crAtTheEndOfARead() {
        let text = Array("first\rsecond\r\nthird\rfourth".utf8)
        let expected = ["first", "second", "third", "fourth"]
        for chunk in 1...text.count {
            #expect(lines(text, chunk: chunk) == expected, "chunk \(chunk)")
        }
    }

    @Test func crlfSplitAcrossReadsIsOneLineEnd() {
        let text = Array("a\r\nb\r\nc\r\n".utf8)
        for chunk in 1...text.count {
            #expect(lines(text, chunk: chunk) == ["a", "b", "c"], "chunk \(chunk)")
        }
    }

    @Test func recordsSeparatedByLoneCRsAreTwoRecords() async throws {
        let dir = try TemporaryDirectory()
        let text =
            #"{"ts":"2026-10-11T12:00:00+08:00","user":"u1","event":"verify_phone"}"# + "\r"
            + #"{"ts":"2026-10-11T12:00:01+08:00","user":"u2","event":"post"}"# + "\r"
        let path = try dir.write("mac.jsonl", text)
        let report = try await runCheck([path], policy: try loadPolicy(minimumDays: 1), asOf: CivilDay(iso: "2026-10-12")!, parallelism: 1)
        #expect(report.inputs.records == 2)
        #expect(report.inputs.rejectedLines == 0)
        #expect(report.realName.violatingUsers.map(\.user) == ["u2"])
    }
}

/// A lone `\r` that ends an overlong line is its line end even when it is the last byte of a
/// read (once it was not looked at again, and the next line was swallowed with the long one).
@Suite("Lone carriage return after an overlong line")
struct OverlongLoneCarriageReturnTests {
    @Test func loneCRAtTheEndOfAReadEndsTheOverlongLine() {
        // 1025 reads of 1 KiB: the `\r` is the last byte of the last of them.
        let long = [UInt8](repeating: 0x78, count: 1025 * 1024 - 1) + [0x0D]
        let bytes = long + Array("next\nlast".utf8)
        var events: [String] = []
        let outcome = LineReader.forEachLine(
            in: LoneCarriageReturnTests.ChunkedSource(bytes, chunk: 1024), from: .start, completeLinesOnly: false, consumed: nil
        ) { event in
            switch event {
            case .line(let line, let number): events.append("\(number):\(String(decoding: line, as: UTF8.self))")
            case .overlong(let number): events.append("\(number):overlong")
            case .cutOff(let number): events.append("\(number):cut off")
            }
        }
        #expect(events == ["1:overlong", "2:next", "3:last"])
        #expect(outcome.end == LineReader.Position(bytes: bytes.count, lines: 3))
    }

    @Test func overlongLastLineEndingInCRConsumesEveryByte() {
        let bytes = Array("a\n".utf8) + [UInt8](repeating: 0x78, count: 1025 * 1024 - 1) + [0x0D]
        var numbers: [Int] = []
        let outcome = LineReader.forEachLine(
            in: LoneCarriageReturnTests.ChunkedSource(bytes, chunk: 1024), from: .start, completeLinesOnly: false, consumed: nil
        ) { event in
            if case .overlong(let number) = event { numbers.append(number) }
        }
        #expect(numbers == [2])
        #expect(outcome.end == LineReader.Position(bytes: bytes.count, lines: 2))
    }
}
