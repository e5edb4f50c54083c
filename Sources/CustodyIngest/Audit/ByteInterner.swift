import CPrefetch
import CustodyCore

/// Assigns dense ids to byte strings (user ids, event names) without building a `String` per
/// line: an open-addressing hash table over keys copied once into an arena.
///
/// Every record with a user costs one lookup, and with tens of thousands of users the table
/// does not fit in L1/L2, so a lookup is designed to touch the key's slot and the next one (one
/// cache line, or two when the first is the last of its line; both fetched ahead by `probe`):
/// a slot holds the key itself when it is at most eight bytes (most user ids and event names),
/// else its hash, plus its length and id. Only longer keys are compared against the arena.
///
/// Not thread-safe; each file scan owns its own.
final class ByteInterner {
    private struct Slot {
        /// The key's bytes (little-endian, zero-padded) if ≤ 8 bytes, else its 64-bit hash.
        var word: UInt64
        /// `length << 32 | (id + 1)`; 0 marks an empty slot.
        var meta: UInt64
    }

    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaCount = 0
    /// Where each key ends in the arena (keys are stored back to back): 4 bytes per key.
    private var ends: [UInt32] = []
    private var slots: UnsafeMutablePointer<Slot>
    /// Slots in the table (a power of two); internal for tests that place keys at its edge.
    private(set) var slotCount: Int
    private var slotMask: Int

    init() {
        arenaCapacity = 4096
        arena = .allocate(capacity: arenaCapacity)
        slotCount = 256
        slots = Self.allocateSlots(slotCount)
        slotMask = slotCount - 1
    }

    deinit {
        arena.deallocate()
        Self.deallocateSlots(slots)
    }

    /// Large tables are asked to live in 2 MiB pages: with 200,000 users a table is 8 MiB, and
    /// every lookup lands on a random 4 KiB page, so without them most lookups also missed the
    /// TLB (the tally's prefetch then waits for a page walk). Small tables use malloc's pages.
    private static let hugePage = 2 << 20

    private static func allocateSlots(_ count: Int) -> UnsafeMutablePointer<Slot> {
        let bytes = count * MemoryLayout<Slot>.stride
        let slots: UnsafeMutablePointer<Slot>
        if bytes >= hugePage, let memory = aligned_alloc(hugePage, bytes) {
            #if os(Linux)
            _ = madvise(memory, bytes, Int32(MADV_HUGEPAGE))
            #endif
            slots = memory.bindMemory(to: Slot.self, capacity: count)
        } else {
            slots = UnsafeMutableRawPointer(malloc(max(bytes, 1))!).bindMemory(to: Slot.self, capacity: count)
        }
        slots.initialize(repeating: Slot(word: 0, meta: 0), count: count)
        return slots
    }

    /// Frees what `allocateSlots` returned (malloc or aligned_alloc: both are freed by `free`).
    private static func deallocateSlots(_ slots: UnsafeMutablePointer<Slot>) {
        free(slots)
    }

    var count: Int { ends.count }

    /// A key's slot word and hash, computed once when a lookup is queued (see `probe(_:prefix:)`).
    struct Probe {
        var word: UInt64
        var hash: UInt64
    }

    /// Hashes `key` (whose first eight bytes, zero-padded, are `prefix`) and asks the CPU to
    /// fetch its first slot and the next, so that an `intern(_:probe:)` a little later finds them
    /// in cache. The table may grow in between: the lookup places the hash in the table it finds.
    @inline(__always)
    func probe(_ key: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> Probe {
        let (word, hash) = KeyHash.wordAndHash(key, prefix: prefix)
        let slot = Int(truncatingIfNeeded: hash) & slotMask
        custody_prefetch(slots + slot)
        // The next slot too (the same cache line but for the last slot of a line), which a
        // lookup reads when the first holds another key (about one in six at the table's load
        // of up to a half). The last slot's next lies past the table: a prefetch never faults.
        custody_prefetch(slots + slot + 1)
        return Probe(word: word, hash: hash)
    }

    /// Asks the CPU to fetch the stored bytes that `intern(_:probe:)` will compare a key of
    /// more than eight bytes with, when the key's first slot holds one of its length and hash
    /// (the usual case: a user seen before). Call it once the slot is in cache, some records
    /// before the lookup: a 36-byte id's bytes are a second random access after its slot, and
    /// waiting for them was a tenth of a check's samples on such ids (perf).
    @inline(__always)
    func prefetchStoredKey(probe: Probe, length: Int) {
        let s = slots[Int(truncatingIfNeeded: probe.hash) & slotMask]
        guard s.word == probe.word, Int(s.meta >> 32) == length else { return }
        let id = Int(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1
        custody_prefetch(arena + start(id))
    }

    /// `intern(_:)` for a key whose first eight bytes, zero-padded, are `prefix`.
    @inline(__always)
    func intern(_ key: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> Int32 {
        let (word, hash) = KeyHash.wordAndHash(key, prefix: prefix)
        return intern(key, probe: Probe(word: word, hash: hash))
    }

    /// The id of `key`, adding it if new. New ids are `count - 1` after the call.
    @inline(__always)
    func intern(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
        let (word, hash) = KeyHash.wordAndHash(key)
        return intern(key, probe: Probe(word: word, hash: hash))
    }

    /// `intern(_:)` with the hash already computed by `probe(_:prefix:)` for the same bytes.
    @inline(__always)
    func intern(_ key: UnsafeBufferPointer<UInt8>, probe: Probe) -> Int32 {
        let word = probe.word
        var slot = Int(truncatingIfNeeded: probe.hash) & slotMask
        while true {
            let s = slots[slot]
            if s.meta == 0 { break }
            if s.word == word && Int(s.meta >> 32) == key.count {
                let id = Int32(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1
                if key.count <= 8 || equalsArena(Int(id), key) { return id }
            }
            slot = (slot + 1) & slotMask
        }
        let id = Int32(ends.count)
        append(key)
        slots[slot] = Slot(word: word, meta: UInt64(key.count) << 32 | UInt64(id + 1))
        if ends.count * 2 > slotCount { grow() }
        return id
    }

    /// `intern(_:probe:)` for a key of at most eight bytes given as its slot word (`probe.word`,
    /// the key's bytes little-endian and zero-padded) and length: no buffer of its bytes is
    /// needed unless it is new. (The tally's queue keeps short keys only as that word, and
    /// spelling them into a stack buffer per lookup put a stack-protector check on its path.)
    @inline(__always)
    func intern(shortKeyOfLength length: Int, probe: Probe) -> Int32 {
        let word = probe.word
        let slot = Int(truncatingIfNeeded: probe.hash) & slotMask
        // A key seen before is in its first slot or (about one in six) the next, both fetched by
        // `probe`: both compared, then one branch, which the usual key takes. Going slot by slot,
        // the branch to the next slot was missed on each such key (3 % of the line loop's
        // samples). Short keys are unique (a key is its word and length), so whichever slot
        // matches holds it; the second is read modulo the table (the last slot's next is slot 0).
        // A key of length 0 could match an empty slot here: it goes the loop.
        if length > 0 {
            let first = slots[slot]
            let second = slots[(slot &+ 1) & slotMask]
            let length = UInt64(truncatingIfNeeded: length)
            let firstMisses = (first.word ^ word) | (first.meta &>> 32 ^ length)
            let secondMisses = (second.word ^ word) | (second.meta &>> 32 ^ length)
            if min(firstMisses, secondMisses) == 0 {
                let meta = firstMisses == 0 ? first.meta : second.meta
                return Int32(truncatingIfNeeded: meta & 0xFFFF_FFFF) &- 1
            }
        }
        return intern(shortKeyOfLength: length, word: word, from: slot)
    }

    /// `intern(shortKeyOfLength:probe:)` slot by slot from `slot`, the key's first: a new key, or
    /// one further on. Not inlined: the usual key's path stays small enough for the tally's
    /// lookups to be inlined into the line loop.
    @inline(never)
    private func intern(shortKeyOfLength length: Int, word: UInt64, from slot: Int) -> Int32 {
        var slot = slot
        while true {
            let s = slots[slot]
            if s.meta == 0 { break }
            if s.word == word && Int(s.meta >> 32) == length { return Int32(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1 }
            slot = (slot + 1) & slotMask
        }
        return addShort(word: word, length: length, at: slot)
    }

    /// A new short key into `slot` (empty), its bytes from its slot word.
    @inline(never)
    private func addShort(word: UInt64, length: Int, at slot: Int) -> Int32 {
        var bytes = word.littleEndian
        let id = Int32(ends.count)
        withUnsafeBytes(of: &bytes) {
            append(UnsafeBufferPointer(start: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length))
        }
        slots[slot] = Slot(word: word, meta: UInt64(length) << 32 | UInt64(id + 1))
        if ends.count * 2 > slotCount { grow() }
        return id
    }

    /// The id of `key` if present.
    @inline(__always)
    func find(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let (word, hash) = KeyHash.wordAndHash(key)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let s = slots[slot]
            if s.meta == 0 { return nil }
            if s.word == word && Int(s.meta >> 32) == key.count {
                let id = Int32(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1
                if key.count <= 8 || equalsArena(Int(id), key) { return id }
            }
            slot = (slot + 1) & slotMask
        }
    }

    /// Frees the lookup table: afterwards only `count`, `key(_:)` and `string(_:)` may be used.
    /// (With 500,000 users the table is 16 MB, and a file's results are built after its last
    /// lookup.)
    func releaseLookupTable() {
        Self.deallocateSlots(slots)
        slotCount = 0
        slotMask = 0
        slots = Self.allocateSlots(0)
    }

    func key(_ id: Int32) -> UnsafeBufferPointer<UInt8> {
        let start = start(Int(id))
        return UnsafeBufferPointer(start: arena + start, count: Int(ends[Int(id)]) - start)
    }

    private func start(_ id: Int) -> Int { id == 0 ? 0 : Int(ends[id - 1]) }

    /// The key as text: `EscapedText`, so keys that differ only in bytes that are not valid
    /// UTF-8 stay different.
    func string(_ id: Int32) -> String {
        let bytes = key(id)
        // `EscapedText.escape` takes plain printable ASCII whole too; its check, generic and not
        // specialised across modules, cost a byte-by-byte iterator call per byte of every user.
        for c in bytes where c < 0x20 || c >= 0x7F || c == 0x5C { return EscapedText.escape(bytes: bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func equalsArena(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = key.baseAddress else { return Int(ends[id]) == start(id) }
        return memcmp(arena + start(id), base, key.count) == 0
    }

    private func append(_ key: UnsafeBufferPointer<UInt8>) {
        // Four billion bytes of distinct keys in one file would exhaust memory long before.
        precondition(arenaCount + key.count <= Int(UInt32.max), "more than 4 GiB of distinct user ids in one file")
        if arenaCount + key.count > arenaCapacity {
            let newCapacity = max(arenaCapacity * 2, arenaCount + key.count)
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            bigger.update(from: arena, count: arenaCount)
            arena.deallocate()
            arena = bigger
            arenaCapacity = newCapacity
        }
        if let base = key.baseAddress { (arena + arenaCount).update(from: base, count: key.count) }
        arenaCount += key.count
        ends.append(UInt32(arenaCount))
    }

    private func grow() {
        let old = slots
        let oldCount = slotCount
        slotCount *= 2
        slotMask = slotCount - 1
        slots = Self.allocateSlots(slotCount)
        for i in 0..<oldCount where old[i].meta != 0 {
            let id = Int32(truncatingIfNeeded: old[i].meta & 0xFFFF_FFFF) - 1
            let length = Int(old[i].meta >> 32)
            // A short key is its slot word: no need to read it from the arena (a random access
            // per key, with 200,000 users most of the growth's time).
            let hash = length > 0 && length <= 8 ? KeyHash.shortHash(word: old[i].word, count: length) : KeyHash.wordAndHash(key(id)).hash
            var slot = Int(truncatingIfNeeded: hash) & slotMask
            while slots[slot].meta != 0 { slot = (slot + 1) & slotMask }
            slots[slot] = old[i]
        }
        Self.deallocateSlots(old)
    }
}

#if canImport(Glibc)
import Glibc
#endif
