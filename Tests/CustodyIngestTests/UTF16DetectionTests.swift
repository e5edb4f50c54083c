import CustodyCore
import Foundation
import Testing

@testable import CustodyIngest

/// A log saved as UTF-16 (as some Windows tools write it) is not read as records, and the
/// rejection says why: the encoding, not an unknown format.
@Suite("UTF-16 logs are named as such")
struct UTF16DetectionTests {
    let policy = try! loadPolicy()
    let lines = (0..<40).map { #"{"ts":"2026-10-10T10:00:\#(10 + $0)Z","user":"u\#($0)","event":"post"}"# }

    func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
        var bytes: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
        for unit in text.utf16 {
            let (high, low) = (UInt8(unit >> 8), UInt8(unit & 0xFF))
            bytes += bigEndian ? [high, low] : [low, high]
        }
        return bytes
    }

    @Test(arguments: [false, true])
    func everyLineIsRejectedAsUTF16(bigEndian: Bool) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("windows.jsonl", utf16(lines.joined(separator: "\n") + "\n", bigEndian: bigEndian))
        let audit = FileAudit.scan(path: path, index: 0, policy: policy, format: .auto)
        #expect(audit.records == 0)
        // Little-endian text ends with the newline's NUL, after the last `0A`: a 41st line.
        #expect(audit.issues.rejectedLines == (bigEndian ? 40 : 41))
        #expect(audit.issues.firstRejectionCause == Rejection.utf16Text.cause)
        #expect(audit.issues.firstRejectedLines.first == 1)
    }

    @Test func utf8WithAStrayNulIsNotCalledUTF16() {
        let odd: [[UInt8]] = [
            Array("hello\u{0}world this is not a log".utf8), Array("\u{0}\u{0}ab".utf8), [0xFF, 0x00, 0x41],
            Array(repeating: 0x41, count: 40),
        ]
        for line in odd {
            #expect(!line.withUnsafeBufferPointer { LineParser.looksLikeUTF16($0) }, "\(line)")
        }
        let wide = utf16("plain text, not a log", bigEndian: false).dropFirst(2)
        #expect(Array(wide).withUnsafeBufferPointer { LineParser.looksLikeUTF16($0) })
    }
}
