import CustodyCore
import Foundation

/// Reading compressed input into an inflater's buffer, shared by the zlib and ISA-L sources.
enum CompressedInput {
    /// Reads once more into `buffer[count..<capacity]` (retrying on EINTR) and returns the new
    /// count; sets `endOfFile` at the end, or `fault` (at file offset `fileOffset + count`) on
    /// a read error. Nothing is read when the buffer is full or the end was already reached.
    static func fill(
        _ file: RawInput, _ buffer: UnsafeMutablePointer<UInt8>, count: Int, capacity: Int, fileOffset: Int,
        endOfFile: inout Bool, fault: inout ReadFault?
    ) -> Int {
        var count = count
        while !endOfFile && count < capacity {
            let n = file.read(into: buffer + count, count: capacity - count)
            if n > 0 {
                count += n
                break
            } else if n == 0 {
                endOfFile = true
            } else if errno != EINTR {
                fault = ReadFault(offset: fileOffset + count, message: "read error: \(String(cString: strerror(errno)))")
                break
            }
        }
        return count
    }
}
