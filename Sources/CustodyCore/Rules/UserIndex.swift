import CPrefetch

/// Dense ids for user names, for merging per-file results: the registry looks up every user of
/// every file (200,000 lookups for four benchmark files), the last file's merge runs after all
/// other work is done, and a `[String: Entry]` dictionary spent ~220 ns a user there, mostly
/// waiting for memory (perf, Benchmarks/RESULTS.md).
///
/// An open-addressing table whose slot holds a short name itself (or a longer name's hash), its
/// length and its id, so a lookup compares one word in one cache line. Names are looked up in
/// batches, each slot fetched `lookahead` names before it is needed.
public struct UserIndex: Sendable {
    private struct Slot {
        /// The name's UTF-8 bytes (little-endian, zero-padded) if ≤ 8 bytes, else its hash.
        var word: UInt64
        /// `length << 32 | (id + 1)`; 0 marks an empty slot.
        var meta: UInt64

        static let empty = Slot(word: 0, meta: 0)
    }

    private struct Probe {
        var word: UInt64 = 0
        var hash: UInt64 = 0
        var length = 0
        var name = ""
    }

    /// Names between a slot's prefetch and its lookup; also how far ahead the registry fetches entries.
    static let lookahead = 8

    private var slots = [Slot](repeating: .empty, count: 256)
    /// The names by id, in first-seen order.
    public private(set) var names: [String] = []
    /// Whether `names` were added by `adoptDistinct` without entering the table, which is then
    /// built at the next lookup: a check of one file never looks a name up again.
    private var tableBehind = false

    public var count: Int { names.count }

    /// Slots of the lookup table (for tests of its sizing).
    var tableSlots: Int { slots.count }

    public init() {}

    /// Names looked up per table reservation: the table is sized for all of them being new, and
    /// sizing for a whole file's users at once doubled it when most of them were already known.
    private static let batch = 4096

    /// Takes `count` names, none equal to another (`name(i)` for i in 0..<count), as ids
    /// 0..<count, into an empty index without hashing them; nil (nothing taken) when the index
    /// is not empty. The table is built at the next `intern`.
    public mutating func adoptDistinct(count: Int, _ name: (Int) -> String) -> [Int32]? {
        guard names.isEmpty else { return nil }
        names.reserveCapacity(count)
        for i in 0..<count { names.append(name(i)) }
        tableBehind = !names.isEmpty
        return Array(0..<Int32(count))
    }

    /// The ids of `count` names (`name(i)` for i in 0..<count), adding new names in order.
    public mutating func intern(count: Int, _ name: (Int) -> String) -> [Int32] {
        // Sized for the names so far and one batch: sizing for all `count` names as new (the
        // usual second file holds the first one's users again) doubled the table (+30 MB of a
        // check with 1,000,000 users, make bench); each batch grows it as needed.
        if tableBehind { rebuild(for: names.count + min(count, Self.batch)) }
        var ids = [Int32](repeating: 0, count: count)
        // The first file's names are all new: one table for all of them at once, not a rehash
        // of every name so far at each doubling (a tenth of a one-file check's serial tail).
        if names.isEmpty {
            reserve(count)
            names.reserveCapacity(count)
        }
        var start = 0
        while start < count {
            let end = min(start + Self.batch, count)
            intern(start..<end, name, into: &ids)
            start = end
        }
        return ids
    }

    private mutating func intern(_ range: Range<Int>, _ name: (Int) -> String, into ids: inout [Int32]) {
        reserve(names.count + range.count)
        var ring = [Probe](repeating: Probe(), count: Self.lookahead)
        let mask = slots.count - 1
        // Taken out while names are added, so that the two can be mutated together.
        var table = slots
        slots = []
        defer { slots = table }
        table.withUnsafeMutableBufferPointer { table in
            for i in range.lowerBound..<(range.upperBound + Self.lookahead) {
                let j = i - Self.lookahead
                if j >= range.lowerBound { ids[j] = resolve(ring[j % Self.lookahead], in: table, mask: mask) }
                if i < range.upperBound {
                    var key = name(i)
                    let (word, hash) = key.withUTF8 { KeyHash.wordAndHash($0) }
                    ring[i % Self.lookahead] = Probe(word: word, hash: hash, length: key.utf8.count, name: key)
                    custody_prefetch(table.baseAddress! + (Int(truncatingIfNeeded: hash) & mask))
                }
            }
        }
    }

    private mutating func resolve(_ probe: Probe, in table: UnsafeMutableBufferPointer<Slot>, mask: Int) -> Int32 {
        var slot = Int(truncatingIfNeeded: probe.hash) & mask
        while true {
            let s = table[slot]
            if s.meta == 0 { break }
            if s.word == probe.word && Int(s.meta >> 32) == probe.length {
                let id = Int32(truncatingIfNeeded: s.meta & 0xFFFF_FFFF) - 1
                if probe.length <= 8 || names[Int(id)] == probe.name { return id }
            }
            slot = (slot + 1) & mask
        }
        let id = Int32(names.count)
        names.append(probe.name)
        table[slot] = Slot(word: probe.word, meta: UInt64(probe.length) << 32 | UInt64(id + 1))
        return id
    }

    /// Makes room for `total` names in all, so that interning up to that many rehashes nothing.
    /// Callers that intern in batches and know the count ahead (the closing audit: a state's
    /// users, 65,536 at a time) save the table's rehash at each doubling.
    public mutating func reserveCapacity(_ total: Int) {
        reserve(total)
        names.reserveCapacity(total)
    }

    /// Grows the table so that `total` names keep it at most half full.
    private mutating func reserve(_ total: Int) {
        guard total * 2 > slots.count else { return }
        rebuild(for: total)
    }

    /// A new table, at least as large as now and at most half full with `total` names, holding
    /// every name so far.
    private mutating func rebuild(for total: Int) {
        tableBehind = false
        var size = slots.count
        while total * 2 > size { size *= 2 }
        var table = [Slot](repeating: .empty, count: size)
        let mask = size - 1
        for (id, var name) in names.enumerated() {
            let (word, hash) = name.withUTF8 { KeyHash.wordAndHash($0) }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while table[slot].meta != 0 { slot = (slot + 1) & mask }
            table[slot] = Slot(word: word, meta: UInt64(name.utf8.count) << 32 | UInt64(id + 1))
        }
        slots = table
    }

}
