import ArgumentParser
import CustodyCore
import CustodyReports
import CustodyStore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Transparency reports for the public, compliance reports for app teams.",
        subcommands: [Transparency.self, Compliance.self, VerifyReport.self])

    struct Transparency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What authorities asked for and what was given, for a period.",
            discussion: """
            Counts requests received in --period by jurisdiction, authority, legal process and \
            basis; accounts specified and affected; outcomes per legal process (Rejected / No data / \
            Content / Non-content); content vs non-content, cross-border, median days to decision, \
            overdue. Requests under a non-disclosure order still in force on --as-of appear only as a \
            banded count. No user id appears in any output. Same inputs, same bytes.

            Writes transparency-<period>.<format> into --out. The CSV has the columns of Google's \
            user-data-requests CSV, so it can sit beside other companies' data.
            """)

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31.", valueName: "period")) var period: String
        @Option(help: ArgumentHelp("Any of md, html, json, csv (comma-separated).", valueName: "formats")) var format: String = "md,html,json,csv"
        @Option(help: ArgumentHelp("Directory to write into.", valueName: "dir")) var out: String = "."

        func run() async throws {
            try await CLI.guarded {
                guard let p = ReportPeriod(period) else { throw CommandFailure("--period '\(period)': expected 2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31") }
                guard let formats = ReportFormat.list(format) else { throw CommandFailure("--format '\(format)': expected md, html, json and/or csv") }
                let (configuration, policy) = try options.load()
                var report = try TransparencyReport.build(configuration: configuration, policy: policy, period: p, asOf: options.day(for: policy))
                // The JSON carries the ledger head and a signature anyone can check (custody report verify).
                let ledger = Ledger(configuration: configuration)
                report.signingKeyID = LedgerKey.id(ofPublicKey: try ledger.publicKey())
                let signed = try ReportAttestation.sign(report.json, ledger: ledger)
                let render: (ReportFormat) -> String = { $0 == .json ? signed.rendered() + "\n" : report.render($0) }
                for path in try ReportFormat.write("transparency-\(p.label)", to: out, formats: formats, render: render) { print(path) }
            }
        }
    }

    struct Compliance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retention coverage day by day and real-name violations, for a period.",
            discussion: "Violating users are pseudonymised with a keyed hash (the key stays in the state directory) unless --reveal-users.")

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31.", valueName: "period")) var period: String
        @Option(help: ArgumentHelp("Any of md, html, json, csv (comma-separated).", valueName: "formats")) var format: String = "md,html,json,csv"
        @Option(help: ArgumentHelp("Directory to write into.", valueName: "dir")) var out: String = "."
        @Flag(name: .customLong("reveal-users"), help: "Show user ids instead of pseudonyms.") var revealUsers = false

        func run() async throws {
            try await CLI.guarded {
                guard let p = ReportPeriod(period) else { throw CommandFailure("--period '\(period)': expected 2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31") }
                guard let formats = ReportFormat.list(format) else { throw CommandFailure("--format '\(format)': expected md, html, json and/or csv") }
                let (configuration, policy) = try options.load()
                let report = try ComplianceReport.build(configuration: configuration, policy: policy, period: p, asOf: options.day(for: policy),
                                                        revealUsers: revealUsers)
                for path in try ReportFormat.write("compliance-\(p.label)", to: out, formats: formats, render: report.render) { print(path) }
            }
        }
    }
}
