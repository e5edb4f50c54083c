/// Several policies audited together (`--policy a.yaml --policy b.yaml`): each keeps its own
/// window and report; what may be deleted is governed by all of them at once.
public struct CombinedRetention: Sendable, Equatable {
    /// The longest minimum of the policies, and the policy that sets it.
    public var minimumDays: Int
    public var minimumPolicy: String
    /// The strictest (smallest) maximum, and the policy that sets it; nil when none sets one.
    public var maximumDays: Int?
    public var maximumPolicy: String?

    /// Bounds of `policies` (at least one).
    public init(_ policies: [Policy]) {
        precondition(!policies.isEmpty, "combine at least one policy")
        let longest = policies.max { $0.retention.minimumDays < $1.retention.minimumDays }!
        minimumDays = longest.retention.minimumDays
        minimumPolicy = longest.id
        let strictest = policies.filter { $0.retention.maximumDays != nil }
            .min { $0.retention.maximumDays! < $1.retention.maximumDays! }
        maximumDays = strictest?.retention.maximumDays
        maximumPolicy = strictest?.id
    }

    /// The policies contradict each other: one requires keeping records longer than another
    /// allows.
    public var conflicting: Bool { maximumDays.map { $0 < minimumDays } ?? false }

    /// What purge may delete: records older than the strictest maximum, but never records a
    /// minimum still requires. Nil when no policy sets a maximum.
    public var purgeAfterDays: Int? { maximumDays.map { max($0, minimumDays) } }
}
