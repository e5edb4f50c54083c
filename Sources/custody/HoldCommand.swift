import ArgumentParser
import CustodyCore
import CustodyDisclosure
import CustodyStore
import Foundation

/// `custody hold …`: legal holds placed by requests.
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Legal holds placed by requests.",
        subcommands: [List.self, Extend.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List active legal holds, and when expiring ones lapse.",
            discussion:
                "US preservation holds (18 U.S.C. § 2703(f)) lapse 90 days after the request, or 180 after one extension; others last until the request is closed. --as-of: the day to judge lapsed holds on."
        )
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try await CLI.guarded {
                let (configuration, policy) = try options.load()
                let book = try RequestBook(configuration: configuration)
                let holds = try book.holds()
                let expiries = try book.holdExpiries()
                let now = options.day(for: policy).description
                if holds.isEmpty { Swift.print("no active legal holds") }
                for h in holds {
                    var line = "\(h.request)  \(h.object)  newest \(h.lastDay ?? "?")  since \(h.placedAt)"
                    if let expiry = expiries[h.request] {
                        let state = expiry.expiresAt < now ? "LAPSED" : "expires"
                        line +=
                            "  \(state) \(expiry.expiresAt) (\(RequestBook.preservationLaw)\(expiry.extensions > 0 ? ", extended" : ""))"
                    }
                    Swift.print(line)
                }
            }
        }
    }

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "extend",
            abstract: "Extend a US preservation hold by 90 days (once, before it lapses).",
            discussion:
                "18 U.S.C. § 2703(f)(2): preserved for 90 days, extended for another 90 upon a renewed request. Recorded in the ledger.")
        @OptionGroup var options: LedgerCommand.LedgerOptions
        @Argument(help: "Request id.") var id: String

        func run() async throws {
            try await CLI.guarded {
                let expiry = try RequestBook(configuration: options.load()).extendHold(id)
                Swift.print("\(id): preservation hold extended to \(expiry)")
            }
        }
    }
}
