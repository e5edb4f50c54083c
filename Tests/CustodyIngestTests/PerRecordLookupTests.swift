import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The per-record lookups after parsing: an event name's role (with its small cache in front of
/// the name table) and a user's id and name (whose table rehashes short keys from their slot
/// word when it grows). Each must answer as the plain lookup it shortcuts.
@Suite("Per-record lookups: event roles and user ids")
struct PerRecordLookupTests {
    /// Names that share their first or last eight bytes, or both words but not the length, and
    /// the policy's own event names among them, asked in a random order so that the cache both
    /// hits and evicts.
    @Test func eventRolesAsThePolicySaysThem() throws {
        let policy = try loadPolicy()
        let table = EventRoleTable(policy: policy)
        var names = ["post", "comment", "verify_phone", "verify_id", "register", "signup", "message", "upload", "live_start", ""]
        for name in Array(names) {
            names.append(name + "x")
            names.append("x" + name)
            names.append(String(name.dropLast()))
        }
        names += [
            "verify_phone_verify", "verify_phonf", "verify_p_phone", "12345678", "123456789", "1234567812345678", "12345678x12345678",
        ]
        var random = SplitMix64(seed: 7)
        var wrong: [String] = []
        for _ in 0..<20_000 {
            let name = names[Int.random(in: 0..<names.count, using: &random)]
            let expected = policy.role(ofEvent: name)
            var bytes = Array(name.utf8)
            // Bytes after the name, as in a line: the lookup must not read them.
            bytes += Array("_phone\"}".utf8)
            let role = bytes.withUnsafeBufferPointer { table.role(of: UnsafeBufferPointer(rebasing: $0[0..<name.utf8.count])) }
            if role != expected { wrong.append("\(name): \(role) vs \(expected)") }
        }
        #expect(wrong.prefix(5) == [])
    }

    /// Ids stay what they were through many growths (keys of every length up to 12 bytes, the
    /// short ones rehashed from their slot word), and names come back as `EscapedText` has them.
    @Test func idsSurviveGrowthAndNamesAreEscapedText() {
        let interner = ByteInterner()
        var keys: [[UInt8]] = []
        var random = SplitMix64(seed: 9)
        for k in 0..<20_000 {
            let length = k % 13
            keys.append((0..<length).map { _ in UInt8.random(in: 0x20...0x7E, using: &random) })
        }
        keys += [Array("a\\b".utf8), [0x41, 0x7F], [0x0A], Array("é".utf8), [0xFF, 0x41]]
        var ids: [Int32] = []
        for key in keys { ids.append(key.withUnsafeBufferPointer { interner.intern($0) }) }
        for (key, id) in zip(keys, ids) {
            #expect(key.withUnsafeBufferPointer { interner.find($0) } == id)
        }
        for id in Set(ids) {
            let key = Array(interner.key(id))
            #expect(interner.string(id) == EscapedText.escape(bytes: key))
        }
        #expect(interner.string(ids[keys.count - 5]) == EscapedText.escape(bytes: Array("a\\b".utf8)))
        #expect(interner.string(ids[keys.count - 5]) != "a\\b")
    }
}
