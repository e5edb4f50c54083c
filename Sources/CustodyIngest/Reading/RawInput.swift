import Foundation

/// The raw bytes a decoded source reads: an open file, or a whole file already read into memory
/// (`DecodedSources.open(contents:)`). `custody run` reads a small file once and uses those bytes
/// for its identity, its audit and its vault copy; reading it from disk for each of them was most
/// of a fresh run's system time over 10,000 small files.
final class RawInput {
    /// The open file; -1 for bytes in memory.
    private let fd: Int32
    private let contents: [UInt8]
    /// Where the next read starts, in memory.
    private var cursor = 0

    /// Reads `fd`, and closes it when done.
    init(fd: Int32) {
        self.fd = fd
        contents = []
    }

    /// Reads `contents`, from its start.
    init(contents: [UInt8]) {
        fd = -1
        self.contents = contents
    }

    deinit { if fd >= 0 { close(fd) } }

    /// As `read(2)`: the bytes read into `buffer` (at most `count`), 0 at the end, or -1 with
    /// `errno` set. Bytes in memory are never an error.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        if fd >= 0 { return Foundation.read(fd, buffer, count) }
        let n = max(0, min(count, contents.count - cursor))
        if n > 0 { contents.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + cursor, byteCount: n) } }
        cursor += n
        return n
    }

    /// Moves to `offset` from the start (clamped to the end in memory); false, with `errno`
    /// set, when a file cannot seek.
    func seek(to offset: Int) -> Bool {
        if fd >= 0 { return lseek(fd, off_t(offset), SEEK_SET) >= 0 }
        cursor = min(max(0, offset), contents.count)
        return true
    }

    /// The input's size in bytes; nil when a file cannot be `fstat`ed.
    var size: Int? {
        guard fd >= 0 else { return contents.count }
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : nil
    }

    /// A second, independent reader of the same bytes, at their start: a file opened again through
    /// `dup` (which shares the file position: the caller reads only the new one from then on), or
    /// the same bytes in memory. Nil, with `errno` set, when `dup` fails.
    func duplicate() -> RawInput? {
        guard fd >= 0 else { return RawInput(contents: contents) }
        let copy = dup(fd)
        guard copy >= 0 else { return nil }
        lseek(copy, 0, SEEK_SET)
        return RawInput(fd: copy)
    }
}
