import CustodyCore
import Testing

/// `EscapedText.escape(bytes:)` over bytes in memory (the per-user path after a file's scan)
/// gives exactly what the generic collection version gives.
@Suite("EscapedText over a buffer")
struct EscapedTextBufferTests {
    /// Ids of every kind: plain, with a backslash, controls, C1, valid and invalid UTF-8, empty.
    @Test func sameAsTheGenericPath() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let alphabets: [[UInt8]] = [
            Array("abcxyz0189_-.@".utf8), [0x5C, 0x61], [0x00, 0x0A, 0x1B, 0x7F, 0x61], [0xC2, 0x85, 0xC2, 0xA0, 0x61],
            Array("用户名é".utf8), [0xFF, 0xFE, 0xC0, 0xAF, 0xE2, 0x82, 0xED, 0xA0, 0x80, 0xF4, 0x90],
        ]
        var cases: [[UInt8]] = [[], Array("u123".utf8), Array("a\\b".utf8), [0x7E], [0x20]]
        for _ in 0..<3_000 {
            let alphabet = alphabets[Int(next() % UInt64(alphabets.count))]
            let other = alphabets[0]
            let length = Int(next() % 24)
            cases.append(
                (0..<length).map { _ in
                    next() % 4 == 0 ? alphabet[Int(next() % UInt64(alphabet.count))] : other[Int(next() % UInt64(other.count))]
                })
        }
        for bytes in cases {
            let generic = EscapedText.escape(bytes: bytes)
            let buffered = bytes.withUnsafeBufferPointer { EscapedText.escape(bytes: $0) }
            #expect(buffered == generic, "\(bytes)")
            #expect(EscapedText.unescape(buffered) == bytes, "\(bytes)")
        }
    }
}
