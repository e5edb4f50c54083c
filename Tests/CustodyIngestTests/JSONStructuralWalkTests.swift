import CLineScan
import CustodyCore
import CustodyTesting
import Foundation
import Testing

@testable import CustodyIngest

/// The structural walk (`custody_json_walk`: every quote of a line found first, then the members
/// read off their positions) takes the usual JSON line and leaves every other one to the full
/// walk. Over many mutated lines, a parser using it must give exactly the verdict (record or
/// rejection, and the same timestamp, user and event) of a parser that walks every line in full;
/// and its AVX-512 and portable versions must agree on every line.
@Suite("JSON lines parser: the structural walk agrees with the full walk")
struct JSONStructuralWalkTests {
    private static let seeds = [
        #"{"ts":"2026-09-20T00:00:01.692+08:00","event":"view","ip":"10.0.0.1","device":"ios","app_version":"3.0.1","session":"s0"}"#,
        #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"uro62gk","event":"verify_phone","ip":"152.42.177.7","session":"953aeb70673e29cb","device":"web","app_version":"3.18.2"}"#,
        #"{"ts":"2026-09-20T08:00:01.212Z","user":12345,"event":"post","n":-1.5e3,"ok":true,"no":false,"x":null,"z":0,"f":0.25E-2}"#,
        #"{"time":"2026-09-20T08:00:01.212+08:00","uid":"a","action":"post","user":"b","ts":"2026-09-20T08:00:02.000+08:00"}"#,
        #"{"ts":1790000000123,"user":"u1","event":"post","event_detail":"x"}"#,
        #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"a","event":"post","user":"b"}"#,
        #"{"ts":"2026-09-20T08:00:01.212+08:00","user":null,"event":null,"type":"publish"}"#,
        #"{"timestamp":"2026-09-20T08:00:01+08:00","user_id":"a-very-long-user-identifier-0001","a_key_of_exactly_thirty_two_byte":1,"a_key_longer_than_thirty_two_bytes!":2}"#,
        #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"","event":"post","nested":{"a":[1,"b"]}}"#,
        #"{"@timestamp":"2026-09-20T08:00:01.212+08:00","user":true,"event":"post"}"#,
        #"{}"#,
    ]

    /// Bytes that change a line's structure, not just its values.
    private static let alphabet = Array(#"{}[]":,\ 0123456789.eE+-tfnulrsaZT"#.utf8)

    private func mutated(_ random: inout SplitMix64, from previous: [UInt8]) -> [UInt8] {
        var bytes =
            Int.random(in: 0..<3, using: &random) == 0
            ? Array(Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &random)].utf8) : previous
        for _ in 0..<Int.random(in: 0...2, using: &random) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<9, using: &random) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &random)], at: at)
            case 2: bytes.removeLast(Int.random(in: 0...min(bytes.count, 40), using: &random))  // truncated
            case 3: bytes.insert(contentsOf: Array(#"\""#.utf8), at: at)
            case 4:
                // Longer lines: across the 64-byte blocks and the walk's length limit.
                let member =
                    Array(#","pad":""#.utf8) + Array(repeating: UInt8(0x61), count: Int.random(in: 0...400, using: &random)) + [0x22]
                if let close = bytes.lastIndex(of: 0x7D) { bytes.insert(contentsOf: member, at: close) }
            default: bytes[at] = Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &random)]
            }
        }
        return bytes
    }

    /// What a parser gives for a line, copied out of its buffers.
    private func verdict(_ parser: inout JSONLineParser, _ bytes: [UInt8]) -> Parsed { WalkComparison.verdict(&parser, bytes) }

    /// A parser that tries the structural walk on every line (never pausing) and one that
    /// only takes the full walk, over the same field names.
    private static func walkPair(_ fields: FieldTable) -> (structural: JSONLineParser, full: JSONLineParser) {
        var structural = JSONLineParser(fields: fields)
        structural.usesStructuralWalk = true
        structural.pausesStructuralWalk = false
        var full = JSONLineParser(fields: fields)
        full.usesStructuralWalk = false
        return (structural, full)
    }

    private func compare(policy: Policy, lines: Int, seed: UInt64) {
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        var (structural, full) = Self.walkPair(fields)
        defer {
            structural.deallocate()
            full.deallocate()
        }
        guard let keys = fields.structuralKeys() else {
            Issue.record("the default field names fit the structural walk's table")
            return
        }
        defer { keys.deallocate() }
        var random = SplitMix64(seed: seed)
        var previous = Array(Self.seeds[1].utf8)
        var disagreements: [String] = []
        var taken = 0
        var takenRecords = 0
        var rejections = Set<String>()
        for _ in 0..<lines {
            let bytes = mutated(&random, from: previous)
            let fast = verdict(&structural, bytes)
            let slow = verdict(&full, bytes)
            if fast != slow { disagreements.append("\(String(decoding: bytes, as: UTF8.self)): \(fast) vs \(slow)") }
            let avx = bytes.withUnsafeBufferPointer { custody_json_walk($0.baseAddress, $0.count, keys) }
            let portable = bytes.withUnsafeBufferPointer { custody_json_walk_portable($0.baseAddress, $0.count, keys) }
            if avx.low != portable.low || avx.high != portable.high {
                disagreements.append("AVX-512 against portable: \(String(decoding: bytes, as: UTF8.self))")
            }
            if avx.high & CUSTODY_JSON_ACCEPTED != 0 {
                taken += 1
                if case .record = slow { takenRecords += 1 }
            }
            if case .rejected(let why) = slow { rejections.insert("\(why)") }
            if case .record = slow { previous = bytes }
        }
        #expect(disagreements.prefix(5) == [])
        // The structural walk takes most lines, and lines it takes are also rejected later
        // (`record`'s checks: the timestamp and the user's kind); the full walk sees the rest.
        #expect(taken > lines / 3)
        #expect(takenRecords > lines / 4)
        #expect(taken > takenRecords)
        #expect(rejections.isSuperset(of: ["invalidJSON", "ambiguousField", "invalidTimestamp", "notJSONObject", "invalidUser"]))
    }

    @Test func mutatedLinesGetTheVerdictsOfTheFullWalk() throws {
        compare(policy: try loadPolicy(), lines: 40_000, seed: 15)
    }

    /// Field names of 9 to 32 bytes (compared over several words), ranks that decide between
    /// two names of one field, and names that are prefixes of others.
    @Test func longFieldNamesAndRanks() throws {
        var policy = try loadPolicy()
        policy.fields = Policy.FieldNames(
            timestamp: ["timestamp", "ts", "@timestamp", "time"],
            user: ["user_id", "a_key_of_exactly_thirty_two_byte", "user", "uid", "a-very"],
            event: ["app_version", "event", "action", "type", "event_detail"])
        compare(policy: policy, lines: 20_000, seed: 16)
    }

    /// A name the table cannot hold (over 32 bytes): the walk is not used at all, so no line can
    /// miss that name.
    @Test func aNameTooLongForTheTableTurnsTheWalkOff() throws {
        var policy = try loadPolicy()
        policy.fields.user.append("a_key_longer_than_thirty_two_bytes!")
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        #expect(fields.structuralKeys() == nil)
        let line = #"{"ts":"2026-09-20T08:00:01.212+08:00","a_key_longer_than_thirty_two_bytes!":"u7","event":"post"}"#
        #expect(parseLine(line, format: .jsonl, policy: policy).user == "u7")
    }

    /// Lines around the walk's length limit and the 64-byte blocks, with the user last.
    @Test func lengthsAroundBlocksAndTheLimit() throws {
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        var (structural, full) = Self.walkPair(fields)
        defer {
            structural.deallocate()
            full.deallocate()
        }
        let head = #"{"ts":"2026-09-20T08:00:01.212+08:00","event":"post","pad":""#
        let tail = #"","user":"u12345678"}"#
        for total in (head.utf8.count + tail.utf8.count)...1100 {
            let padding = String(repeating: "x", count: total - head.utf8.count - tail.utf8.count)
            let bytes = Array((head + padding + tail).utf8)
            #expect(bytes.count == total)
            let fast = verdict(&structural, bytes)
            #expect(fast == verdict(&full, bytes))
            #expect(fast.user == "u12345678")
        }
    }

    /// Lines with the shape of the last ones (the walk checks such a line's skeleton, its bytes
    /// outside the string values and numbers, whole against the shape it learnt): values holding
    /// any structural byte but a quote or backslash, integers well formed or not (leading zeros,
    /// a lone minus, fractions, exponents, nothing), numbers with fractions and exponents well
    /// formed or not (a lone point or exponent, a sign or point out of place, two of them),
    /// literals changed or misspelt, keys that differ from the learnt ones by a byte or trade
    /// places, a value that changes kind, digits or an `e` outside a number's place, a member
    /// more or less. Each gets the full walk's verdict, and most are taken.
    @Test func linesShapedLikeTheLastOnes() throws {
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        var (structural, full) = Self.walkPair(fields)
        defer {
            structural.deallocate()
            full.deallocate()
        }
        var random = SplitMix64(seed: 17)
        let valueBytes = Array(#"{}[]:, 0123456789.eE+-tfnul/uesrvntpoZT"#.utf8) + [0x00, 0x09, 0xC3, 0xA9, 0xFF]
        let integers = ["0", "7", "12", "-3", "200", "123456789", "1790000000123", "0", "42"]
        let oddIntegers = ["007", "-", "-0", "01", "1.5", "1e3", "", "--1", "-01", "1-", "0-"]
        let fractions = ["56.92", "0.5", "-0.25", "1e3", "1E+3", "2.5e-7", "-1.0E10", "7", "0", "1790000000.123"]
        let oddFractions = [
            "1.", ".5", "1.2.3", "1e", "1e+", "+1", "01.5", "1..2", "1.e3", "e3", "1ee3", "1-2", "0.5-", "1E", "-.5", "5.", "",
        ]
        // <0>, <1>, <2>: string values; <N>: an integer, <F>: a number with fractions, each its own.
        func value(upTo length: Int) -> String {
            let count = Int.random(in: 0...length, using: &random)
            return String(
                decoding: (0..<count).map { _ in valueBytes[Int.random(in: 0..<valueBytes.count, using: &random)] }, as: UTF8.self)
        }
        func fill(_ shape: String) -> String {
            var line = shape
            for (mark, length) in [("<0>", 70), ("<1>", 9), ("<2>", 40)] {
                line = line.replacingOccurrences(of: mark, with: value(upTo: length))
            }
            for (mark, usual, odd) in [("<N>", integers, oddIntegers), ("<F>", fractions, oddFractions)] {
                let parts = line.components(separatedBy: mark)
                line = parts.dropFirst().reduce(parts[0]) { text, part in
                    let pool = Int.random(in: 0..<6, using: &random) == 0 ? odd : usual
                    return text + pool[Int.random(in: 0..<pool.count, using: &random)] + part
                }
            }
            return line
        }
        let ts = #""ts":"2026-09-20T08:00:01.212+08:00""#
        // Per family, the first two shapes are the usual ones; the others look like them.
        let families = [
            [
                #"{\#(ts),"user":"<0>","event":"<1>","ip":"<2>"}"#,
                #"{\#(ts),"event":"<1>","ip":"<2>","session":"<0>"}"#,
                // The same lengths, other keys: a byte off, traded places, a number, a member less.
                #"{\#(ts),"uses":"<0>","event":"<1>","ip":"<2>"}"#,
                #"{\#(ts),"event":"<0>","user":"<1>","ip":"<2>"}"#,
                #"{\#(ts),"user":"<0>","event":"<1>","ip":1}"#,
                #"{\#(ts),"user":"<0>","event":"<1>"}"#,
                #"{\#(ts),"user":"<0>","event":"<1>","ip":"<2>" }"#,
                #"{\#(ts),"user":"<0>","event":"<1>","ip":"<2>","user":"x"}"#,
            ],
            [
                #"{\#(ts),"status":<N>,"user":"<0>","event":"<1>","bytes":<N>}"#,
                #"{"ts":<N>,"user":<N>,"event":"<1>","ip":"<2>"}"#,
                #"{\#(ts),"status":<N>,7"user":"<0>","event":"<1>","bytes":<N>}"#,
                #"{\#(ts),"status":"<N>","user":"<0>","event":"<1>","bytes":<N>}"#,
                #"{\#(ts),"status":<N> ,"user":"<0>","event":"<1>","bytes":<N>}"#,
                #"{\#(ts),"status":<N>,"user":"<0>","event":"<1>","bytes":<N>,"x":true}"#,
                #"{"ts":<N>,"user":<N>,"event":"<1>","ip":"<2>"<N>}"#,
                #"{"ts":<N>,"user":-<N>,"event":"<1>","ip":"<2>"}"#,
                #"{"ts":<N>,"usr":<N>,"event":"<1>","ip":"<2>"}"#,
            ],
            [
                #"{\#(ts),"status":<N>,"ms":<F>,"user":"<0>","event":"<1>"}"#,
                #"{"ts":<F>,"user":"<0>","event":"<1>","latency":<F>}"#,
                #"{\#(ts),"status":<N>,"ms":<F>e,"user":"<0>","event":"<1>"}"#,
                #"{\#(ts),"status":<N>,"ms":"<F>","user":"<0>","event":"<1>"}"#,
                #"{\#(ts),"status":<N>,"ms":<F>.<N>,"user":"<0>","event":"<1>"}"#,
                #"{\#(ts),"status":<N>,"ms":<F>,"user":"<0>","event":"<1>","e":<F>}"#,
                #"{"ts":<F>,"user":"<0>","event":"<1>","latency":<F>}e"#,
                #"{"ts":<F>,"user":"<0>","event":"<1>","latency":<F>,"x":null}"#,
                #"{"ts":<F>,"user":"<0>","event":"<1>","latencY":<F>}"#,
            ],
            [
                #"{\#(ts),"ok":true,"user":"<0>","event":"<1>","n":<N>,"x":null}"#,
                #"{"ts":<F>,"user":"<0>","ref":null,"event":"<1>"}"#,
                #"{\#(ts),"ok":false,"user":"<0>","event":"<1>","n":<N>,"x":null}"#,
                #"{\#(ts),"ok":tru,"user":"<0>","event":"<1>","n":<N>,"x":null}"#,
                #"{\#(ts),"ok":truee,"user":"<0>","event":"<1>","n":<N>,"x":null}"#,
                #"{\#(ts),"ok":"true","user":"<0>","event":"<1>","n":<N>,"x":null}"#,
                #"{\#(ts),"ok":<N>,"user":"<0>","event":"<1>","n":<N>,"x":null}"#,
                #"{\#(ts),"ok":true,"user":"<0>","event":"<1>","n":<N>,"x":nul}"#,
                #"{\#(ts),"ok":true,"user":null,"event":"<1>","n":<N>,"x":null}"#,
                #"{"ts":<F>,"user":"<0>","ref":true,"event":"<1>"}"#,
                #"{"ts":<F>,"user":"<0>","ref":nulle,"event":"<1>"}"#,
                #"{"ts":<F>,"user":"<0>","ref":<F>,"event":"<1>"}"#,
            ],
        ]
        guard let keys = fields.structuralKeys() else {
            Issue.record("the default field names fit the structural walk's table")
            return
        }
        defer { keys.deallocate() }
        var disagreements: [String] = []
        var taken = 0
        var learnt = 0
        for round in 0..<24_000 {
            let shapes = families[round / 6_000]
            // Mostly the first two shapes (learnt, then matched), sometimes a look-alike.
            let shape = round % 7 < 5 ? round % 2 : Int.random(in: 2..<shapes.count, using: &random)
            let line = fill(shapes[shape])
            let bytes = Array(line.utf8)
            let fast = verdict(&structural, bytes)
            let slow = verdict(&full, bytes)
            if fast != slow { disagreements.append("\(line): \(fast) vs \(slow)") }
            // The AVX-512 walk (with its learnt shapes) against the portable one (without).
            let avx = bytes.withUnsafeBufferPointer { custody_json_walk($0.baseAddress, $0.count, keys) }
            let portable = bytes.withUnsafeBufferPointer { custody_json_walk_portable($0.baseAddress, $0.count, keys) }
            if avx.low != portable.low || avx.high != portable.high { disagreements.append("AVX-512 against portable: \(line)") }
            if avx.high & CUSTODY_JSON_ACCEPTED != 0 { taken += 1 }
            if round % 6_000 == 5_999, keys.pointee.templates.0.length > 0, keys.pointee.templates.1.length > 0 { learnt += 1 }
        }
        #expect(disagreements.prefix(5) == [])
        #expect(taken > 14_000)
        if custody_json_walk_available() != 0 {
            // Every family's shapes were learnt (and so matched: most lines had one of two shapes).
            #expect(learnt == 4)
            #expect(keys.pointee.templates.0.fractions != 0 || keys.pointee.templates.1.fractions != 0)
        }
    }

    /// A line the walk takes but whose shape it cannot learn (a fraction beside a `true`, whose
    /// `e` such a shape would cut) makes it wait 64 lines before trying to learn again; a
    /// learnable line after that is learnt.
    @Test func learningWaitsAfterAShapeItCannotLearn() throws {
        guard custody_json_walk_available() != 0 else { return }
        let fields = FieldTable(try loadPolicy().fields)
        defer { fields.deallocate() }
        let keys = try #require(fields.structuralKeys())
        defer { keys.deallocate() }
        func walk(_ line: String) -> Bool {
            let bytes = Array(line.utf8)
            return bytes.withUnsafeBufferPointer { custody_json_walk($0.baseAddress, $0.count, keys) }.high & CUSTODY_JSON_ACCEPTED != 0
        }
        let literal = #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"u1","ms":1.5,"ok":true,"event":"post"}"#
        let plain = #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"u1","event":"post"}"#
        #expect(walk(literal))
        #expect(keys.pointee.learn_pause == 64 && keys.pointee.templates.0.length == 0)
        for _ in 0..<64 { #expect(walk(literal)) }
        #expect(keys.pointee.learn_pause == 0)
        #expect(walk(literal))  // tried again, and failed again
        #expect(keys.pointee.learn_pause == 64)
        for _ in 0..<64 { #expect(walk(plain)) }
        #expect(keys.pointee.templates.0.length == 0)
        #expect(walk(plain))
        #expect(keys.pointee.templates.0.length > 0)
    }

    /// A line the walk takes whose skeleton would not fit the 256 bytes a shape holds, because
    /// of one long key (a string or an integer value after it): taken, and not learnt. (Learning
    /// once copied such a key before checking its length, past the end of the shape's bytes;
    /// a debug build crashed here.)
    @Test func aKeyLongerThanAShapeIsNotLearnt() throws {
        guard custody_json_walk_available() != 0 else { return }
        let fields = FieldTable(try loadPolicy().fields)
        defer { fields.deallocate() }
        let keys = try #require(fields.structuralKeys())
        defer { keys.deallocate() }
        let long = String(repeating: "A", count: 600)
        for line in [
            #"{"ts":"2024-01-01T00:00:00Z",""# + long + #"":"v","user":"u","event":"e"}"#,
            #"{"ts":"2024-01-01T00:00:00Z",""# + long + #"":1,"user":"u","event":"e"}"#,
            #"{""# + long + #"":"v","ts":"2024-01-01T00:00:00Z","user":"u","event":"e"}"#,
        ] {
            keys.pointee.learn_pause = 0
            let bytes = Array(line.utf8)
            let found = bytes.withUnsafeBufferPointer { custody_json_walk($0.baseAddress, $0.count, keys) }
            #expect(found.high & CUSTODY_JSON_ACCEPTED != 0)
            #expect(keys.pointee.templates.0.length == 0 && keys.pointee.learn_pause == 64)
        }
    }

    /// Lines the structural walk refuses in a row (escapes on every line) make it pause
    /// for a stretch of lines, so such a file does not pay for both walks on each; lines it
    /// takes never make it pause; the results are the full walk's either way.
    @Test func pausesOnFilesItKeepsRefusing() throws {
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        var parser = JSONLineParser(fields: fields)
        parser.usesStructuralWalk = true
        defer { parser.deallocate() }
        let nested = #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"u1","event":"post","ctx":"a \"b\""}"#
        let plain = #"{"ts":"2026-09-20T08:00:01.212+08:00","user":"u1","event":"post"}"#
        for _ in 0..<3_000 { #expect(verdict(&parser, Array(nested.utf8)).user == "u1") }
        // 16 refusals, 1,024 lines paused, 16 refusals, 1,024 paused, 16 refusals, a third
        // pause still running at the 3,000th line.
        let limit = JSONLineParser.structuralRefusalLimit
        let pause = JSONLineParser.structuralPauseLines
        #expect(parser.structuralAttempts == 3 * limit)
        let pausedLeft = pause - (3_000 - (2 * (limit + pause) + limit))
        let before = parser.structuralAttempts
        for _ in 0..<500 { #expect(verdict(&parser, Array(plain.utf8)).user == "u1") }
        // Once the pause is over, every plain line is tried (and taken) again.
        #expect(parser.structuralAttempts - before == 500 - pausedLeft)
        let resumed = parser.structuralAttempts
        for _ in 0..<2_000 { _ = verdict(&parser, Array(plain.utf8)) }
        #expect(parser.structuralAttempts - resumed == 2_000)
    }
}
