import CZlib
import CustodyCore
import Foundation

/// A gzip file inflated through the system zlib with fixed-size buffers.
///
/// Every member of a multi-member file is read, and each member's CRC-32 and length are
/// checked: a mismatch, a truncated member or bytes after a member that do not start another
/// one are faults, reported with the file offset where inflation stopped. Zero bytes after the
/// last member (tape or block padding) are ignored, as GNU gzip does.
///
/// The trailer is checked here rather than by zlib, because zlib 1.2's table-driven CRC-32 was
/// 7% of a check's time and `CRC32` is 2.4 to 5 times faster (Benchmarks/RESULTS.md). A member
/// whose header carries its own CRC (FHCRC, rare) is left to zlib entirely.
final class GzipFileSource: DecodedSource {
    static let inputCapacity = 256 * 1024

    private let file: RawInput
    private var stream = z_stream()
    private let input: UnsafeMutablePointer<UInt8>
    /// File offset of `input[0]`.
    private var inputFileOffset = 0
    private var inputCount = 0
    private var endOfFile = false
    private var betweenMembers = false
    private var finished = false
    private var initialised = false
    /// Whether this member's trailer is checked here (nil until its header flags are seen).
    private var checkingTrailer: Bool?
    private var memberCRC: UInt32 = 0
    private var memberLength: UInt32 = 0
    /// The last eight bytes consumed before the current input fill, the latest in the top byte
    /// (a trailer may straddle two fills).
    private var consumedTail: UInt64 = 0
    private(set) var fault: ReadFault?
    let isCompressed = true

    /// Reads `file` from `startOffset` (where a member starts, or, with `betweenMembers`, where
    /// one has just ended): `IsalGzipSource` hands a member over to zlib this way.
    init(file: RawInput, startOffset: Int = 0, betweenMembers: Bool = false) {
        self.file = file
        input = .allocate(capacity: Self.inputCapacity)
        self.betweenMembers = betweenMembers
        inputFileOffset = startOffset
        if startOffset != 0 && !file.seek(to: startOffset) {
            fault = ReadFault(offset: startOffset, message: "cannot seek: \(String(cString: strerror(errno)))")
        }
        // 15 + 16: a 32 KiB window and a gzip wrapper (header, CRC-32 and length checked by zlib).
        if custody_inflateInit2(&stream, 15 + 16) == Z_OK {
            initialised = true
        } else if fault == nil {
            fault = ReadFault(offset: 0, message: "zlib could not be initialised")
        }
    }

    deinit {
        if initialised { inflateEnd(&stream) }
        input.deallocate()
    }

    /// Offset in the file of the next byte zlib would consume.
    private var position: Int { inputFileOffset + (inputCount - Int(stream.avail_in)) }

    var compressedBytesRead: Int { position }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard fault == nil, !finished, buffer.count > 0 else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(buffer.count)
        while stream.avail_out > 0 {
            if stream.avail_in == 0 || (betweenMembers && stream.avail_in < 2 && !endOfFile)
                || (checkingTrailer == nil && stream.avail_in < 4 && !endOfFile)
            {
                refill()
                if fault != nil { break }
            }
            if betweenMembers {
                if !startNextMember() { break }
                continue
            }
            if checkingTrailer == nil { chooseTrailerCheck() }
            let before = stream.next_out!
            let status = inflate(&stream, Z_NO_FLUSH)
            if checkingTrailer == true {
                let produced = stream.next_out! - before
                memberCRC = CRC32.update(memberCRC, UnsafeRawBufferPointer(start: before, count: produced))
                memberLength &+= UInt32(truncatingIfNeeded: produced)
            }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                if checkingTrailer == true { checkTrailer() }
                betweenMembers = true
            case Z_BUF_ERROR:
                // No progress without more input: the loop refills, or at the end of the file the
                // member is truncated. (Only once zlib has given out every byte it could: the
                // bytes before a truncation do not depend on the sizes of the reads.)
                if stream.avail_in != 0 {
                    fault = ReadFault(offset: position, message: "zlib could not make progress")
                } else if endOfFile {
                    fault = ReadFault(offset: position, message: "unexpected end of file: the gzip member is truncated")
                }
            case Z_DATA_ERROR:
                let message = stream.msg.map { String(cString: $0) } ?? "invalid compressed data"
                // zlib reports a trailer mismatch after consuming the 4-byte field: point at its first byte.
                let trailerField = message == "incorrect data check" || message == "incorrect length check"
                let what =
                    message == "incorrect data check"
                    ? "CRC-32 mismatch" : message == "incorrect length check" ? "length (ISIZE) mismatch" : "corrupt gzip data"
                fault = ReadFault(offset: position - (trailerField ? 4 : 0), message: "\(what): \(message)")
            case Z_MEM_ERROR:
                fault = ReadFault(offset: position, message: "zlib ran out of memory")
            default:
                fault = ReadFault(offset: position, message: "zlib error \(status)")
            }
            if fault != nil { break }
        }
        return buffer.count - Int(stream.avail_out)
    }

    /// At a member's first byte: check its trailer here, unless its header has a CRC of its
    /// own, which only zlib checks (and then zlib checks the trailer too).
    private func chooseTrailerCheck() {
        let hasHeaderCRC = stream.avail_in >= 4 && stream.next_in[3] & 0x02 != 0
        checkingTrailer = !hasHeaderCRC
        inflateValidate(&stream, hasHeaderCRC ? 1 : 0)
        memberCRC = 0
        memberLength = 0
    }

    /// The member just ended: its last eight consumed bytes are the CRC-32 and ISIZE fields.
    private func checkTrailer() {
        let consumed = inputCount - Int(stream.avail_in)
        var trailer: UInt64 = 0
        for k in 0..<8 {
            let back = 8 - k  // bytes before the end of the consumed input
            let byte =
                back <= consumed ? input[consumed - back] : UInt8(truncatingIfNeeded: consumedTail >> UInt64(8 * (8 - (back - consumed))))
            trailer |= UInt64(byte) << UInt64(8 * k)
        }
        let storedCRC = UInt32(truncatingIfNeeded: trailer)
        let storedLength = UInt32(truncatingIfNeeded: trailer >> 32)
        if storedCRC != memberCRC {
            fault = ReadFault(offset: position - 8, message: "CRC-32 mismatch: incorrect data check")
        } else if storedLength != memberLength {
            fault = ReadFault(offset: position - 4, message: "length (ISIZE) mismatch: incorrect length check")
        }
        checkingTrailer = nil
    }

    /// After a member ends: another member, zero padding to the end, or a fault.
    private func startNextMember() -> Bool {
        if stream.avail_in == 0 && endOfFile {
            finished = true
            return false
        }
        let next = stream.next_in!
        if next[0] == 0 {
            return skipZeroPadding()
        }
        if stream.avail_in >= 2 && next[0] == 0x1F && next[1] == 0x8B {
            inflateReset(&stream)
            betweenMembers = false
            checkingTrailer = nil
            return true
        }
        fault = ReadFault(offset: position, message: "trailing garbage after the last gzip member")
        return false
    }

    private func skipZeroPadding() -> Bool {
        while true {
            let next = stream.next_in!
            for i in 0..<Int(stream.avail_in) where next[i] != 0 {
                stream.next_in = next + i
                stream.avail_in -= UInt32(i)
                fault = ReadFault(offset: position, message: "trailing garbage after the last gzip member")
                return false
            }
            stream.avail_in = 0
            if endOfFile {
                finished = true
                return false
            }
            refill()
            if fault != nil { return false }
        }
    }

    /// Keeps unread input at the front and reads more after it.
    private func refill() {
        let unread = Int(stream.avail_in)
        let start = position
        rememberConsumedTail(inputCount - unread)
        if unread > 0, let next = stream.next_in, next != input {
            input.update(from: next, count: unread)
        }
        inputFileOffset = start
        inputCount = unread
        inputCount = CompressedInput.fill(
            file, input, count: inputCount, capacity: Self.inputCapacity, fileOffset: inputFileOffset,
            endOfFile: &endOfFile, fault: &fault)
        stream.next_in = input
        stream.avail_in = UInt32(inputCount)
    }

    /// Keeps the last eight of all bytes consumed so far in `consumedTail`, before a refill
    /// overwrites the first `consumed` input bytes.
    private func rememberConsumedTail(_ consumed: Int) {
        for i in max(0, consumed - 8)..<consumed {
            consumedTail = consumedTail >> 8 | UInt64(input[i]) << 56
        }
    }
}
