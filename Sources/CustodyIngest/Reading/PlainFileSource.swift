import CustodyCore
import Foundation

/// An uncompressed file, read with `read(2)`.
final class PlainFileSource: DecodedSource {
    private let fd: Int32
    private(set) var fault: ReadFault?
    private(set) var compressedBytesRead = 0
    let isCompressed = false

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Plain files seek instead of reading what they skip.
    func skip(bytes: Int) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        let target = min(bytes, Int(st.st_size))
        guard lseek(fd, off_t(target), SEEK_SET) >= 0 else { return 0 }
        compressedBytesRead = target
        return target
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard fault == nil else { return 0 }
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, buffer.count)
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
