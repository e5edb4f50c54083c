import CLineScan
import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The structural walk's templates (the shapes of the last two lines, matched whole) pay off
/// when lines repeat a shape. In a file whose lines change shape from line to line they never
/// match, and every line paid for two failed matches and for learning its own shape: after
/// 16 such lines in a row the templates are left alone for 1,024 lines. Lines still get the
/// member walk's verdict, which the full walk's differential tests hold.
@Suite("JSON lines parser: template pause")
struct JSONTemplatePauseTests {
    private static let keyNames = ["ts", "user", "event", "ip", "session", "status", "device"]

    private static func line(_ order: [Int], user: Int) -> [UInt8] {
        let values = [
            #""2026-09-20T08:00:01.212+08:00""#, "\"u\(user)\"", #""post""#, #""10.0.0.1""#, #""ab12""#, "200", #""ios""#,
        ]
        return Array(("{" + order.map { "\"\(keyNames[$0])\":\(values[$0])" }.joined(separator: ",") + "}").utf8)
    }

    private static func walk(_ keys: UnsafeMutablePointer<custody_json_keys>, _ bytes: [UInt8]) -> custody_json_found {
        bytes.withUnsafeBufferPointer { custody_json_walk($0.baseAddress, $0.count, keys) }
    }

    @Test func pausesWhenShapesKeepChangingAndNotWhenTheyRepeat() throws {
        // The templates exist only in the AVX-512 form of the walk.
        guard custody_json_walk_available() != 0 else { return }
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        let keys = try #require(fields.structuralKeys())
        defer { keys.deallocate() }
        var rng = SplitMix64(seed: 5)

        // One shape, again and again: matched by the template learnt from the first line.
        let order = Array(0..<7)
        for u in 0..<200 { #expect(Self.walk(keys, Self.line(order, user: u)).high & CUSTODY_JSON_ACCEPTED != 0) }
        #expect(keys.pointee.template_pause == 0 && keys.pointee.template_misses == 0)

        // A new order of the keys on every line: no template ever matches.
        var orders = Set<[Int]>()
        while orders.count < 16 + 100 { orders.insert(order.shuffled(using: &rng)) }
        for (u, shuffled) in orders.enumerated() {
            let found = Self.walk(keys, Self.line(shuffled, user: u))
            #expect(found.high & CUSTODY_JSON_ACCEPTED != 0)
            // The user is read where this line has it, not where a template had it.
            let user = UInt32(truncatingIfNeeded: found.low >> 32)
            let bytes = Self.line(shuffled, user: u)
            let start = Int((user >> 10) & 0x7FF)
            let end = Int(user >> 21)
            #expect(String(decoding: bytes[(start + 1)..<(end - 1)], as: UTF8.self) == "u\(u)")
        }
        // 16 misses, then 100 lines of a 1,024-line pause.
        #expect(keys.pointee.template_pause == 1_024 - 100)

        // The pause runs out, and a repeated shape is learnt and matched again.
        for u in 0..<1_100 { _ = Self.walk(keys, Self.line(order, user: u)) }
        #expect(keys.pointee.template_pause == 0 && keys.pointee.template_misses == 0)
        #expect(keys.pointee.templates.0.length != 0)
    }

    /// The full walk's key predictions (the key that followed each key on the line before) stop
    /// for 1,024 lines after 16 lines in a row with more keys learnt than predicted; every line
    /// still gets the verdict a fresh parser (which has predicted nothing) gives it.
    @Test func keyPredictionsPauseWhenKeysKeepChangingOrder() throws {
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        var parser = JSONLineParser(fields: fields)
        parser.usesStructuralWalk = false
        defer { parser.deallocate() }
        func verdict(_ parser: inout JSONLineParser, _ bytes: [UInt8]) -> String? {
            guard case .record(let r) = bytes.withUnsafeBufferPointer({ parser.parse($0) }) else { return nil }
            return r.user.map { String(decoding: $0, as: UTF8.self) }
        }
        func fresh(_ bytes: [UInt8]) -> String? {
            var parser = JSONLineParser(fields: fields)
            parser.usesStructuralWalk = false
            defer { parser.deallocate() }
            return verdict(&parser, bytes)
        }
        var rng = SplitMix64(seed: 9)
        let order = Array(0..<7)
        for u in 0..<100 { #expect(verdict(&parser, Self.line(order, user: u)) == "u\(u)") }
        #expect(parser.keyPredictionPausedLines == 0)
        for u in 0..<116 {
            let bytes = Self.line(order.shuffled(using: &rng), user: u)
            #expect(verdict(&parser, bytes) == fresh(bytes))
        }
        #expect(parser.keyPredictionPausedLines == ShortcutBackoff().pauseLength - 100)
        for u in 0..<1_000 { #expect(verdict(&parser, Self.line(order, user: u)) == "u\(u)") }
        #expect(parser.keyPredictionPausedLines == 0)
        // Predicting again, on lines whose keys keep one order: no new pause.
        for u in 0..<100 { _ = verdict(&parser, Self.line(order, user: u)) }
        #expect(parser.keyPredictionPausedLines == 0)
    }
}
