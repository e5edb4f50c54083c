import CustodyCore
import Foundation
import Testing

/// Policy numbers are bounded, and the `input` section is validated like every other.
@Suite("Policy bounds and the input section")
struct FailClosedPolicyTests {
    @Test func absurdMaximumDaysIsAConfigurationError() throws {
        let line = lineNumber(of: "maximum_days:")
        let error = try #require(policyError(replacingLine(line, with: ["  maximum_days: 10000000000"])))
        #expect(error.key == "retention.maximum_days")
        #expect(error.line == line)
        #expect(error.file == "bad.yaml")
    }

    @Test(arguments: ["0", "9", "-5"])
    func narrowNondisclosureBandIsAnError(width: String) throws {
        let text = basePolicyYAML + "\nreporting:\n  nondisclosure_band_width: \(width)\n"
        let error = try #require(policyError(text))
        #expect(error.key == "reporting.nondisclosure_band_width")
        #expect(error.line == lineNumber(of: "nondisclosure_band_width:", in: text))
    }

    @Test func bandOfTenIsAccepted() throws {
        #expect(try loadPolicy(basePolicyYAML + "\nreporting:\n  nondisclosure_band_width: 10\n").reportingBandWidth == 10)
    }

    @Test func maxRejectedShareDefaultsAndLoads() throws {
        #expect(try loadPolicy().input.maxRejectedShare == 0.001)
        #expect(try loadPolicy(basePolicyYAML + "\ninput:\n  max_rejected_share: 0.05\n").input.maxRejectedShare == 0.05)
        #expect(try loadPolicy(basePolicyYAML + "\ninput:\n  max_rejected_share: 0\n").input.maxRejectedShare == 0)
    }

    @Test(arguments: ["1.5", "-0.1", "lots", ".nan"])
    func maxRejectedShareOutsideZeroToOne(value: String) throws {
        let text = basePolicyYAML + "\ninput:\n  max_rejected_share: \(value)\n"
        let error = try #require(policyError(text))
        #expect(error.key == "input.max_rejected_share")
        #expect(error.line == lineNumber(of: "max_rejected_share:", in: text))
    }

    @Test func unknownInputKey() throws {
        let error = try #require(policyError(basePolicyYAML + "\ninput:\n  max_rejected: 0.1\n"))
        #expect(error.key == "input.max_rejected")
    }
}

/// The one escaping of names and ids: printable, injective, reversible.
@Suite("EscapedText")
struct EscapedTextTests {
    @Test func plainTextIsUnchanged() {
        #expect(EscapedText.escape("u00001") == "u00001")
        #expect(EscapedText.escape("用户-42 é") == "用户-42 é")
    }

    @Test func controlsBackslashesAndInvalidBytesAreEscaped() {
        #expect(EscapedText.escape(bytes: [0xFF, 0x20, 0x78]) == "\\xff x")
        #expect(EscapedText.escape(bytes: [0xFE, 0x20, 0x78]) == "\\xfe x")
        #expect(EscapedText.escape("a\nb") == "a\\x0ab")
        #expect(EscapedText.escape("\u{1B}[31mred") == "\\x1b[31mred")
        #expect(EscapedText.escape("a\\b") == "a\\\\b")
        #expect(EscapedText.escape("\u{85}") == "\\xc2\\x85")  // C1 NEL
        #expect(EscapedText.escape(bytes: [0xE2, 0x82]) == "\\xe2\\x82")  // truncated sequence
        #expect(EscapedText.escape(bytes: [0xC0, 0xAF]) == "\\xc0\\xaf")  // overlong '/'
    }

    @Test func escapingIsInjectiveAndReversible() {
        let samples: [[UInt8]] = [
            [0xFF, 0x20, 0x78], [0xFE, 0x20, 0x78], Array("\\xff x".utf8), Array("\\\\xff".utf8),
            [0x5C], [0x5C, 0x5C], Array("a\nb".utf8), Array("a\\x0ab".utf8), Array("用户".utf8), [0xED, 0xA0, 0x80], [],
        ]
        var seen: [String: [UInt8]] = [:]
        for bytes in samples {
            let text = EscapedText.escape(bytes: bytes)
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
            #expect(EscapedText.unescape(text) == bytes)
            if let other = seen[text] { Issue.record("\(bytes) and \(other) both escape to \(text)") }
            seen[text] = bytes
        }
    }
}
