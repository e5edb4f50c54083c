import CLineScan
import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The full JSON walk skips a nested value sixteen bytes at a time while no backslash is in
/// sight. Over many generated values — brackets and quotes inside strings, escapes, strings
/// across block edges, unterminated values, trailing bytes — it must end each one exactly where
/// the byte-by-byte rule does.
@Suite("JSON lines parser: nested values")
struct NestedValueEndTests {
    /// The rule, a byte at a time (as the walk had it before blocks).
    static func plainEnd(_ b: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var i = start
        while i < b.count {
            switch b[i] {
            case 0x22:
                var j = i + 1
                var closed = false
                while j < b.count {
                    if b[j] == 0x5C {
                        j += 2
                        continue
                    }
                    if b[j] == 0x22 {
                        closed = true
                        break
                    }
                    j += 1
                }
                guard closed else { return nil }
                i = j + 1
                continue
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 { return i + 1 }
            default: break
            }
            i += 1
        }
        return nil
    }

    static func value(_ rng: inout SplitMix64, depth: Int) -> String {
        let pieces = ["a", "[", "]", "{", "}", "\\\"", "\\\\", "\\n", "é", "中", " ", ",", ":", "0", "x"]
        switch Int.random(in: 0..<(depth > 3 ? 3 : 6), using: &rng) {
        case 0: return String(Int.random(in: 0...99_999, using: &rng))
        case 1, 2:
            let body = (0..<Int.random(in: 0...24, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            return "\"" + body + "\""
        default: return container(&rng, depth: depth)
        }
    }

    static func container(_ rng: inout SplitMix64, depth: Int) -> String {
        if Int.random(in: 0..<2, using: &rng) == 0 {
            let items = (0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) }
            return "[" + items.joined(separator: ",") + "]"
        }
        let members = (0..<Int.random(in: 0...4, using: &rng)).map { k in "\"k\(k)\":" + value(&rng, depth: depth + 1) }
        return "{" + members.joined(separator: ", ") + "}"
    }

    @Test(arguments: 1...4)
    func endsWhereTheByteRuleEnds(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        let parser = JSONLineParser(fields: fields)
        defer { parser.deallocate() }
        var ended = 0
        for _ in 0..<4_000 {
            var bytes = Array(Self.container(&rng, depth: 0).utf8)
            // Damage some: cut short, or a byte changed.
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where bytes.count > 1: bytes.removeLast(Int.random(in: 1...(bytes.count - 1), using: &rng))
            case 1 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = [0x22, 0x5C, 0x7D, 0x5B][Int.random(in: 0..<4, using: &rng)]
            default: break
            }
            // Bytes before it (the value starts anywhere in a block) and after it.
            let lead = Array(repeating: UInt8(0x20), count: Int.random(in: 0...17, using: &rng))
            let line = lead + bytes + Array(#","user":"u1"}"#.utf8)
            guard line[lead.count] == 0x7B || line[lead.count] == 0x5B else { continue }
            let expected = Self.plainEnd(line, from: lead.count)
            let got = line.withUnsafeBufferPointer { parser.nestedEnd($0.baseAddress!, lead.count, $0.count) }
            #expect(got == expected, "\(String(decoding: line, as: UTF8.self))")
            if expected != nil { ended += 1 }
        }
        #expect(ended > 1_000)
    }

    /// Lines with nested values go the structural walk too (skipped by their brackets, their
    /// strings by their quotes): over generated lines with nested values anywhere among the
    /// members, some damaged, some with escapes (which the structural walk leaves to the full
    /// walk), the verdicts are the full walk's, and the AVX-512 and portable walks agree.
    @Test(arguments: [31, 32])
    func structuralWalkGivesTheFullWalksVerdicts(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let walks = try WalkComparison(policy: try loadPolicy())
        var takenWithNested = 0
        var clean = 0
        let lines = 12_000
        for _ in 0..<lines {
            var members = [#""ts":"2026-09-20T08:00:01.212+08:00""#, #""user":"u1""#, #""event":"post""#]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let key = ["ctx", "user", "tags", "meta"][Int.random(in: 0..<4, using: &rng)]
                members.insert("\"\(key)\":" + Self.container(&rng, depth: 1), at: Int.random(in: 0...members.count, using: &rng))
            }
            var bytes = Array(("{" + members.joined(separator: ",") + "}").utf8)
            let damaged = Int.random(in: 0..<8, using: &rng) == 0
            if damaged {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = [0x22, 0x7D, 0x5D, 0x7B, 0x2C][Int.random(in: 0..<5, using: &rng)]
            }
            let taken = walks.compare(bytes).taken
            // Undamaged, without escapes and with one user member: the structural walk's to take.
            if !damaged && !bytes.contains(0x5C) && members.filter({ $0.hasPrefix(#""user":"#) }).count == 1 {
                clean += 1
                if taken { takenWithNested += 1 }
            }
        }
        #expect(walks.disagreements.prefix(5) == [])
        #expect(clean > lines / 20)
        #expect(takenWithNested == clean)
    }
}
