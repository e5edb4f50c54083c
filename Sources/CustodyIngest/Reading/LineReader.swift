import CLineScan
import CustodyCore
import Foundation

/// Splits a decoded source into lines without unbounded buffering.
///
/// Lines end at `\n` or at a lone `\r` (old Mac line ends); a `\r` before `\n` is dropped; a last line without a newline counts (unless
/// `completeLinesOnly`, for files that may still be growing). A line longer than
/// `maximumLineLength` is reported through `overlong` and skipped, never buffered whole. Line
/// numbers start at 1 and count every line, empty ones included.
public struct LineReader {
    public static let maximumLineLength = 1 << 20
    /// Decoded bytes requested from the source at a time, always into the buffer's front (after
    /// the unfinished line): the inflate writes the bytes, the line scan and the parser read
    /// them while they are still in the core's L2, and the next read writes the same addresses.
    /// Reading as much as the buffer held (up to ~1.25 MiB) at ever new offsets cost the line
    /// scan 50 % more CPU and the inflate 2–3 % (a C loop over ISA-L, Benchmarks/RESULTS.md).
    public static let readSize = 256 * 1024
    /// Line ends found per `custody_newlines` call (at least 64): ~19 KB of regular lines, so
    /// that the parser reads a line soon after the scan brought it into the first-level cache
    /// (48 KiB here). 1,024 (~150 KB) left each line to be fetched again from L2 (3–4 % of a
    /// four-file check's CPU, Benchmarks/RESULTS.md); 128 gained nothing while the reads were
    /// ~1.25 MiB and the scan waited for L3 anyway. `BlockParser`'s threads (one file's check)
    /// use it too: no change there (0.427 → 0.429 s CPU, 11 rounds).
    static let newlineBatch = 128

    public enum Event {
        case line(UnsafeBufferPointer<UInt8>, number: Int)
        case overlong(number: Int)
        /// The bytes of an unfinished line when a fault stopped the source.
        case cutOff(number: Int)
    }

    /// How far into a file's decoded content reading has got: bytes and lines.
    public struct Position: Sendable, Equatable {
        public var bytes: Int
        public var lines: Int

        public init(bytes: Int, lines: Int) {
            self.bytes = bytes
            self.lines = lines
        }

        public static let start = Position(bytes: 0, lines: 0)
    }

    public struct Outcome {
        public var fault: ReadFault?
        /// Where the consumed content ends. Less than the start means the file is shorter than
        /// the start position (it shrank).
        public var end: Position
    }

    /// Reads the whole source, calling `body` for each line in order.
    @discardableResult
    public static func forEachLine(in source: DecodedSource, _ body: (Event) -> Void) -> ReadFault? {
        forEachLine(in: source, from: .start, completeLinesOnly: false, consumed: nil, body).fault
    }

    /// Reads from `start` (skipping that many decoded bytes), calling `body` for each line and
    /// `consumed` with every decoded byte passed over, in order and exactly once (rejected and
    /// overlong lines included): what a vault copy of the content must hold.
    public static func forEachLine(
        in source: DecodedSource, from start: Position, completeLinesOnly: Bool,
        consumed: ((UnsafeRawBufferPointer) -> Void)?,
        _ body: (Event) -> Void
    ) -> Outcome {
        withoutActuallyEscaping(body) { body in
            var visitor = ClosureVisitor(body: body)
            return forEachLine(in: source, from: start, completeLinesOnly: completeLinesOnly, consumed: consumed, visitor: &visitor)
        }
    }

    /// `forEachLine` with the lines given to a visitor, whose code the compiler can inline into
    /// the line loop (a closure is called per line, and what it builds goes through memory).
    static func forEachLine<Visitor: LineVisitor>(
        in source: DecodedSource, from start: Position, completeLinesOnly: Bool,
        consumed: ((UnsafeRawBufferPointer) -> Void)?,
        visitor: inout Visitor
    ) -> Outcome {
        if start.bytes > 0 {
            let skipped = source.skip(bytes: start.bytes)
            if skipped < start.bytes {
                return Outcome(fault: source.fault, end: Position(bytes: skipped, lines: 0))
            }
        }
        let capacity = maximumLineLength + readSize + 1
        let buffer = UnsafeMutableRawBufferPointer(start: ScratchPool.take(byteCount: capacity), count: capacity)
        defer { ScratchPool.give(buffer.baseAddress!, byteCount: capacity) }
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let newlines = UnsafeMutablePointer<UInt32>.allocate(capacity: Self.newlineBatch)
        defer { newlines.deallocate() }
        var lineStart = 0  // first byte of the current, unfinished line
        var end = 0  // end of valid data
        var teed = 0  // bytes before this offset have been passed to `consumed`
        var bufferOffset = start.bytes  // decoded offset of base[0]
        var lineNumber = start.lines
        var skippingOverlong = false
        // Where the overlong line being skipped began: it is reported when its end is seen.
        var overlongStart = 0

        func tee(upTo offset: Int) {
            if offset > teed {
                consumed?(UnsafeRawBufferPointer(start: base + teed, count: offset - teed))
                teed = offset
            }
        }

        while true {
            if lineStart > 0 {
                // Move the unfinished line to the front (usually part of one line: ~100 bytes).
                tee(upTo: lineStart)
                let pending = end - lineStart
                if pending > 0 { memmove(base, base + lineStart, pending) }
                bufferOffset += lineStart
                lineStart = 0
                teed = 0
                end = pending
            }
            // With the unfinished line at the front (at most the limit and a `\r`) there is room.
            let n = source.read(into: UnsafeMutableRawBufferPointer(start: base + end, count: min(readSize, capacity - end)))
            if n == 0 { break }
            // A `\r` that ended the data read so far may be a lone line end: look at it again
            // now that its next byte is known.
            var scan = end > lineStart && base[end - 1] == 0x0D ? end - 1 : end
            end += n
            while scan < end {
                var scanned = 0
                let found = custody_newlines(base + scan, end - scan, newlines, Self.newlineBatch, &scanned)
                for k in 0..<found {
                    let newline = scan + Int(newlines[k])
                    lineNumber += 1
                    if skippingOverlong {
                        skippingOverlong = false
                        visitor.visit(.overlong(number: lineNumber))
                    } else {
                        emit(base, lineStart, newline, lineNumber, &visitor)
                    }
                    lineStart = newline + 1
                }
                scan += scanned
            }
            // Longer than the limit plus a possible `\r`, with no newline yet: skip the rest of it.
            if !skippingOverlong && end - lineStart > maximumLineLength + 1 {
                skippingOverlong = true
                overlongStart = bufferOffset + lineStart
            }
            // While skipping, a last `\r` may still be a lone line end, known only once its next
            // byte is read: it stays, to be scanned again with that byte.
            if skippingOverlong { lineStart = base[end - 1] == 0x0D ? end - 1 : end }
            if lineStart == end {
                tee(upTo: end)
                bufferOffset += end
                lineStart = 0
                end = 0
                teed = 0
            }
        }
        if skippingOverlong {
            if completeLinesOnly && source.fault == nil {
                // Still being written: leave the whole line for the next pass, which reports it
                // once it ends. (Its first bytes were passed to `consumed`; the next pass passes
                // them again from `end`.)
                return Outcome(fault: nil, end: Position(bytes: overlongStart, lines: lineNumber))
            }
            lineNumber += 1
            visitor.visit(.overlong(number: lineNumber))
            lineStart = end
        } else if end > lineStart {
            if source.fault != nil {
                lineNumber += 1
                visitor.visit(.cutOff(number: lineNumber))
                lineStart = end
            } else if !completeLinesOnly {
                lineNumber += 1
                emit(base, lineStart, end, lineNumber, &visitor)
                lineStart = end
            }
        }
        tee(upTo: lineStart)
        return Outcome(fault: source.fault, end: Position(bytes: bufferOffset + lineStart, lines: lineNumber))
    }

    /// Delivers one complete line, without its `\r`; the length limit applies to that content.
    @inline(__always)
    private static func emit<Visitor: LineVisitor>(
        _ base: UnsafeMutablePointer<UInt8>, _ start: Int, _ stop: Int, _ number: Int, _ visitor: inout Visitor
    ) {
        var stop = stop
        if stop > start && base[stop - 1] == 0x0D { stop -= 1 }
        if stop - start > maximumLineLength {
            visitor.visit(.overlong(number: number))
        } else {
            visitor.visit(.line(UnsafeBufferPointer(start: base + start, count: stop - start), number: number))
        }
    }
}

/// What `LineReader.forEachLine(in:from:completeLinesOnly:consumed:visitor:)` gives each line,
/// overlong line and cut-off line to, in order.
protocol LineVisitor {
    mutating func visit(_ event: LineReader.Event)
}

/// The closure form of `LineVisitor`.
private struct ClosureVisitor: LineVisitor {
    let body: (LineReader.Event) -> Void

    @inline(__always)
    mutating func visit(_ event: LineReader.Event) { body(event) }
}
