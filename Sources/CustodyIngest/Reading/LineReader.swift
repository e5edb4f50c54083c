import CustodyCore
import Foundation

/// Splits a decoded source into lines without unbounded buffering.
///
/// Lines end at `\n`; a `\r` before it is dropped; a last line without a newline counts. A line
/// longer than `maximumLineLength` is reported through `overlong` and skipped, never buffered
/// whole. Line numbers start at 1 and count every line, empty ones included.
public struct LineReader {
    public static let maximumLineLength = 1 << 20
    /// Decoded bytes requested from the source at a time.
    public static let readSize = 256 * 1024

    public enum Event {
        case line(UnsafeBufferPointer<UInt8>, number: Int)
        case overlong(number: Int)
        /// The bytes of an unfinished line when a fault stopped the source.
        case cutOff(number: Int)
    }

    /// Reads the whole source, calling `body` for each line in order. Returns the fault that
    /// stopped the source early, if any.
    @discardableResult
    public static func forEachLine(in source: DecodedSource, _ body: (Event) -> Void) -> ReadFault? {
        let capacity = maximumLineLength + readSize + 1
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var start = 0          // first byte of the current, unfinished line
        var end = 0            // end of valid data
        var lineNumber = 0
        var skippingOverlong = false

        while true {
            if end + readSize > capacity {
                // Move the unfinished line to the front to make room.
                let pending = end - start
                if pending > 0 && start > 0 { memmove(base, base + start, pending) }
                start = 0
                end = pending
            }
            let n = source.read(into: UnsafeMutableRawBufferPointer(start: base + end, count: capacity - end))
            if n == 0 { break }
            var scan = end
            end += n
            while scan < end, let hit = memchr(base + scan, 0x0A, end - scan) {
                let newline = UnsafeMutablePointer<UInt8>(OpaquePointer(hit)) - base
                if skippingOverlong {
                    skippingOverlong = false
                } else {
                    lineNumber += 1
                    if newline - start > maximumLineLength {
                        body(.overlong(number: lineNumber))
                    } else {
                        emit(base, start, newline, lineNumber, body)
                    }
                }
                start = newline + 1
                scan = start
            }
            if !skippingOverlong && end - start > maximumLineLength {
                lineNumber += 1
                body(.overlong(number: lineNumber))
                skippingOverlong = true
            }
            if skippingOverlong { start = end }
            if start == end { start = 0; end = 0 }
        }
        if end > start && !skippingOverlong {
            lineNumber += 1
            if source.fault != nil {
                body(.cutOff(number: lineNumber))
            } else {
                emit(base, start, end, lineNumber, body)
            }
        }
        return source.fault
    }

    @inline(__always)
    private static func emit(_ base: UnsafeMutablePointer<UInt8>, _ start: Int, _ stop: Int, _ number: Int, _ body: (Event) -> Void) {
        var stop = stop
        if stop > start && base[stop - 1] == 0x0D { stop -= 1 }
        body(.line(UnsafeBufferPointer(start: base + start, count: stop - start), number: number))
    }
}
