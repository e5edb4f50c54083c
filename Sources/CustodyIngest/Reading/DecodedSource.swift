import CustodyCore
import Foundation

/// A file's content as decoded bytes: plain files as they are, gzip files inflated.
///
/// `read` fills the buffer and returns how many bytes it wrote; 0 means the end, or a fault that
/// `fault` then describes. Bytes decoded before a fault are returned first.
public protocol DecodedSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int
    var fault: ReadFault? { get }
    /// Whether the file was gzip-compressed (detected by its magic bytes, not its name).
    var isCompressed: Bool { get }
    /// Bytes of the file consumed so far.
    var compressedBytesRead: Int { get }
    /// Skips `bytes` decoded bytes; returns how many were skipped (fewer at the end or a fault).
    func skip(bytes: Int) -> Int
}

extension DecodedSource {
    public func skip(bytes: Int) -> Int {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { scratch.deallocate() }
        var skipped = 0
        while skipped < bytes {
            let n = read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(scratch.count, bytes - skipped)]))
            if n == 0 { break }
            skipped += n
        }
        return skipped
    }
}

public enum DecodedSources {
    /// Opens a file, choosing plain or gzip decoding by its first two bytes (`1f 8b`); gzip is
    /// inflated by `inflater` (ISA-L when built in, see `GzipInflater.preferred`).
    public static func open(path: String, inflater: GzipInflater = .preferred) throws(ReadFault) -> DecodedSource {
        // Non-blocking, so that a FIFO put in place of a log cannot hang the run that holds the
        // lock; only regular files are read.
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw ReadFault(offset: 0, message: "cannot open: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw ReadFault(offset: 0, message: "not a regular file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var head = [UInt8](repeating: 0, count: OtherCompression.headLength)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, OtherCompression.headLength, 0) }
        if n < 0 {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ReadFault(offset: 0, message: "cannot read: \(message)")
        }
        return try open(RawInput(fd: fd), head: head[0..<max(0, n)], inflater: inflater)
    }

    /// Decodes a whole file already read into memory (`contents`) exactly as `open(path:)`
    /// decodes the file: the same choice of decoder, the same bytes, the same faults at the same
    /// offsets. `custody run` reads a small file once and decodes it from memory.
    public static func open(contents: [UInt8], inflater: GzipInflater = .preferred) throws(ReadFault) -> DecodedSource {
        try open(RawInput(contents: contents), head: contents.prefix(OtherCompression.headLength), inflater: inflater)
    }

    /// Whether `open(contents:)` reads `bytes` as they are: they start with neither gzip's magic
    /// nor another compressor's. Only then can a gzip file's decoded bytes be read in its place
    /// (`custody run` scans a small gzip file from what planning decoded of it); decoded bytes that
    /// look compressed themselves would be decoded again, or refused.
    public static func readsAsPlain(_ bytes: [UInt8]) -> Bool {
        let head = bytes.prefix(OtherCompression.headLength)
        return !head.starts(with: [0x1F, 0x8B]) && OtherCompression.identify(head) == nil
    }

    /// Chooses plain or gzip decoding by the input's first bytes, `head`.
    private static func open(_ file: RawInput, head magic: ArraySlice<UInt8>, inflater: GzipInflater) throws(ReadFault) -> DecodedSource {
        if magic.starts(with: [0x1F, 0x8B]) {
            if inflater == .isal, let source = IsalGzipSource(file: file) { return source }
            return GzipFileSource(file: file)
        }
        // Fail closed with the cause: read as text, another compressor's bytes would only be a
        // file of rejected lines.
        if let other = OtherCompression.identify(magic) { throw ReadFault(offset: 0, message: other.unsupported) }
        return PlainFileSource(file: file)
    }

    /// The library that decoded `source` so far: nil for plain files; `.zlib` once zlib has
    /// taken over a file from ISA-L (a fault, FHCRC or bytes after a member).
    public static func inflater(of source: DecodedSource) -> GzipInflater? {
        if let isal = source as? IsalGzipSource { return isal.handedToZlib ? .zlib : .isal }
        return source is GzipFileSource ? .zlib : nil
    }
}
