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
            gzip, detected by content; - is standard input) and checks:

              retention   every day of the window holds at least one record (the window:
                          the policy's minimum_days days before --as-of, in its time zone);
              real name   no user publishes before their earliest accepted verification.

            Bad lines and corrupt gzip files never stop the check: they are reported with file, \
            line or byte offset, and the rest is read.

            Examples:
              custody check /var/log/app
              custody check logs/ --as-of 2026-11-26 --format json > check.json
              custody check app.log.gz --policy Policies/cn-csl-2017-network-logs.yaml
              custody check logs/ --policy Policies/cn-apps.yaml --policy gdpr.yaml
              zcat old/*.gz | custody check - --as-of 2026-11-26
              custody check /var/log/gateway --formats formats.yaml --input-format gateway
              custody check /var/log/app --registry verified-users.csv

            --policy may be given more than once: each policy is audited and reported under its \
            own id (above, gdpr.yaml stands for your copy of \
            Policies/eu-gdpr-storage-limitation.yaml with your own period).

            Input that was not understood is never compliant: a file from which no record was read, \
            too many rejected lines (the policy's input.max_rejected_share), or records from which \
            the real-name rule cannot be judged are errors. FIFOs, sockets and devices are skipped, \
            and links leading out of the named paths are not followed (both with a warning).

            Exit status: 0 compliant, 1 not compliant (errors found, unreadable files included), \
            2 usage or configuration error, or nothing to audit (no log file under PATH).
            """)

    @Argument(help: ArgumentHelp("Log files or directories to read; - for standard input.", valueName: "path"))
    var paths: [String]

    @OptionGroup var policyOptions: PolicyOptions

    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp(
            "Check as of this day (YYYY-MM-DD); the window ends the day before. Default: today in the policy's time zone.", valueName: "day"
        ))
    var asOf: CivilDay?

    @Option(
        help: ArgumentHelp(
            "Days before this one (YYYY-MM-DD) are exempt from the retention rule, e.g. when logging began.", valueName: "day"))
    var since: CivilDay?

    @Option(help: ArgumentHelp("Output: text for people, json for machines (custody.check.v1).", valueName: "format"))
    var format: OutputFormat = .text

    @Option(
        name: .customLong("input-format"),
        help: ArgumentHelp(
            "Log format: auto (sniffed per file), a built-in (jsonl, combined, logfmt, syslog, csv, tsv, cri, docker) or a NAME from --formats.",
            valueName: "format"))
    var inputFormat: String = "auto"

    @Option(help: ArgumentHelp("Formats file (YAML, formats.NAME.…) describing log lines; see docs/formats.md.", valueName: "file"))
    var formats: String?

    @Option(
        help: ArgumentHelp(
            "Registry export (CSV with header user,verified_at,method, or JSON lines): verifications from the user database, counted like verification events.",
            valueName: "file"))
    var registry: String?

    @Option(help: ArgumentHelp("Files decoded in parallel (default: number of cores).", valueName: "n"))
    var jobs: Int?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one log file or directory") }
        if paths.filter({ $0 == "-" }).count > 1 { throw ValidationError("- (standard input) can be named only once") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        // Every day of the window would be exempt: a check of nothing, called compliant.
        // The window ends the day before --as-of: from --since = --as-of on, every day is exempt.
        if let since, let asOf, since >= asOf { throw ValidationError("--since \(since) is not before --as-of \(asOf)") }
    }

    func run() async throws {
        try await CLI.guarded {
            let policies = try policyOptions.loadAll()
            let described = try formats.map(FormatsFile.load) ?? [:]
            guard let logFormat = LogFormat.named(inputFormat, in: described) else {
                let names = LogFormat.BuiltIn.allCases.map(\.rawValue) + described.keys.sorted()
                throw CommandFailure(
                    "--input-format \(inputFormat): no such format (known: \(names.joined(separator: ", ")))\(formats == nil ? "; describe it in a formats file and pass --formats FILE" : "")"
                )
            }
            let registryEntries = try registry.map { path in
                do { return try RegistryFile.load(path: path) } catch { throw CommandFailure("\(error)") }
            }
            // Standard input is spooled once, so every policy reads the same bytes.
            let stdin = try paths.contains("-") ? StandardInputSpool() : nil
            defer { withExtendedLifetime(stdin) {} }
            var reports: [CheckReport] = []
            // Several policies: the same check once per policy (a thin layer; each report is
            // exactly the one that policy alone gives).
            for policy in policies {
                let day = asOf ?? today(in: policy.timeZone)
                // An explicit --as-of was checked in `validate`; today is known only per policy.
                if asOf == nil, let since, since >= day {
                    throw CommandFailure("--since \(since) is not before --as-of \(day) (today in the policy's zone)")
                }
                var request = CheckRequest(
                    paths: paths.map { $0 == "-" ? stdin!.path : $0 }, policy: policy,
                    asOf: day, since: since, inputFormat: logFormat,
                    parallelism: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
                if let stdin { request.displayNames[stdin.path] = StandardInputSpool.displayName }
                if let registryEntries { request.registry = registryEntries }
                let progress = TerminalProgress()
                reports.append(
                    try await CheckRunner.run(request) { p in
                        progress.update("custody: read \(p.filesDone)/\(p.filesTotal) files, \(p.records) records")
                    })
                progress.finish()
            }
            if reports.count > 1 {
                let combined = CombinedCheckReport(reports: reports, policies: policies)
                print(format == .json ? combined.json.rendered() : combined.text(), terminator: format == .json ? "\n" : "")
                throw ExitStatus.of(compliant: combined.compliant)
            }
            let report = reports[0]
            switch format {
            case .json:
                // In pieces: with a finding per violating user, the whole text at once was
                // hundreds of megabytes (Benchmarks/RESULTS.md).
                report.writeJSON { print($0, terminator: "") }
                print()
            case .text: print(report.text(), terminator: "")
            }
            throw ExitStatus.of(compliant: report.compliant)
        }
    }
}
