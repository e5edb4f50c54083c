import ArgumentParser
import CustodyCore
import CustodyReports
import CustodyStore
import Foundation

extension ReportCommand {
    /// `custody report verify`: for journalists, regulators, anyone holding a published report.
    struct VerifyReport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract:
                "Check a published transparency report's signature (and, with a ledger export, that its numbers follow from the ledger).",
            discussion: """
                Needs no state and no configuration: the report's JSON edition, the provider's \
                published public key (`custody ledger key`), and optionally a ledger export \
                (`custody ledger export`). Checks that the signature covers the report as published, \
                and that the ledger entry the report was built from is in the export, whose chain and \
                closing checkpoint must be intact and signed by the same key. With --ledger it also \
                recounts the report from the export alone (the last request.state entry of each request \
                up to the report's ledger head, with the period, as-of day and basis the report states) \
                and compares every count, median, row and label; the first difference is named by its \
                field path with both values. A report without a basis (made by an older Custody) \
                cannot be recounted and does not verify.

                Exit status: 0 every check passed, 1 a check failed, 2 usage error (unreadable file or key).
                """)

        @Argument(help: ArgumentHelp("The report's JSON edition (transparency-<period>.json).", valueName: "report.json"))
        var report: String
        @Option(
            name: .customLong("public-key"),
            help: ArgumentHelp("The provider's Ed25519 public key: base64, or a file holding it.", valueName: "key"))
        var publicKey: String
        @Option(
            help: ArgumentHelp(
                "A ledger export (custody ledger export): find the report's ledger head in it and recount every number from it.",
                valueName: "file"))
        var ledger: String?

        func run() async throws {
            try await CLI.guarded {
                guard let text = try? String(contentsOfFile: report, encoding: .utf8) else {
                    throw CommandFailure("\(report): cannot read")
                }
                let key = try LedgerKey.publicKey(from: publicKey)
                var export: String?
                if let ledger {
                    guard let read = try? String(contentsOfFile: ledger, encoding: .utf8) else {
                        throw CommandFailure("\(ledger): cannot read")
                    }
                    export = read
                }
                let outcome = ReportAttestation.verify(reportText: text, publicKey: key, ledgerExport: export)
                for line in outcome.passed { print("ok: \(line)") }
                for line in outcome.problems { print("FAILED: \(line)") }
                print(outcome.ok ? "VERIFIED: \(report)" : "NOT VERIFIED: \(report)")
                throw ExitStatus.of(compliant: outcome.ok)
            }
        }
    }
}
