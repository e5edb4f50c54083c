import CustodyCore

/// Event name bytes → their role under the policy, resolved once per distinct name.
final class EventRoleTable {
    private let policy: Policy
    private let names = ByteInterner()
    private var roles: [EventRole] = []

    init(policy: Policy) { self.policy = policy }

    @inline(__always)
    func role(of event: UnsafeBufferPointer<UInt8>) -> EventRole {
        role(of: event, prefix: ByteScan.prefixWord(event))
    }

    /// `role(of:)` given the name's first eight bytes, zero-padded (see `ParsedLine`).
    @inline(__always)
    func role(of event: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> EventRole {
        let id = Int(names.intern(event, prefix: prefix))
        if id == roles.count { roles.append(policy.role(ofEvent: names.string(Int32(id)))) }
        return roles[id]
    }
}
