import CustodyCore

/// Event name bytes → their role under the policy, resolved once per distinct name.
///
/// Every record asks, and most event names are a handful of short ones, so names of up to 16
/// bytes are first looked for in a small cache keyed by their first and last eight bytes and
/// their length (which together are the whole name): a hash and two compares, where the
/// interner would hash a long name byte by byte and compare it with `memcmp`.
///
/// The cache has two ways a set, the name last taken from the interner in the first: with one
/// way, two names on one place evicted each other on every change between them (the regular
/// benchmark file's `view`, three lines in four, shared its place with `upload` in a table of 32
/// places; 0.6 % of a four-file check's CPU went to `interned`).
final class EventRoleTable {
    private let policy: Policy
    private let names = ByteInterner()
    private var roles: [EventRole] = []

    private struct Cached {
        var first: UInt64 = 0
        var last: UInt64 = 0
        /// -1: empty.
        var length = -1
        var role = EventRole.other
    }

    /// Sets of two ways: `1 << setBits` sets, ways `2 * set` and `2 * set + 1`. A name found in
    /// the second way costs a missed branch, so names should rarely share a set: with 32 sets,
    /// a dozen names put two pairs together (the regular benchmark file's `view` with `upload`,
    /// `post` with `verify_id`); with 256, about one policy's names in four has a pair. Only the
    /// sets in use are read (a set is 64 bytes), so the larger table costs no cache; its 16 KiB
    /// are allocated and filled once per file read, or per parser of a one-file check (no
    /// measurable cost over 10,000 small files).
    private static let setBits = 8
    private let cache: UnsafeMutablePointer<Cached>

    init(policy: Policy) {
        self.policy = policy
        cache = .allocate(capacity: 2 << Self.setBits)
        cache.initialize(repeating: Cached(), count: 2 << Self.setBits)
    }

    deinit { cache.deallocate() }

    @inline(__always)
    func role(of event: UnsafeBufferPointer<UInt8>) -> EventRole {
        role(of: event, prefix: ByteScan.prefixWord(event))
    }

    /// `role(of:)` given the name's first eight bytes, zero-padded (see `ParsedLine`).
    @inline(__always)
    func role(of event: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> EventRole {
        let n = event.count
        guard n <= 16, let base = event.baseAddress else { return interned(event, prefix: prefix) }
        // Bytes 8..<16 of a longer name overlap its first eight: with the length they are exact.
        let last = n > 8 ? UnsafeRawPointer(base).loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self) : 0
        let set =
            cache
            + 2
            &* Int(
                truncatingIfNeeded: ((prefix ^ last ^ UInt64(truncatingIfNeeded: n)) &* 0x9E37_79B9_7F4A_7C15)
                    &>> UInt64(64 - Self.setBits))
        if set[0].length == n && set[0].first == prefix && set[0].last == last { return set[0].role }
        if set[1].length == n && set[1].first == prefix && set[1].last == last { return set[1].role }
        return missed(event, prefix: prefix, last: last, in: set)
    }

    /// A name in neither way of its set: from the interner into the first way, the first
    /// way's name into the second.
    @inline(never)
    private func missed(
        _ event: UnsafeBufferPointer<UInt8>, prefix: UInt64, last: UInt64, in set: UnsafeMutablePointer<Cached>
    ) -> EventRole {
        let role = interned(event, prefix: prefix)
        set[1] = set[0]
        set[0] = Cached(first: prefix, last: last, length: event.count, role: role)
        return role
    }

    private func interned(_ event: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> EventRole {
        let id = Int(names.intern(event, prefix: prefix))
        if id == roles.count { roles.append(policy.role(ofEvent: names.string(Int32(id)))) }
        return roles[id]
    }
}
