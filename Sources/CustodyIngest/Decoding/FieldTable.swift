import CLineScan
import CustodyCore

/// The policy's candidate field names as bytes, for matching keys without building strings.
/// Each name maps to its field and its rank in the policy's list (lower wins).
///
/// Every key of every line is looked up here, so it is a small open-addressing table: names of
/// up to eight bytes are compared as one integer, longer ones with `memcmp`. Owns its slots:
/// the owning parser calls `deallocate()`.
struct FieldTable {
    enum Field: UInt8 { case timestamp, user, event }

    private struct Slot {
        var word: UInt64 = 0
        var length = 0
        var field = Field.timestamp
        var rank: UInt8 = 0
        var longName: UnsafeMutablePointer<UInt8>?
        var used = false
    }

    /// log2 of the slot count: at least 64 slots and at most half full, so probes always end.
    private let slotBits: UInt64
    private let slots: UnsafeMutablePointer<Slot>

    init(_ names: Policy.FieldNames) {
        let total = names.timestamp.count + names.user.count + names.event.count
        var bits: UInt64 = 6
        while (1 << Int(bits)) < 2 * total { bits += 1 }
        slotBits = bits
        let count = 1 << Int(bits)
        slots = .allocate(capacity: count)
        slots.initialize(repeating: Slot(), count: count)
        for (field, list) in [(Field.timestamp, names.timestamp), (.user, names.user), (.event, names.event)] {
            for (rank, name) in list.enumerated() {
                let bytes = Array(name.utf8)
                let word = bytes.withUnsafeBufferPointer { ByteScan.prefixWord($0) }
                var index = Self.index(word, bytes.count, bits: slotBits)
                var duplicate = false
                while slots[index].used {
                    if slots[index].length == bytes.count && slots[index].word == word && Self.sameLongName(slots[index], bytes) {
                        duplicate = true  // the same name listed twice: the first listing wins
                        break
                    }
                    index = (index + 1) & (count - 1)
                }
                if duplicate { continue }
                var longName: UnsafeMutablePointer<UInt8>?
                if bytes.count > 8 {
                    longName = .allocate(capacity: bytes.count)
                    longName!.initialize(from: bytes, count: bytes.count)
                }
                slots[index] = Slot(
                    word: word, length: bytes.count, field: field, rank: UInt8(min(rank, 254)), longName: longName, used: true)
            }
        }
    }

    func deallocate() {
        for i in 0..<(1 << Int(slotBits)) { slots[i].longName?.deallocate() }
        slots.deallocate()
    }

    /// The same names as a table for the structural walk (`custody_json_walk`), or nil when
    /// that table cannot hold them all (a name longer than 32 bytes, or more than 32 names).
    func structuralKeys() -> UnsafeMutablePointer<custody_json_keys>? {
        let keys = UnsafeMutablePointer<custody_json_keys>.allocate(capacity: 1)
        custody_json_keys_init(keys)
        for i in 0..<(1 << Int(slotBits)) where slots[i].used {
            let slot = slots[i]
            var word = slot.word.littleEndian
            let added = withUnsafeBytes(of: &word) { raw -> Int32 in
                let name = slot.longName.map { UnsafePointer($0) } ?? raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                return custody_json_keys_add(keys, name, slot.length, slot.field.rawValue, slot.rank)
            }
            if added == 0 {
                keys.deallocate()
                return nil
            }
        }
        return keys
    }

    private static func sameLongName(_ slot: Slot, _ bytes: [UInt8]) -> Bool {
        guard let long = slot.longName else { return true }
        return bytes.withUnsafeBufferPointer { memcmp(long, $0.baseAddress!, bytes.count) == 0 }
    }

    @inline(__always)
    private static func index(_ word: UInt64, _ length: Int, bits: UInt64) -> Int {
        // Masking shifts (`&>>`, `&<<`): `bits` is 6...32, and Swift's `>>` tests for
        // over-long and negative shift counts on every lookup.
        Int(truncatingIfNeeded: ((word ^ UInt64(length)) &* 0x9E37_79B9_7F4A_7C15) &>> (64 &- bits))
    }

    @inline(__always)
    func match(_ key: UnsafeBufferPointer<UInt8>) -> (Field, UInt8)? {
        match(key, word: ByteScan.prefixWord(key))
    }

    /// `match(_:)` with the key's first eight bytes already loaded (zero-padded, little-endian).
    @inline(__always)
    func match(_ key: UnsafeBufferPointer<UInt8>, word w: UInt64) -> (Field, UInt8)? {
        let n = key.count
        guard n > 0, let base = key.baseAddress else { return nil }
        var index = Self.index(w, n, bits: slotBits)
        let mask = (1 &<< Int(truncatingIfNeeded: slotBits)) &- 1
        while true {
            let slot = slots[index]
            if !slot.used { return nil }
            if slot.length == n && slot.word == w {
                if let long = slot.longName {
                    if memcmp(long, base, n) == 0 { return (slot.field, slot.rank) }
                } else {
                    return (slot.field, slot.rank)
                }
            }
            index = (index + 1) & mask
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
