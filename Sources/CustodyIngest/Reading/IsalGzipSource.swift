import CIsal
import CustodyCore
import Foundation

/// A gzip file inflated by Intel ISA-L, with zlib (`GzipFileSource`) as the judge of anything
/// ISA-L does not take cleanly.
///
/// ISA-L decodes one member at a time and checks its CRC-32 and ISIZE. Whenever it rejects a
/// member, the input ends inside one, or a member's header carries a CRC of its own (FHCRC),
/// the rest of the file is handed to zlib from that member's first byte, skipping the bytes
/// already returned: every fault is then found and described by the zlib path, at the same
/// offset, and every byte returned before it is kept. Bytes after a member that do not start
/// another (zero padding, garbage) are handed to zlib the same way. A file ISA-L reads whole
/// never touches zlib.
final class IsalGzipSource: DecodedSource {
    static let inputCapacity = 256 * 1024

    private let file: RawInput
    private let state: UnsafeMutableRawPointer
    private let input: UnsafeMutablePointer<UInt8>
    /// File offset of `input[0]`.
    private var inputFileOffset = 0
    private var inputCount = 0
    private var nextIn: UnsafePointer<UInt8>?
    private var availIn: UInt32 = 0
    private var endOfFile = false
    /// A member ended; the next bytes decide what follows.
    private var betweenMembers = false
    /// Whether the current member's header flags were looked at.
    private var headerChecked = false
    /// File offset of the current member's first byte, and bytes returned from it so far.
    private var memberStart = 0
    private var memberOutput = 0
    private var finished = false
    private var readFault: ReadFault?
    /// Set once zlib has taken over; from then on every call goes to it.
    private var zlib: GzipFileSource?
    let isCompressed = true

    /// Nil when ISA-L is not available (not built in, or out of memory).
    init?(file: RawInput) {
        guard let state = custody_isal_new() else { return nil }
        self.file = file
        self.state = state
        input = .allocate(capacity: Self.inputCapacity)
    }

    deinit {
        custody_isal_free(state)
        input.deallocate()
    }

    /// Offset in the file of the next byte not yet given to ISA-L.
    private var position: Int { inputFileOffset + (inputCount - Int(availIn)) }

    var compressedBytesRead: Int { zlib?.compressedBytesRead ?? position }
    var fault: ReadFault? { zlib?.fault ?? readFault }
    /// Whether zlib took over this file (for tests).
    var handedToZlib: Bool { zlib != nil }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if let zlib { return zlib.read(into: buffer) }
        guard readFault == nil, !finished, buffer.count > 0 else { return 0 }
        var nextOut: UnsafeMutablePointer<UInt8>? = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var availOut = UInt32(buffer.count)
        while availOut > 0 {
            if availIn == 0 || (betweenMembers && availIn < 2) || (!headerChecked && availIn < 4) {
                if !endOfFile {
                    refill()
                    if readFault != nil { break }
                    continue
                }
            }
            if betweenMembers {
                if availIn == 0 {  // end of file right after a member
                    finished = true
                    break
                }
                if availIn >= 2 && nextIn![0] == 0x1F && nextIn![1] == 0x8B {
                    custody_isal_reset(state)
                    betweenMembers = false
                    headerChecked = false
                    memberStart = position
                    memberOutput = 0
                    continue
                }
                // Padding or garbage: zlib's rules decide, from here.
                handOver(at: position, betweenMembers: true, skipping: 0)
                break
            }
            if !headerChecked {
                headerChecked = true
                // FHCRC (flag bit 1): zlib checks the header's CRC-16; ISA-L is left out of it.
                // Reserved flags (bits 5–7): zlib refuses the member, ISA-L read past them.
                if availIn >= 4 && nextIn![3] & 0xE2 != 0 {
                    handOver(at: memberStart, betweenMembers: false, skipping: 0)
                    break
                }
            }
            let outBefore = availOut
            let inBefore = availIn
            let status = custody_isal_inflate(state, &nextIn, &availIn, &nextOut, &availOut)
            memberOutput += Int(outBefore - availOut)
            if status == CUSTODY_ISAL_MEMBER_END {
                betweenMembers = true
                continue
            }
            let stalled = outBefore == availOut && inBefore == availIn
            if status != CUSTODY_ISAL_OK || stalled {
                // Rejected, truncated, or no progress: zlib decodes this member again.
                handOver(at: memberStart, betweenMembers: false, skipping: memberOutput)
                break
            }
        }
        let produced = buffer.count - Int(availOut)
        if produced == 0, let zlib { return zlib.read(into: buffer) }
        return produced
    }

    /// From now on zlib reads the file, from `offset`, first skipping `skipping` decoded bytes
    /// (those this source already returned).
    private func handOver(at offset: Int, betweenMembers: Bool, skipping: Int) {
        guard let copy = file.duplicate() else {
            readFault = ReadFault(offset: offset, message: "cannot duplicate the file descriptor: \(String(cString: strerror(errno)))")
            return
        }
        let source = GzipFileSource(file: copy, startOffset: offset, betweenMembers: betweenMembers)
        if skipping > 0 { _ = source.skip(bytes: skipping) }
        zlib = source
    }

    /// Keeps unread input at the front and reads more after it.
    private func refill() {
        let unread = Int(availIn)
        let start = position
        if unread > 0, let next = nextIn, next != UnsafePointer(input) {
            input.update(from: next, count: unread)
        }
        inputFileOffset = start
        inputCount = unread
        inputCount = CompressedInput.fill(
            file, input, count: inputCount, capacity: Self.inputCapacity, fileOffset: inputFileOffset,
            endOfFile: &endOfFile, fault: &readFault)
        nextIn = UnsafePointer(input)
        availIn = UInt32(inputCount)
    }
}

/// Which library inflates gzip input.
public enum GzipInflater: String, Sendable, CaseIterable {
    /// Intel ISA-L, with zlib deciding every fault (see `IsalGzipSource`).
    case isal
    /// zlib alone.
    case zlib

    /// Whether ISA-L was found when the package was built.
    public static let isalAvailable = custody_isal_available() != 0

    /// ISA-L when it was built in, unless `CUSTODY_INFLATE=zlib` is set in the environment
    /// (for comparisons and tests).
    public static let preferred: GzipInflater = {
        if let forced = ProcessInfo.processInfo.environment["CUSTODY_INFLATE"], forced == "zlib" { return .zlib }
        return isalAvailable ? .isal : .zlib
    }()
}
