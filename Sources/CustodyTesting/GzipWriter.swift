import CZlib
import Foundation

/// Writes gzip through the system zlib, one or more members, for fixtures and sample logs.
public final class GzipWriter {
    private var stream = z_stream()
    private let handle: FileHandle
    private let level: Int32
    private var open = false
    private let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 64 * 1024)

    /// Creates (or truncates) `path`.
    public init(path: String, level: Int32 = 6) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        self.level = level
    }

    deinit { out.deallocate() }

    /// Compresses `bytes` into the current member (starting one if needed).
    public func write(_ bytes: [UInt8]) throws {
        if !open { try startMember() }
        try bytes.withUnsafeBufferPointer { buffer in
            stream.next_in = UnsafeMutablePointer(mutating: buffer.baseAddress)
            stream.avail_in = UInt32(buffer.count)
            try pump(flush: Z_NO_FLUSH)
        }
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

    /// Ends the last member and closes the file.
    public func close() throws {
        if open { try finishMember() }
        try handle.close()
    }

    private func startMember() throws {
        stream = z_stream()
        guard custody_deflateInit2(&stream, level, 15 + 16) == Z_OK else { throw GzipWriterError.zlib }
        open = true
    }

    private func pump(flush: Int32) throws {
        repeat {
            stream.next_out = out
            stream.avail_out = 64 * 1024
            let status = deflate(&stream, flush)
            guard status != Z_STREAM_ERROR else { throw GzipWriterError.zlib }
            let produced = 64 * 1024 - Int(stream.avail_out)
            if produced > 0 { handle.write(Data(bytes: out, count: produced)) }
            if flush == Z_FINISH && status == Z_STREAM_END { return }
        } while stream.avail_out == 0 || (flush == Z_FINISH)
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

public enum GzipWriterError: Error { case zlib }
