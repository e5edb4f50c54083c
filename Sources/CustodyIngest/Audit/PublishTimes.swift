/// One file's kept publish times (`FileAudit.pendingTimes`): for each user of the file with
/// publish events no verification in the file covered, the exact times of those events, as two
/// arrays in the file's order of users (each user once).
///
/// They serve the rare recount of a span, and are then looked up by name (`times(of:)`). They
/// were a dictionary by name, built for every such user after each file whether a recount came
/// or not: ~35 ms on one core after a file with 70,000 of them (perf).
public struct PublishTimes: Sendable {
    public private(set) var names: [String] = []
    public private(set) var times: [[Int64]] = []

    public init() {}

    public var count: Int { names.count }
    public var isEmpty: Bool { names.isEmpty }

    mutating func reserveCapacity(_ n: Int) {
        names.reserveCapacity(n)
        times.reserveCapacity(n)
    }

    /// Adds a user's times; each user is added once.
    mutating func append(_ name: String, _ userTimes: [Int64]) {
        names.append(name)
        times.append(userTimes)
    }

    /// Adds `other`'s users after these.
    mutating func append(contentsOf other: PublishTimes) {
        names.append(contentsOf: other.names)
        times.append(contentsOf: other.times)
    }

    /// The times kept for `name` (a scan of every user: for tests and single lookups).
    public subscript(name: String) -> [Int64]? {
        names.firstIndex(of: name).map { times[$0] }
    }

    /// The times kept for each user of `verifiedAt` (by name), with that user's verification
    /// time, or nil when one of them has none (its file must then be read again). One pass over
    /// the kept users, looking each up in `verifiedAt`.
    func times(of verifiedAt: [String: Int64]) -> [String: (verifiedAt: Int64, times: [Int64])]? {
        var found: [String: (verifiedAt: Int64, times: [Int64])] = [:]
        found.reserveCapacity(verifiedAt.count)
        for (i, name) in names.enumerated() {
            if let v = verifiedAt[name] { found[name] = (v, times[i]) }
        }
        return found.count == verifiedAt.count ? found : nil
    }

    /// About what the times hold in memory: per user a name, an array header and the entry, and
    /// 8 bytes per time (the budget of a check's kept times counts this).
    var estimatedBytes: Int {
        var bytes = 0
        for i in names.indices { bytes += 96 + names[i].utf8.count + 8 * times[i].count }
        return bytes
    }
}
