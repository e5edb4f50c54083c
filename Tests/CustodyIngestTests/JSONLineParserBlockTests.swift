import CustodyCore
import CustodyIngest
import CustodyTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The parser finds string ends sixteen bytes at a time while a block fits inside the line, and
/// byte by byte after that or after a backslash. These lines put quotes, escapes and line ends
/// at every offset around a block boundary.
@Suite("JSON lines parser: strings across block boundaries")
struct JSONLineParserBlockTests {
    let policy = try! loadPolicy()

    /// A JSON string literal of `length` content bytes with an escape or multi-byte character
    /// at a random spot, and the text it stands for.
    private func stringLiteral(length: Int, random: inout SplitMix64) -> (literal: String, value: String) {
        var literal = ""
        var value = ""
        let plain = Array("abcdefghijklmnopqrstuvwxyz0123456789_-. ")
        while value.utf8.count < length {
            switch Int.random(in: 0..<12, using: &random) {
            case 0:
                literal += #"\""#
                value += "\""
            case 1:
                literal += #"\\"#
                value += "\\"
            case 2:
                literal += #"\u00e9"#
                value += "é"
            case 3:
                literal += "中"
                value += "中"
            default:
                let c = plain[Int.random(in: 0..<plain.count, using: &random)]
                literal.append(c)
                value.append(c)
            }
        }
        return ("\"" + literal + "\"", value)
    }

    private func randomLine(random: inout SplitMix64) -> (line: String, user: String, event: String) {
        let user = stringLiteral(length: Int.random(in: 1...40, using: &random), random: &random)
        let event = stringLiteral(length: Int.random(in: 1...40, using: &random), random: &random)
        var fields = [#""ts":"2026-10-10T13:55:36.123+08:00""#, #""user":"# + user.literal, #""event":"# + event.literal]
        for k in 0..<Int.random(in: 0...4, using: &random) {
            let key = stringLiteral(length: Int.random(in: 1...20, using: &random), random: &random).literal
            let filler = stringLiteral(length: Int.random(in: 0...40, using: &random), random: &random).literal
            fields.insert("\(key.dropLast())k\(k)\":\(filler)", at: Int.random(in: 0...fields.count, using: &random))
        }
        return ("{" + fields.joined(separator: ",") + "}", user.value, event.value)
    }

    @Test func valuesOfEveryLengthAndEscapePosition() {
        var random = SplitMix64(seed: 16)
        let t = ms("2026-10-10T05:55:36.123Z")
        for _ in 0..<3_000 {
            let (line, user, event) = randomLine(random: &random)
            let parsed = parseLine(line, format: .jsonl, policy: policy)
            #expect(parsed == .record(millis: t, user: user, event: event), "\(line)")
            if parsed != .record(millis: t, user: user, event: event) { return }
        }
    }

    /// A line cut anywhere is not a JSON object, and parsing it reads nothing past its end: each
    /// cut line ends exactly where an unreadable page begins, so a read beyond it crashes.
    @Test func everyCutOffLineIsRejectedWithoutReadingPastItsEnd() throws {
        var random = SplitMix64(seed: 17)
        var parser = LineParser(policy: policy, format: .jsonl)
        defer { parser.deallocate() }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(region, 2 * page) }
        #expect(mprotect(region + page, page, PROT_NONE) == 0)
        let pageEnd = (region + page).assumingMemoryBound(to: UInt8.self)
        for _ in 0..<300 {
            let bytes = Array(randomLine(random: &random).line.utf8)
            guard bytes.count < page else { continue }
            for cut in 1..<bytes.count {
                let start = pageEnd - cut
                bytes.withUnsafeBufferPointer { start.update(from: $0.baseAddress!, count: cut) }
                let outcome = parser.parse(UnsafeBufferPointer(start: start, count: cut))
                guard case .rejected(.invalidJSON) = outcome else {
                    Issue.record("cut at \(cut) of \(String(decoding: bytes, as: UTF8.self)): \(outcome)")
                    return
                }
            }
        }
    }

    /// The prefix words the lookups use must be the values' first eight bytes, whether the
    /// value sits mid-line, at the line's end, in the unescaping scratch space or is a number.
    @Test func prefixWordsAreTheFirstEightBytes() {
        func firstEight(_ bytes: UnsafeBufferPointer<UInt8>?) -> UInt64 {
            guard let bytes else { return 0 }
            return bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        }
        var random = SplitMix64(seed: 18)
        var lines = (0..<500).map { _ in randomLine(random: &random).line }
        lines += [
            #"{"ts":"2026-10-10T05:55:36Z","event":"post","user":"abc"}"#, #"{"ts":"2026-10-10T05:55:36Z","user":12345678901,"event":"x"}"#,
            #"{"ts":"2026-10-10T05:55:36Z","user":"\u0061b","event":"p\u006fst"}"#, #"{"ts":"2026-10-10T05:55:36Z","user":"a"}"#,
        ]
        var parser = LineParser(policy: policy, format: .jsonl)
        defer { parser.deallocate() }
        for line in lines {
            let bytes = Array(line.utf8)
            bytes.withUnsafeBufferPointer { buffer in
                guard case .record(let record) = parser.parse(buffer) else {
                    Issue.record("not a record: \(line)")
                    return
                }
                #expect(record.userPrefix == firstEight(record.user), "\(line)")
                #expect(record.eventPrefix == firstEight(record.event), "\(line)")
            }
        }
    }
}

/// The parser remembers which key followed which and checks the next line's keys against that
/// guess. A parser that has seen many lines must answer exactly as a fresh one does.
@Suite("JSON lines parser: remembered key order")
struct JSONLineParserKeyOrderTests {
    let policy = try! loadPolicy()

    /// Keys near the policy's names (prefixes, extensions, escapes, case), in shuffled orders.
    private let keys = [
        #""ts""#, #""user""#, #""event""#, #""use""#, #""users""#, #""t\u0073""#, #""ts ""#, #""TS""#,
        #""timestamp""#, #""user_id""#, #""uid""#, #""action""#, #""ip""#, #""a_rather_long_key""#,
        #""sixteen_bytes_k""#, #""sixteen_bytes_ke""#, #""""#, #""ev\"ent""#,
    ]

    private func line(_ random: inout SplitMix64) -> String {
        var pairs: [String] = []
        for _ in 0..<Int.random(in: 1...6, using: &random) {
            let key = keys[Int.random(in: 0..<keys.count, using: &random)]
            let value: String
            switch Int.random(in: 0..<5, using: &random) {
            case 0: value = #""2026-10-10T13:55:36.123+08:00""#
            case 1: value = "\(Int.random(in: 1_700_000_000...1_800_000_000, using: &random))"
            case 2: value = "null"
            case 3: value = #""a\"b""#
            default: value = "\"v\(Int.random(in: 0..<50, using: &random))\""
            }
            // Mostly a bare colon (the guess then covers it), sometimes spaced, rarely missing.
            let colon = [":", ":", ":", ":", " :", ": ", " : ", " "][Int.random(in: 0..<8, using: &random)]
            pairs.append("\(key)\(colon)\(value)")
        }
        // Usually the same shape as a recent line: the order is what the guesses learn from.
        return "{" + pairs.joined(separator: Int.random(in: 0..<8, using: &random) == 0 ? " , " : ",") + "}"
    }

    @Test func aLongLivedParserAgreesWithAFreshOnePerLine() {
        var random = SplitMix64(seed: 19)
        var shapes: [String] = []
        var lines: [String] = []
        for _ in 0..<20_000 {
            if shapes.isEmpty || Int.random(in: 0..<4, using: &random) == 0 {
                shapes.append(line(&random))
                if shapes.count > 6 { shapes.removeFirst() }
            }
            lines.append(shapes[Int.random(in: 0..<shapes.count, using: &random)])
        }
        let together = parseLines(lines, format: .jsonl, policy: policy).results
        var disagreements: [String] = []
        for (line, result) in zip(lines, together) where parseLine(line, format: .jsonl, policy: policy) != result {
            disagreements.append(line)
        }
        #expect(disagreements.isEmpty, "first: \(disagreements.prefix(3))")
    }
}
