import ArgumentParser
import CustodyCore
import CustodyStore
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Ingest what is new from the configured sources into the state and vault, then audit.",
        discussion: """
            For cron and systemd timers. Each log file is identified by its decompressed first bytes, \
            so rotation (app.log → app.log.1 → app.log.2.gz) and copytruncate never count a line \
            twice or skip one; a growing file is resumed where the last run stopped. Every new stretch \
            of content is copied into the vault (gzip, named by its SHA-256) before the state records \
            it, in one transaction per group of files: a run killed at any moment is finished by the next.

            The audit covers everything the state holds, so retention survives the app deleting its \
            own logs. Prints the same report as `custody check`; logs one line per event on stderr.

            With --alert (what contrib/custody.cron uses) a compliant run prints nothing, and a run \
            that is not compliant prints a short summary on stdout: cron mails it.

            Exit status: 0 compliant, 1 not compliant, 2 configuration error, 75 another run holds \
            the state directory's lock.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Output: text or json (custody.check.v1).", valueName: "format"))
    var format: OutputFormat = .text

    @Option(help: ArgumentHelp("Files read in parallel (default: number of cores).", valueName: "n"))
    var jobs: Int?

    @Flag(help: "Log only warnings and errors.")
    var quiet = false

    @Flag(help: "For cron: print nothing when compliant, else a short summary and where to see the details; log only errors.")
    var alert = false

    func validate() throws {
        if alert && format != .text { throw ValidationError("--alert prints a summary for people; leave out --format") }
    }

    func run() async throws {
        Logs.bootstrap(level: alert ? .error : quiet ? .warning : .info)
        try await CLI.guarded {
            let (configuration, policy) = try options.load()
            let summary = try await Operations.runOnce(
                configuration: configuration, policy: policy, asOf: options.day(for: policy),
                jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, shouldStop: { false })
            if alert {
                print(summary.report.alert(details: detailsCommand), terminator: "")
            } else {
                switch format {
                case .json:
                    summary.report.writeJSON { print($0, terminator: "") }
                    print()
                case .text: print(summary.report.text(), terminator: "")
                }
            }
            throw ExitStatus.of(compliant: summary.report.compliant)
        }
    }

    /// The command an alert names for the full list: `status` on the same state and day.
    private var detailsCommand: String {
        let safe = options.config.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }
        let config = safe ? options.config : "'" + options.config.replacingOccurrences(of: "'", with: "'\\''") + "'"
        return "custody status --config \(config)" + (options.asOf.map { " --as-of \($0)" } ?? "")
    }
}

/// Shared by `run` and `daemon`: one ingestion run plus its metrics file.
enum Operations {
    static func runOnce(
        configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay, jobs: Int,
        shouldStop: @escaping @Sendable () -> Bool
    ) async throws -> RunSummary {
        let summary = try await IngestionRun.run(
            configuration: configuration, policy: policy, asOf: asOf, jobs: jobs,
            logger: Logs.logger, shouldStop: shouldStop)
        Logs.logger.info(
            "run \(summary.runID) done in \(String(format: "%.2f", summary.duration)) s: \(summary.filesRead) files read, \(summary.recordsAdded) records added; \(summary.report.compliant ? "compliant" : "not compliant")"
        )
        if let metrics = configuration.metricsFile {
            do {
                try MetricsFile.write(MetricsFile.render(summary, lastSuccess: Date()), to: metrics)
            } catch {
                Logs.logger.error("metrics: \(error)")
            }
        }
        return summary
    }
}
