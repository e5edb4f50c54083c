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

    /// More names than the cache has places (two ways in each of its sets), asked in runs and
    /// in turn, so that names share sets, move between the ways and are evicted from both: every
    /// answer must still be the policy's.
    @Test func eventRolesThroughFullSets() throws {
        let policy = try loadPolicy()
        let table = EventRoleTable(policy: policy)
        var names = ["view", "upload", "post", "verify_id", "verify_phone", "publish", "comment"]
        for k in 0..<200 { names.append(k % 3 == 0 ? "verify_phone\(k)" : "event\(k)") }
        names += names.map { String($0.prefix(16)) + "_" }
        var random = SplitMix64(seed: 11)
        var wrong: [String] = []
        var asked = 0
        while asked < 40_000 {
            let name = names[Int.random(in: 0..<names.count, using: &random)]
            // A run of the same name, then often a switch back to one of the first two.
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                for candidate in [name, names[asked % 2]] {
                    let expected = policy.role(ofEvent: candidate)
                    let bytes = Array(candidate.utf8) + Array("\",\"x".utf8)
                    let role = bytes.withUnsafeBufferPointer { table.role(of: UnsafeBufferPointer(rebasing: $0[0..<candidate.utf8.count])) }
                    if role != expected { wrong.append("\(candidate): \(role) vs \(expected)") }
                    asked += 1
                }
            }
        }
        #expect(wrong.prefix(5) == [])
    }

    /// The tally's lookup of a short key by its slot word alone gives the ids, keys and names
    /// the lookup by bytes gives, through the table's growths and for keys of every length up
    /// to eight bytes (zero bytes in them too), new and seen again.
    @Test func shortKeysByTheirWordAsByTheirBytes() {
        let byBytes = ByteInterner()
        let byWord = ByteInterner()
        var random = SplitMix64(seed: 13)
        var keys: [[UInt8]] = [[], [0], [0, 0], [0x41, 0]]
        for k in 0..<6_000 { keys.append((0..<(k % 9)).map { _ in UInt8.random(in: 0...0x7F, using: &random) }) }
        var wrong = 0
        for round in 0..<30_000 {
            let key = round < keys.count ? keys[round] : keys[Int.random(in: 0..<keys.count, using: &random)]
            let expected = key.withUnsafeBufferPointer { byBytes.intern($0) }
            let id = key.withUnsafeBufferPointer { buffer in
                let word = ByteScan.prefixWord(buffer)
                return byWord.intern(shortKeyOfLength: key.count, probe: byWord.probe(buffer, prefix: word))
            }
            if id != expected { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(byWord.count == byBytes.count)
        for id in 0..<Int32(byBytes.count) {
            #expect(Array(byWord.key(id)) == Array(byBytes.key(id)))
            #expect(byWord.string(id) == byBytes.string(id))
        }
    }

    /// The lookup of a short key by its word compares its first slot and the next at once: keys
    /// placed where that could go wrong, found by their hashes in a fresh table. Two keys whose
    /// first slot is the table's last (the second wraps to slot 0, and a third whose first slot
    /// is 0 goes on to slot 1); a key stored beside its twin of the same word and another length
    /// (`p` after `p` + NUL, same first slot); and probes taken before the table grows, used after.
    @Test func shortKeysAtTheTableEdgeBesideTheirTwinsAndAcrossGrowth() {
        func word(_ key: [UInt8]) -> UInt64 { key.withUnsafeBufferPointer { ByteScan.prefixWord($0) } }
        func byWord(_ interner: ByteInterner, _ key: [UInt8]) -> Int32 {
            key.withUnsafeBufferPointer { interner.intern(shortKeyOfLength: key.count, probe: interner.probe($0, prefix: word(key))) }
        }
        let fresh = ByteInterner()
        let mask = UInt64(fresh.slotCount - 1)
        func home(_ key: [UInt8]) -> UInt64 { KeyHash.shortHash(word: word(key), count: key.count) & mask }
        let candidates = (0..<200_000).map { Array("k\($0)".utf8) }

        // The table's last slot, then slot 0 by wrapping, then slot 1.
        let atEnd = candidates.filter { home($0) == mask }.prefix(2)
        let atStart = candidates.first { home($0) == 0 }!
        #expect(atEnd.count == 2)
        let edge = ByteInterner()
        let edgeKeys = Array(atEnd) + [atStart]
        let edgeIDs = edgeKeys.map { byWord(edge, $0) }
        #expect(edgeIDs == [0, 1, 2])
        for _ in 0..<3 { #expect(edgeKeys.map { byWord(edge, $0) } == [0, 1, 2]) }
        #expect(edgeKeys.map { key in key.withUnsafeBufferPointer { edge.find($0) } } == [0, 1, 2])

        // `p` + NUL first, then `p`: the same word, in the same first slot, lengths apart.
        let twin = candidates.lazy.map { Array($0.prefix(7)) }.first { home($0) == home($0 + [0]) }!
        let twins = ByteInterner()
        #expect(byWord(twins, twin + [0]) == 0)
        #expect(byWord(twins, twin) == 1)
        #expect(byWord(twins, twin) == 1)
        #expect(byWord(twins, twin + [0]) == 0)
        #expect(Array(twins.key(1)) == twin)

        // Probes taken, then the table grows many times, then the lookups: a known key keeps its
        // id, a new one is added once.
        let growing = ByteInterner()
        let known = Array("known".utf8)
        let new = Array("new".utf8)
        #expect(byWord(growing, known) == 0)
        let knownProbe = known.withUnsafeBufferPointer { growing.probe($0, prefix: word(known)) }
        let newProbe = new.withUnsafeBufferPointer { growing.probe($0, prefix: word(new)) }
        let before = growing.slotCount
        for key in candidates.prefix(5_000) { _ = byWord(growing, key) }
        #expect(growing.slotCount > before)
        #expect(growing.intern(shortKeyOfLength: known.count, probe: knownProbe) == 0)
        let newID = growing.intern(shortKeyOfLength: new.count, probe: newProbe)
        #expect(newID == Int32(growing.count - 1))
        #expect(byWord(growing, new) == newID)
        #expect(new.withUnsafeBufferPointer { growing.find($0) } == newID)
    }

    /// Keys longer than eight bytes (whose slot word is a hash, their bytes compared in the
    /// arena), asked again while the table grows and after every one was added: each gets the
    /// id it got first, and keys that differ only in their last byte stay apart. (The other
    /// tests ask such keys again only through `find`.)
    @Test func longKeysAskedAgainKeepTheirIds() {
        let interner = ByteInterner()
        var random = SplitMix64(seed: 17)
        var keys: [[UInt8]] = []
        for k in 0..<8_000 {
            var key = (0..<(9 + k % 32)).map { _ in UInt8.random(in: 0x20...0x7E, using: &random) }
            keys.append(key)
            key[key.count - 1] ^= 1
            keys.append(key)
        }
        var first: [Int32] = []
        var wrong = 0
        for (k, key) in keys.enumerated() {
            first.append(key.withUnsafeBufferPointer { interner.intern($0) })
            // One asked before, while the table is still growing.
            let earlier = Int.random(in: 0...k, using: &random)
            if keys[earlier].withUnsafeBufferPointer({ interner.intern($0) }) != first[earlier] { wrong += 1 }
        }
        for _ in 0..<40_000 {
            let k = Int.random(in: 0..<keys.count, using: &random)
            if keys[k].withUnsafeBufferPointer({ interner.intern($0) }) != first[k] { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(interner.count == keys.count)
        #expect(Set(first).count == keys.count)
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
