import CustodyCore
import Foundation

/// A small file read whole into memory, with the `stat` of the descriptor its bytes came from.
///
/// `custody run` plans, audits and stores a small file from these bytes: its identity, its
/// records, its CRC-32, its vault copy and that copy's SHA-256 all come from one read, so they
/// agree by construction (no change between two reads can split them). Before, each small file
/// was opened four times and read three (identity, copy, audit): over 10,000 small files that
/// was most of a fresh run's system time (Benchmarks/RESULTS.md).
public struct WholeFile: Sendable {
    public var contents: [UInt8]
    public var status: FileIdentity.Status

    /// Files up to this size are read whole when they are planned; larger ones are read from
    /// their path as they are audited. (The vault's pack limit and the inline-copy limit.)
    static let sizeLimit = 1 << 20
    /// At most this many bytes of whole files are read by one run's planning (charged when a
    /// file is planned, never given back): past it, small files are read from their path like
    /// large ones (no more memory, only more reads).
    static let budget = 32 << 20

    /// Reads the regular file at `path` whole when it holds at most `limit` bytes. Nil when it
    /// is larger, when its size changed while it was read, or when reading it failed: the caller
    /// then reads it from its path, which decides what it holds and records a read fault at its
    /// offset (`input.unreadable_file`), keeping the records before it. Throws what
    /// `DecodedSources.open` would: a file that cannot be opened or is not a regular file.
    /// `readBytes` is `read(2)`; tests pass one that fails.
    static func read(
        path: String, limit: Int = sizeLimit,
        readBytes: (Int32, UnsafeMutableRawPointer, Int) -> Int = { Foundation.read($0, $1, $2) }
    ) throws(ReadFault) -> WholeFile? {
        // Non-blocking, as `DecodedSources.open`: a FIFO put in place of a log cannot hang the
        // run; only regular files are read.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReadFault(offset: 0, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw ReadFault(offset: 0, message: "not a regular file") }
        guard st.st_size <= limit else { return nil }
        // One byte more than the size: a file that grew since the `fstat` is seen to have grown.
        let want = Int(st.st_size) + 1
        var failure: Int32 = 0
        let contents = [UInt8](unsafeUninitializedCapacity: want) { buffer, count in
            var n = 0
            while n < want {
                let asked = want - n
                let got = readBytes(fd, buffer.baseAddress! + n, asked)
                if got > 0 {
                    n += got
                    // A regular file's read returns fewer bytes than asked only at its end: the
                    // size reached so, the file has not grown, and a second read only to be told
                    // so (0 bytes) is not needed (10,000 `read` calls over 10,000 small files).
                    if got < asked && n == Int(st.st_size) { break }
                } else if got == 0 {
                    break
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
            count = n
        }
        // A failed read is not this file's verdict: dropping the file here would lose its
        // records and its unreadable-file finding. Read from its path, the fault is recorded.
        guard failure == 0, contents.count == Int(st.st_size) else { return nil }
        return WholeFile(contents: contents, status: FileIdentity.Status(st))
    }
}
