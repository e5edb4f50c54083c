import CustodyCore
import CustodyIngest
import Foundation
import Testing

/// Where `LineReader` asks its source to write: at most `readSize` bytes a read, always at the
/// front of its buffer, just after the unfinished line, so that the inflate's writes and the
/// line scan's reads stay on the same addresses (in the core's cache) from read to read.
@Suite("LineReader read placement")
struct LineReaderReadPlacementTests {
    /// Serves `bytes` in whatever pieces are asked for, and records each read's buffer.
    final class RecordingSource: DecodedSource {
        let bytes: [UInt8]
        var offset = 0
        var reads: [(start: UnsafeMutableRawPointer, count: Int)] = []

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            reads.append((buffer.baseAddress!, buffer.count))
            let n = min(buffer.count, bytes.count - offset)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return n
        }

        var fault: ReadFault? { nil }
        var isCompressed: Bool { false }
        var compressedBytesRead: Int { offset }
    }

    @Test func readsAreAtMostReadSizeAndAtTheBufferFront() {
        // 3 MiB of 100-byte lines: about twelve reads, each ending inside a line.
        let line = Array(String(repeating: "x", count: 99).utf8) + [0x0A]
        let count = 3 * (1 << 20) / line.count
        let source = RecordingSource(Array([[UInt8]](repeating: line, count: count).joined()))
        var lines = 0
        LineReader.forEachLine(in: source) { event in
            if case .line(let bytes, _) = event, bytes.count == 99 { lines += 1 }
        }
        #expect(lines == count)
        #expect(source.reads.count > 10)
        let front = source.reads[0].start
        for read in source.reads {
            #expect(read.count <= LineReader.readSize)
            // After the unfinished line (less than one line) at the front, not further on.
            let offset = read.start - front
            #expect(offset >= 0 && offset < line.count)
        }
    }

    @Test func aLongUnfinishedLineStaysWholeAcrossReads() {
        // A line longer than several reads (but within the limit) between short ones.
        let long = [UInt8](repeating: 0x6C, count: 3 * LineReader.readSize + 17)
        let input = Array("a\n".utf8) + long + [0x0A] + Array("b\n".utf8)
        let source = RecordingSource(input)
        var seen: [[UInt8]] = []
        LineReader.forEachLine(in: source) { event in
            if case .line(let bytes, _) = event { seen.append(Array(bytes)) }
        }
        #expect(seen == [Array("a".utf8), long, Array("b".utf8)])
        #expect(source.reads.allSatisfy { $0.count <= LineReader.readSize })
    }
}
