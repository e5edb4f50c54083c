import ArgumentParser
import CustodyCore
import CustodyStore
import Foundation

struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "List (or, with --apply, delete) vault objects kept past the policy's maximum_days.",
        discussion: """
            An object is over-retained when its newest record is older than maximum_days before \
            --as-of. Nothing is deleted without --apply. With --apply: an --as-of later than today is \
            refused, as is a ledger that fails verification; an object under a legal hold (as the \
            ledger records holds) is never deleted; each object is read back first, and one holding \
            a record inside the minimum retention window (counted back from today), or one not \
            intact, is kept whatever the state's dates say; every deletion is recorded in the ledger \
            (and the purges table) before the object is removed.
            """)

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Delete the listed objects (those not under a legal hold).")
    var apply = false

    @Option(
        help: ArgumentHelp(
            "Another policy to combine with the configured one (repeatable): the strictest maximum_days and the longest minimum_days govern what is deleted.",
            valueName: "file"))
    var policy: [String] = []

    func run() async throws {
        try await CLI.guarded {
            let (configuration, configured) = try options.load()
            let policy = try CombinedPurgePolicy.make(configured: configured, extra: self.policy)
            let purge = try Purge.run(configuration: configuration, policy: policy, asOf: options.day(for: policy), apply: apply)
            guard let cutoff = purge.cutoff else {
                print("policy \(policy.id) sets no retention.maximum_days: nothing is over-retained")
                return
            }
            print(
                "over-retained: newest record before \(cutoff) (\(policy.retention.maximumDays ?? 0) days): \(purge.candidates.count) object\(purge.candidates.count == 1 ? "" : "s")"
            )
            for c in purge.candidates {
                let state =
                    !c.holds.isEmpty
                    ? "HELD by \(c.holds.joined(separator: ", ")), kept"
                    : c.keptBecause.map { "kept: \($0)" } ?? (purge.deleted.contains(c.sha256) ? "deleted" : "would delete")
                print("  \(c.sha256)  newest \(c.lastDay)  \(c.records) records  \(c.storedSize) bytes  \(state)")
            }
            if !apply && purge.candidates.contains(where: { $0.holds.isEmpty }) {
                print("(dry run: pass --apply to delete)")
            }
        }
    }
}

/// The configured policy with its maximum replaced by what several policies allow together.
enum CombinedPurgePolicy {
    static func make(configured: Policy, extra: [String]) throws -> Policy {
        guard !extra.isEmpty else { return configured }
        let policies = [configured] + (try extra.map { try PolicyLoader.load(path: $0) })
        let bounds = CombinedRetention(policies)
        var combined = configured
        combined.retention.maximumDays = bounds.purgeAfterDays
        if bounds.conflicting {
            FileHandle.standardError.write(
                Data(
                    "custody: warning: \(bounds.minimumPolicy) requires \(bounds.minimumDays) days but \(bounds.maximumPolicy ?? "?") allows only \(bounds.maximumDays ?? 0): nothing younger than \(bounds.minimumDays) days is deleted\n"
                        .utf8))
        }
        return combined
    }
}
