import ArgumentParser
import CustodyCore
import Foundation

/// `custody policy list|show|lint`: the policy library, inspectable.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "List, explain and lint policies.",
        discussion: """
            Policies live in Policies/ in the current directory, else in the directory installed \
            with custody (<prefix>/share/custody/policies); --dir names another.

            Exit status: 0 ok; 1 lint found warnings; 2 a policy failed to load, or usage error.
            """,
        subcommands: [List.self, Show.self, Lint.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "One line per policy: id, status, jurisdiction, minimum and maximum days, title.")

        @Option(help: ArgumentHelp("Directory of policy files (default: Policies/, else the installed policies).", valueName: "dir"))
        var dir: String?

        func run() async throws {
            try await CLI.guarded {
                let directory = try PolicyLibrary.directory(explicit: dir)
                let entries = try PolicyLibrary.entries(in: directory)
                print("policies in \(directory)")
                var rows = [["ID", "STATUS", "JURIS.", "MIN", "MAX", "TITLE"]]
                for case .loaded(_, let policy) in entries {
                    let r = policy.retention
                    rows.append([
                        policy.id, policy.provenance.status?.rawValue ?? "unstated", policy.jurisdiction,
                        r.minimumDays == 0 ? "-" : String(r.minimumDays),
                        r.maximumDays.map { String($0) + (r.maximumBasis == .custodyDefault ? "*" : "") } ?? "-",
                        policy.title,
                    ])
                }
                print(PolicyLibrary.table(rows), terminator: "")
                if entries.contains(where: { if case .loaded(_, let p) = $0 { p.retention.maximumBasis == .custodyDefault } else { false } }
                ) {
                    print("* Custody's default, not set by law")
                }
                var failed = false
                for case .failed(let path, let error) in entries {
                    FileHandle.standardError.write(Data("custody: \(path): not listed: \(error)\n".utf8))
                    failed = true
                }
                if failed { throw ExitCode(ExitStatus.usage.rawValue) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "A policy's rules in plain words, with citations and status.")

        @Argument(help: ArgumentHelp("A policy id (looked up in the policy directory) or a policy file.", valueName: "id-or-file"))
        var policy: String

        @Option(help: ArgumentHelp("Directory to look the id up in.", valueName: "dir"))
        var dir: String?

        func run() async throws {
            try await CLI.guarded {
                let (path, loaded) = try PolicyLibrary.find(policy, explicitDirectory: dir)
                print(PolicyDescription.text(loaded, file: path), terminator: "")
            }
        }
    }

    struct Lint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lint",
            abstract: "Load policy files strictly; warn when they do not say where their rules come from.",
            discussion: """
                Errors (unknown keys, wrong types, bad values) are one line each on stderr naming the \
                file, line and key: exit status 2. Warnings (no sources, a source without article, \
                url or document number, no status, no effective_from, no basis for a retention \
                number) are listed on stdout: exit status 1. A clean file prints "ok": exit status 0.
                """)

        @Argument(help: ArgumentHelp("Policy files.", valueName: "file"))
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one policy file") }
        }

        func run() async throws {
            var status = ExitStatus.compliant
            for file in files {
                do {
                    let policy = try PolicyLoader.load(path: file)
                    let warnings = PolicyLint.warnings(policy)
                    if warnings.isEmpty {
                        print("\(file): ok")
                    } else {
                        for warning in warnings { print("\(file): warning: \(warning)") }
                        if status == .compliant { status = .notCompliant }
                    }
                } catch {
                    FileHandle.standardError.write(Data("custody: \(CommandFailure.from(error).message)\n".utf8))
                    status = .usage
                }
            }
            throw ExitCode(status.rawValue)
        }
    }
}
