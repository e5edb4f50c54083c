import CLineScan
import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The AVX-512 walk picks the template to try by the line's quote count (without a branch) and
/// walks lines of up to three 64-byte blocks on one unrolled path (the blocks past a shorter
/// line's end are empty). Lines of two shapes in no order, of two, three and more blocks,
/// with as many quotes as each other or not, are each matched by their own shape's template,
/// with their own captures: no line goes the member walk again once both shapes are learnt.
@Suite("JSON lines parser: the template a line is matched by")
struct JSONTemplateChoiceTests {
    private static let keyNames = ["ts", "user", "event", "ip", "session"]

    /// A line with the members `order` names; `pad` bytes more in the session's value.
    private static func line(_ order: [Int], user: Int, pad: Int) -> [UInt8] {
        let values = [
            #""2026-09-20T08:00:01.212+08:00""#, "\"u\(user)\"", #""post""#, #""10.0.0.1""#,
            "\"s" + String(repeating: "x", count: pad) + "\"",
        ]
        return Array(("{" + order.map { "\"\(keyNames[$0])\":\(values[$0])" }.joined(separator: ",") + "}").utf8)
    }

    private static func walk(_ keys: UnsafeMutablePointer<custody_json_keys>, _ bytes: [UInt8]) -> custody_json_found {
        bytes.withUnsafeBufferPointer { custody_json_walk($0.baseAddress, $0.count, keys) }
    }

    /// The user's value as the walk captured it, or nil for none.
    private static func user(_ found: custody_json_found, in bytes: [UInt8]) -> String? {
        let capture = UInt32(truncatingIfNeeded: found.low >> 32)
        guard capture & 0xFF != 255 else { return nil }
        let start = Int((capture >> 10) & 0x7FF)
        let end = Int(capture >> 21)
        return String(decoding: bytes[(start + 1)..<(end - 1)], as: UTF8.self)
    }

    /// Two shapes: `withUser` and `without` (as many quotes, or not), each learnt once, then
    /// 600 lines of either in no order and of lengths from two blocks to four or five.
    private func matchesEach(withUser: [Int], without: [Int], seed: UInt64) throws {
        let policy = try loadPolicy()
        let fields = FieldTable(policy.fields)
        defer { fields.deallocate() }
        let keys = try #require(fields.structuralKeys())
        defer { keys.deallocate() }
        #expect(Self.walk(keys, Self.line(withUser, user: 0, pad: 0)).high & CUSTODY_JSON_ACCEPTED != 0)
        #expect(Self.walk(keys, Self.line(without, user: 0, pad: 0)).high & CUSTODY_JSON_ACCEPTED != 0)
        #expect(keys.pointee.template_misses == 2)
        let learnt = (keys.pointee.templates.0.quotes, keys.pointee.templates.1.quotes)
        var random = SplitMix64(seed: seed)
        var lengths = Set<Int>()
        for u in 1...600 {
            let hasUser = Int.random(in: 0..<4, using: &random) == 0
            // Lengths across two to five blocks (the shortest line here is about 70 bytes).
            let bytes = Self.line(hasUser ? withUser : without, user: u, pad: Int.random(in: 0...160, using: &random))
            lengths.insert((bytes.count + 63) / 64)
            let found = Self.walk(keys, bytes)
            #expect(found.high & CUSTODY_JSON_ACCEPTED != 0)
            #expect(Self.user(found, in: bytes) == (hasUser ? "u\(u)" : nil))
            // Matched by a template: the member walk would have learnt the shape again.
            #expect(keys.pointee.template_misses == 0)
        }
        #expect(keys.pointee.templates.0.quotes == learnt.0 && keys.pointee.templates.1.quotes == learnt.1)
        // Two and three blocks take the unrolled path, four and more the general one.
        #expect(lengths.isSuperset(of: [2, 3, 4]))
    }

    @Test func twoShapesWithAsManyQuotes() throws {
        // The templates exist only in the AVX-512 form of the walk.
        guard custody_json_walk_available() != 0 else { return }
        // `ts, user, event, session` and `ts, event, ip, session`: 16 quotes each. A line of the
        // shape learnt first is tried against the other template first.
        try matchesEach(withUser: [0, 1, 2, 4], without: [0, 2, 3, 4], seed: 3)
    }

    @Test func twoShapesWithOtherQuoteCounts() throws {
        guard custody_json_walk_available() != 0 else { return }
        // The line's quote count picks the template whichever was learnt last.
        try matchesEach(withUser: [0, 1, 2, 3, 4], without: [0, 2, 4], seed: 4)
        try matchesEach(withUser: [0, 1, 2], without: [0, 2, 3, 4], seed: 5)
    }
}
