import ArgumentParser
import CustodyCore
import CustodyReports
import CustodyStore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Transparency reports for the public, compliance reports for app teams.",
        subcommands: [Transparency.self, Compliance.self, DSA.self, VerifyReport.self])

    struct Transparency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transparency",
            abstract: "What authorities asked for and what was given, for a period.",
            discussion: """
                For publication. Counts requests received in --period per legal process and per \
                country: requests, accounts specified, requests with some data produced (content, or \
                non-content only, by what was produced), rejected or challenged, no data found, \
                withdrawn, preserved, pending; median times to acknowledge, decide and give effect. \
                Preservation and emergency requests have their own rows. Requests under a \
                non-disclosure order still in force on --as-of appear only as a banded count. \
                Provider, service, contact, methodology, territory names and the provider's own legal \
                process types come from the reporting: section of custody.yaml, or --about FILE. \
                A period that has not ended on --as-of is labelled interim in every format. No user id \
                and no internal compliance figure appears in any output. Same inputs, same bytes.

                Writes transparency-<period>.<format> into --out. The CSV's first seven columns are \
                those of Google's user-data-requests CSV; the counts follow.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31.", valueName: "period")) var period: String
        @Option(help: ArgumentHelp("Any of md, html, json, csv (comma-separated).", valueName: "formats")) var format: String =
            "md,html,json,csv"
        @Option(help: ArgumentHelp("Directory to write into.", valueName: "dir")) var out: String = "."
        @Option(
            help: ArgumentHelp(
                "Report configuration (provider, service, contact, …) instead of custody.yaml's reporting: section.", valueName: "file"))
        var about: String?

        func run() async throws {
            try await CLI.guarded {
                guard let p = ReportPeriod(period) else {
                    throw CommandFailure("--period '\(period)': expected 2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31")
                }
                guard let formats = ReportFormat.list(format) else {
                    throw CommandFailure("--format '\(format)': expected md, html, json and/or csv")
                }
                let (configuration, policy) = try options.load()
                let aboutConfiguration = try ReportConfiguration.load(configuration: configuration, about: about)
                var report = try TransparencyReport.build(
                    configuration: configuration, policy: policy, about: aboutConfiguration,
                    period: p, asOf: options.day(for: policy))
                // The JSON carries the ledger head and a signature anyone can check (custody report verify).
                let ledger = Ledger(configuration: configuration)
                report.signingKeyID = LedgerKey.id(ofPublicKey: try ledger.publicKey())
                let signed = try ReportAttestation.sign(report.json, ledger: ledger)
                let render: (ReportFormat) -> String = { $0 == .json ? signed.rendered() + "\n" : report.render($0) }
                for path in try ReportFormat.write("transparency-\(p.label)", to: out, formats: formats, render: render) { print(path) }
            }
        }
    }

    struct DSA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dsa",
            abstract: "The EU DSA transparency template's member_states_orders part, for orders to provide information.",
            discussion: """
                Writes dsa-member_states_orders-<period>.csv into --out (UTF-8, RFC 4180, the column \
                headers of Annex I of Commission Implementing Regulation (EU) 2024/2835): per Member State \
                and category of illegal content, the number of art. 10 orders to provide information \
                (requests with a member_state) and the median times, in hours, to inform the authority \
                of receipt and to give effect. A correction declared under reporting.dsa_corrections \
                marks the file with its version and date (…-v2.csv). Same ledger head, same bytes.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("2026H1, 2026H2 or 2026.", valueName: "period")) var period: String
        @Option(help: ArgumentHelp("Directory to write into.", valueName: "dir")) var out: String = "."
        @Option(help: ArgumentHelp("Report configuration instead of custody.yaml's reporting: section.", valueName: "file")) var about:
            String?

        func run() async throws {
            try await CLI.guarded {
                guard let p = DSAOrdersReport.period(period) else {
                    throw CommandFailure("--period '\(period)': expected a half year (2026H1, 2026H2) or a year (2026)")
                }
                let (configuration, policy) = try options.load()
                let aboutConfiguration = try ReportConfiguration.load(configuration: configuration, about: about)
                let report = try DSAOrdersReport.build(
                    configuration: configuration, policy: policy, about: aboutConfiguration,
                    period: p, asOf: options.day(for: policy))
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let path = out + "/" + report.fileName
                try report.csv.write(toFile: path, atomically: true, encoding: .utf8)
                print(path)
            }
        }
    }

    struct Compliance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compliance",
            abstract: "Retention coverage day by day and real-name violations, for a period.",
            discussion: "Violating users are pseudonymised with a keyed hash (the key stays in the state directory) unless --reveal-users.")

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31.", valueName: "period")) var period: String
        @Option(help: ArgumentHelp("Any of md, html, json, csv (comma-separated).", valueName: "formats")) var format: String =
            "md,html,json,csv"
        @Option(help: ArgumentHelp("Directory to write into.", valueName: "dir")) var out: String = "."
        @Flag(name: .customLong("reveal-users"), help: "Show user ids instead of pseudonyms.") var revealUsers = false

        func run() async throws {
            try await CLI.guarded {
                guard let p = ReportPeriod(period) else {
                    throw CommandFailure("--period '\(period)': expected 2026H2, 2026, 2026Q3 or 2026-07-01..2026-12-31")
                }
                guard let formats = ReportFormat.list(format) else {
                    throw CommandFailure("--format '\(format)': expected md, html, json and/or csv")
                }
                let (configuration, policy) = try options.load()
                let report = try ComplianceReport.build(
                    configuration: configuration, policy: policy, period: p, asOf: options.day(for: policy),
                    revealUsers: revealUsers)
                for path in try ReportFormat.write("compliance-\(p.label)", to: out, formats: formats, render: report.render) {
                    print(path)
                }
            }
        }
    }
}
