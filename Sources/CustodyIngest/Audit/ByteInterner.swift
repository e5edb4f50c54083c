/// Assigns dense ids to byte strings (user ids, event names) without building a `String` per
/// line: an open-addressing hash table over keys copied once into an arena.
///
/// Not thread-safe; each file scan owns its own.
final class ByteInterner {
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaCount = 0
    private var offsets: [Int] = []
    private var lengths: [Int32] = []
    private var hashes: [UInt64] = []
    private var slots: [Int32]
    private var slotMask: Int

    init() {
        arenaCapacity = 4096
        arena = .allocate(capacity: arenaCapacity)
        slots = Array(repeating: -1, count: 256)
        slotMask = 255
    }

    deinit { arena.deallocate() }

    var count: Int { offsets.count }

    /// The id of `key`, adding it if new. New ids are `count - 1` after the call.
    @inline(__always)
    func intern(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == hash && equals(Int(id), key) { return id }
            slot = (slot + 1) & slotMask
        }
        let id = Int32(offsets.count)
        append(key, hash: hash)
        slots[slot] = id
        if offsets.count * 2 > slots.count { grow() }
        return id
    }

    /// The id of `key` if present.
    @inline(__always)
    func find(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let id = slots[slot]
            if id < 0 { return nil }
            if hashes[Int(id)] == hash && equals(Int(id), key) { return id }
            slot = (slot + 1) & slotMask
        }
    }

    func key(_ id: Int32) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: arena + offsets[Int(id)], count: Int(lengths[Int(id)]))
    }

    func string(_ id: Int32) -> String { String(decoding: key(id), as: UTF8.self) }

    @inline(__always)
    private func equals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(lengths[id]) == key.count else { return false }
        guard let base = key.baseAddress else { return true }
        return memcmp(arena + offsets[id], base, key.count) == 0
    }

    private func append(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) {
        if arenaCount + key.count > arenaCapacity {
            let newCapacity = max(arenaCapacity * 2, arenaCount + key.count)
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            bigger.update(from: arena, count: arenaCount)
            arena.deallocate()
            arena = bigger
            arenaCapacity = newCapacity
        }
        if let base = key.baseAddress { (arena + arenaCount).update(from: base, count: key.count) }
        offsets.append(arenaCount)
        lengths.append(Int32(key.count))
        hashes.append(hash)
        arenaCount += key.count
    }

    private func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        slotMask = size - 1
        for id in 0..<offsets.count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & slotMask
            while slots[slot] >= 0 { slot = (slot + 1) & slotMask }
            slots[slot] = Int32(id)
        }
    }

    /// A fast 64-bit mix over 8-byte words; keys are short ids and event names.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        guard let base = key.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= key.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < key.count {
            tail |= UInt64(base[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        return h
    }
}

#if canImport(Glibc)
import Glibc
#endif
