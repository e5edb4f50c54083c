import CZlib
import Foundation

/// Writes gzip through the system zlib: one or more members, streamed through a fixed buffer.
/// Used for vault copies and evidence packages, and by tests for fixtures.
public final class GzipWriter {
    private var stream = z_stream()
    private let fd: Int32
    private let path: String
    private let level: Int32
    private var open = false
    private let out = UnsafeMutablePointer<UInt8>.allocate(capacity: GzipWriter.bufferSize)
    /// Compressed bytes written so far.
    public private(set) var bytesWritten = 0

    static let bufferSize = 64 * 1024

    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Creates (or truncates) `path` with the given permissions.
    public init(path: String, level: Int32 = 6, mode: mode_t = 0o644) throws {
        fd = Foundation.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        self.path = path
        self.level = level
    }

    deinit {
        if open { deflateEnd(&stream) }
        out.deallocate()
        if fd >= 0 { Foundation.close(fd) }
    }

    /// Compresses `bytes` into the current member (starting one if needed).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        if !open { try startMember() }
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(bytes.count)
        try pump(flush: Z_NO_FLUSH)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Ends the current member; the next write starts a new one (a multi-member file).
    public func finishMember() throws {
        if !open { try startMember() }
        stream.next_in = nil
        stream.avail_in = 0
        try pump(flush: Z_FINISH)
        deflateEnd(&stream)
        open = false
    }

    /// Ends the last member, optionally flushes the file to disk, and closes it.
    public func close(sync: Bool = false) throws {
        if open { try finishMember() }
        if sync && fsync(fd) != 0 { throw Failure(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
    }

    private func startMember() throws {
        stream = z_stream()
        guard custody_deflateInit2(&stream, level, 15 + 16) == Z_OK else { throw Failure(path: path, reason: "zlib deflateInit2 failed") }
        open = true
    }

    private func pump(flush: Int32) throws {
        while true {
            stream.next_out = out
            stream.avail_out = UInt32(Self.bufferSize)
            let status = deflate(&stream, flush)
            guard status != Z_STREAM_ERROR else { throw Failure(path: path, reason: "zlib deflate failed") }
            try writeAll(out, Self.bufferSize - Int(stream.avail_out))
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
            } else if stream.avail_out != 0 {
                return
            }
        }
    }

    private func writeAll(_ p: UnsafePointer<UInt8>, _ count: Int) throws {
        var done = 0
        while done < count {
            let n = Foundation.write(fd, p + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, reason: String(cString: strerror(errno)))
            }
            done += n
        }
        bytesWritten += count
    }

    /// gzip-compresses bytes in memory as one member.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        guard custody_deflateInit2(&stream, level, 15 + 16) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                _ = deflate(&stream, Z_FINISH)
                return outBuf.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }
}
