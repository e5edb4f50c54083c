import CustodyCore
import Foundation

/// An uncompressed file, read with `read(2)` (or from memory, `RawInput`).
final class PlainFileSource: DecodedSource {
    private let file: RawInput
    private(set) var fault: ReadFault?
    private(set) var compressedBytesRead = 0
    let isCompressed = false

    init(file: RawInput) { self.file = file }

    /// Plain files seek instead of reading what they skip.
    func skip(bytes: Int) -> Int {
        guard let size = file.size else { return 0 }
        let target = min(bytes, size)
        guard file.seek(to: target) else { return 0 }
        compressedBytesRead = target
        return target
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard fault == nil else { return 0 }
        while true {
            let n = file.read(into: buffer.baseAddress!, count: buffer.count)
            if n >= 0 {
                compressedBytesRead += n
                return n
            }
            if errno == EINTR { continue }
            fault = ReadFault(offset: compressedBytesRead, message: "read error: \(String(cString: strerror(errno)))")
            return 0
        }
    }
}
