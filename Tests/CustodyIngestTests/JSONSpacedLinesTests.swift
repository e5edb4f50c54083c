import CLineScan
import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// JSON lines written with blanks between tokens (`{"ts": "…", "user": "u1"}`, as Python's
/// `json.dumps` writes by default) go the structural walk when the blanks follow colons and
/// commas. Over many generated lines with blanks anywhere (spaces, tabs, several, a line break,
/// before colons and commas, inside braces), a parser using it must give exactly the verdict of a
/// parser that walks every line in full, and the walk's two forms must agree.
@Suite("JSON lines parser: blanks between tokens")
struct JSONSpacedLinesTests {
    static func line(_ rng: inout SplitMix64) -> [UInt8] {
        func blank() -> String {
            switch Int.random(in: 0..<12, using: &rng) {
            case 0..<5: return ""
            case 5..<9: return " "
            case 9: return "\t"
            case 10: return "  "
            default: return ["\r", "\n", " \t", "\u{0B}"].randomElement(using: &rng)!
            }
        }
        let keys = ["ts", "user", "event", "uid", "time", "ip", "n", "ok", "x", "user"]
        let values = [
            #""2026-09-20T08:00:01.212+08:00""#, #""2026-09-20T08:00:01Z""#, "1790000000123", #""u1""#, #""post""#, "12345", "-1.5e3",
            "true", "false", "null", #""a b""#, #""""#, "0", "01",
        ]
        var members: [String] = []
        for _ in 0..<Int.random(in: 1...7, using: &rng) {
            // Mostly after colons and commas, as real writers put them; sometimes anywhere.
            let beforeColon = Int.random(in: 0..<8, using: &rng) == 0 ? blank() : ""
            members.append(
                "\"\(keys.randomElement(using: &rng)!)\"\(beforeColon):\(blank())\(values.randomElement(using: &rng)!)"
                    + (Int.random(in: 0..<8, using: &rng) == 0 ? blank() : ""))
        }
        let open = Int.random(in: 0..<8, using: &rng) == 0 ? blank() : ""
        let close = Int.random(in: 0..<8, using: &rng) == 0 ? blank() : ""
        var text = "{" + open + members.joined(separator: "," + blank()) + close + "}"
        if Int.random(in: 0..<20, using: &rng) == 0 { text = blank() + text }
        if Int.random(in: 0..<20, using: &rng) == 0, !text.isEmpty { text.removeLast(Int.random(in: 1...min(3, text.count), using: &rng)) }
        return Array(text.utf8)
    }

    @Test(arguments: [21, 22])
    func blanksGetTheVerdictsOfTheFullWalk(seed: UInt64) throws {
        let walks = try WalkComparison(policy: try loadPolicy())
        var rng = SplitMix64(seed: seed)
        var takenWithBlanks = 0
        let lines = 30_000
        for _ in 0..<lines {
            let bytes = Self.line(&rng)
            if walks.compare(bytes).taken && (bytes.contains(0x20) || bytes.contains(0x09)) { takenWithBlanks += 1 }
        }
        #expect(walks.disagreements.prefix(5) == [])
        // The walk takes lines with blanks (after colons and commas), not only compact ones.
        #expect(takenWithBlanks > lines / 10)
    }

    @Test func pythonStyleLineIsTakenByTheStructuralWalk() throws {
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        let keys = try #require(fields.structuralKeys())
        defer { keys.deallocate() }
        let line = Array(#"{"ts": "2026-09-20T08:00:01.212+08:00", "user": "u1", "event": "post", "n": 3, "ok": true}"#.utf8)
        let found = line.withUnsafeBufferPointer { custody_json_walk_portable($0.baseAddress, $0.count, keys) }
        #expect(found.high & CUSTODY_JSON_ACCEPTED != 0)
        #expect(
            parseLine(String(decoding: line, as: UTF8.self), format: .jsonl, policy: policy)
                == .record(
                    millis: ms("2026-09-20T08:00:01.212+08:00"), user: "u1", event: "post"))
    }

    /// Python-style lines of a few shapes, values changing from line to line, with look-alikes
    /// (other blanks, a blank before a comma, numbers of other lengths and signs, a fraction
    /// where an integer was): the shapes are learnt with their blanks, and every line gets the
    /// full walk's verdict, the AVX-512 walk (with its shapes) agreeing with the portable one.
    @Test func pythonStyleShapesAreLearntAndMatched() throws {
        guard custody_json_walk_available() != 0 else { return }
        let walks = try WalkComparison(policy: try loadPolicy())
        let keys = walks.keys
        var rng = SplitMix64(seed: 41)
        let shapes = [
            #"{"ts": "<T>", "user": "<U>", "event": "post", "n": <N>, "ok": true}"#,
            #"{"ts": "<T>", "status": <N>, "user": "<U>", "event": "view"}"#,
            #"{"ts":  "<T>", "user": "<U>", "event": "post", "n": <N>, "ok": true}"#,
            #"{"ts": "<T>", "user": "<U>", "event": "post", "n": <N> , "ok": true}"#,
            #"{"ts": "<T>", "user": "<U>", "event": "post", "n":<N>, "ok": true}"#,
            #"{"ts": "<T>",\#t"user": "<U>", "event": "post", "n": <N>, "ok": true}"#,
            #"{"ts": "<T>", "user": "<U>", "event": "post", "n": <N>.5, "ok": true}"#,
        ]
        for round in 0..<6_000 {
            let shape = round % 5 < 4 ? round % 2 : Int.random(in: 2..<shapes.count, using: &rng)
            let number = [String(Int.random(in: 0...99_999, using: &rng)), "-\(Int.random(in: 1...99, using: &rng))", "0", "007"][
                Int.random(in: 0..<4, using: &rng)]
            let line = shapes[shape].replacingOccurrences(of: "<T>", with: "2026-09-20T08:00:\(10 + round % 50).212+08:00")
                .replacingOccurrences(of: "<U>", with: String(repeating: "u", count: 1 + round % 9))
                .replacingOccurrences(of: "<N>", with: number)
            walks.compare(Array(line.utf8))
        }
        #expect(walks.disagreements.prefix(5) == [])
        // The last two shapes learnt are the usual ones, blanks and all.
        let learnt = [keys.pointee.templates.0, keys.pointee.templates.1].map { template in
            withUnsafeBytes(of: template.skeleton) { String(decoding: $0.prefix(Int(template.length)), as: UTF8.self) }
        }
        #expect(learnt.contains(#"{"ts": "", "user": "", "event": "", "n": , "ok": true}"#))
        #expect(learnt.contains(#"{"ts": "", "status": , "user": "", "event": ""}"#))
        // And they match such lines (their numbers found after the blanks): a line that matched
        // no shape would be learnt again, and learnt shapes count toward a pause.
        keys.pointee.template_misses = 0
        for round in 0..<40 {
            walks.compare(
                Array(
                    shapes[round % 2].replacingOccurrences(of: "<T>", with: "2026-09-20T08:01:00.000+08:00")
                        .replacingOccurrences(of: "<U>", with: "u\(round)").replacingOccurrences(of: "<N>", with: "\(round * 37)").utf8))
        }
        #expect(keys.pointee.template_misses == 0 && keys.pointee.template_pause == 0)
    }
}
