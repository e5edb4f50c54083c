import CustodyCore
import CustodyIngest
import CustodyTesting
import Testing

/// The JSON-lines parser has fast paths that only fire once it has seen lines before: the key
/// predictions (`KeySuccessors`), the remembered timestamp minute (`ISOTimestampCache`) and the
/// `,"` separator. A fresh parser per line takes none of the first two. Over many mutated,
/// truncated and escaped lines, fed in order to one parser, every verdict must be the one a
/// fresh parser gives the same line: the fast paths reject exactly what the full walk rejects,
/// for the same reason.
@Suite("JSON lines parser: fast paths agree with the full walk")
struct JSONLineParserFastPathTests {
    let policy = try! loadPolicy()

    private static let seeds = [
        #"{"ts":"2026-09-20T00:00:01.692+08:00","event":"view","ip":"10.0.0.1","device":"ios","app_version":"3.0.1","session":"s0"}"#,
        #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"uro62gk","event":"verify_phone","ip":"152.42.177.7","session":"953aeb70673e29cb","device":"web","app_version":"3.18.2"}"#,
        #"{"ts":"2026-09-20T08:00:01.212Z","user":12345,"event":"post","n":-1.5e3,"ok":true,"no":false,"x":null,"tags":["a",{"b":"}"}]}"#,
        #"{ "ts" : "2026-09-20T08:00:01,5+0800" , "user" : "u\"1\\" , "event" : "p\u006fst" }"#,
        #"{"time":"2026-09-20T08:00:01.212+08:00","uid":"a","action":"post","user":"b","ts":"2026-09-20T08:00:02.000+08:00"}"#,
        #"{"ts":1790000000123,"user":"u1","event":"post","event_detail":{"k":[1,2,3]}}"#,
        #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"a","event":"post","user":"b"}"#,
        #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"a","event":"post","user":"a"}"#,
    ]

    /// Bytes that change a line's structure, not just its values.
    private static let alphabet = Array(#"{}[]":,\ 0123456789.eE+-tfnulrsaZT"#.utf8)

    private func mutated(_ random: inout SplitMix64, from previous: [UInt8]) -> [UInt8] {
        var bytes =
            Int.random(in: 0..<3, using: &random) == 0
            ? Array(Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &random)].utf8) : previous
        for _ in 0..<Int.random(in: 0...2, using: &random) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &random)], at: at)
            case 2: bytes.removeLast(Int.random(in: 0...min(bytes.count, 40), using: &random))  // truncated
            case 3: bytes.insert(contentsOf: Array(#"\""#.utf8), at: at)
            default: bytes[at] = Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &random)]
            }
        }
        return bytes
    }

    @Test func mutatedLinesInSequenceGetTheVerdictsOfAFreshParser() {
        var random = SplitMix64(seed: 15)
        var lines: [String] = []
        var previous = Array(Self.seeds[0].utf8)
        for _ in 0..<30_000 {
            let bytes = mutated(&random, from: previous)
            // Mostly valid lines in a row, as in a log, so that the predictions are warm.
            if Int.random(in: 0..<4, using: &random) != 0 { lines.append(String(decoding: previous, as: UTF8.self)) }
            lines.append(String(decoding: bytes, as: UTF8.self))
            if case .record = parseLine(lines.last!, format: .jsonl, policy: policy) { previous = bytes }
        }
        let inSequence = parseLines(lines, format: .jsonl, policy: policy).results
        var disagreements: [String] = []
        var records = 0
        var rejections = Set<String>()
        for (line, verdict) in zip(lines, inSequence) {
            let fresh = parseLine(line, format: .jsonl, policy: policy)
            if verdict != fresh { disagreements.append("\(line): \(verdict) vs \(fresh)") }
            switch fresh {
            case .record: records += 1
            case .rejected(let why): rejections.insert("\(why)")
            case .skipped: break
            }
        }
        #expect(disagreements.prefix(5) == [])
        // The mutations reach every verdict that matters here.
        #expect(records > 10_000)
        #expect(rejections.isSuperset(of: ["invalidJSON", "ambiguousField", "invalidTimestamp", "notJSONObject"]))
    }
}
