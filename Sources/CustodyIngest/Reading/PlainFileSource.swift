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
