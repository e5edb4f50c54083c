import ArgumentParser
import CustodyCore
import CustodyIngest
import Foundation

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Audit logs against a policy: retention coverage and real-name registration.",
        discussion: """
        Reads every file under PATH (directories recursively, hidden files skipped; plain or \
        gzip, detected by content) and checks:

          retention   every calendar day of the window (the policy's minimum_days days before \
        --as-of, in the policy's time zone) holds at least one record;
          real name   no user publishes before their earliest accepted verification.

        Bad lines and corrupt gzip files never stop the check: they are reported with file, \
        line or byte offset, and the rest is read.

        Examples:
          custody check /var/log/app
          custody check logs/ --as-of 2026-11-26 --format json > check.json
          custody check app.log.gz --policy Policies/cn-csl-2017-network-logs.yaml
          custody check /var/log/gateway --formats formats.yaml --input-format gateway
          custody check /var/log/app --registry verified-users.csv

        Exit status: 0 compliant, 1 not compliant (errors found, unreadable files included), \
        2 usage or configuration error.
        """)

    @Argument(help: ArgumentHelp("Log files or directories to read.", valueName: "path"))
    var paths: [String]

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .customLong("as-of"), help: ArgumentHelp("Check as of this day (YYYY-MM-DD); the window ends the day before. Default: today in the policy's time zone.", valueName: "day"))
    var asOf: CivilDay?

    @Option(help: ArgumentHelp("Days before this one (YYYY-MM-DD) are exempt from the retention rule, e.g. when logging began.", valueName: "day"))
    var since: CivilDay?

    @Option(help: ArgumentHelp("Output: text for people, json for machines (custody.check.v1).", valueName: "format"))
    var format: OutputFormat = .text

    @Option(name: .customLong("input-format"), help: ArgumentHelp("Log format: auto (sniffed per file), a built-in (jsonl, combined, logfmt, syslog, csv, tsv, cri, docker) or a NAME from --formats.", valueName: "format"))
    var inputFormat: String = "auto"

    @Option(help: ArgumentHelp("Formats file (YAML, formats.NAME.…) describing log lines; see docs/formats.md.", valueName: "file"))
    var formats: String?

    @Option(help: ArgumentHelp("Registry export (CSV with header user,verified_at,method, or JSON lines): verifications from the user database, counted like verification events.", valueName: "file"))
    var registry: String?

    @Option(help: ArgumentHelp("Files decoded in parallel (default: number of cores).", valueName: "n"))
    var jobs: Int?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one log file or directory") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        try await CLI.guarded {
            let policy = try policyOptions.load()
            let described = try formats.map(FormatsFile.load) ?? [:]
            guard let logFormat = LogFormat.named(inputFormat, in: described) else {
                let names = LogFormat.BuiltIn.allCases.map(\.rawValue) + described.keys.sorted()
                throw CommandFailure("--input-format \(inputFormat): no such format (known: \(names.joined(separator: ", ")))\(formats == nil ? "; describe it in a formats file and pass --formats FILE" : "")")
            }
            var request = CheckRequest(paths: paths, policy: policy, asOf: asOf ?? today(in: policy.timeZone),
                                       since: since, inputFormat: logFormat,
                                       parallelism: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
            if let registry {
                do { request.registry = try RegistryFile.load(path: registry) } catch { throw CommandFailure("\(error)") }
            }
            let progress = TerminalProgress()
            let report = try await CheckRunner.run(request) { p in
                progress.update("custody: read \(p.filesDone)/\(p.filesTotal) files, \(p.records) records")
            }
            progress.finish()
            switch format {
            case .json: print(report.json.rendered())
            case .text: print(report.text(), terminator: "")
            }
            throw ExitStatus.of(compliant: report.compliant)
        }
    }
}
