import CustodyCore

/// Event name bytes → their role under the policy, resolved once per distinct name.
///
/// Every record asks, and most event names are a handful of short ones, so names of up to 16
/// bytes are first looked for in a small direct-mapped cache keyed by their first and last
/// eight bytes and their length (which together are the whole name): a hash and two compares,
/// where the interner would hash a long name byte by byte and compare it with `memcmp`.
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

    private static let cacheBits = 6
    private let cache: UnsafeMutablePointer<Cached>

    init(policy: Policy) {
        self.policy = policy
        cache = .allocate(capacity: 1 << Self.cacheBits)
        cache.initialize(repeating: Cached(), count: 1 << Self.cacheBits)
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
        let slot =
            cache
            + Int(
                truncatingIfNeeded: ((prefix ^ last ^ UInt64(truncatingIfNeeded: n)) &* 0x9E37_79B9_7F4A_7C15)
                    >> UInt64(64 - Self.cacheBits))
        if slot.pointee.length == n && slot.pointee.first == prefix && slot.pointee.last == last { return slot.pointee.role }
        let role = interned(event, prefix: prefix)
        slot.pointee = Cached(first: prefix, last: last, length: n, role: role)
        return role
    }

    private func interned(_ event: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> EventRole {
        let id = Int(names.intern(event, prefix: prefix))
        if id == roles.count { roles.append(policy.role(ofEvent: names.string(Int32(id)))) }
        return roles[id]
    }
}
