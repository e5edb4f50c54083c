import ArgumentParser
import CustodyCore
import Foundation

/// The root command. Subcommands live one per file.
struct Custody: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody",
        abstract: "Keep app activity logs honest: retention, real-name registration, disclosures.",
        discussion: """
            Custody reads app activity logs (JSON lines, nginx/Apache combined, logfmt; plain or \
            gzip) and checks them against a policy: every day of the retention window must hold \
            records, and users must verify their real identity before they publish.

              App teams and CI   custody check LOGS...
              Operators          custody run | daemon | status | verify | purge
              Legal and policy   custody request ... | hold list|extend | ledger init|key|checkpoint|export | report ...
              Policies           custody policy list | show ID | lint FILE
              The public         custody report verify REPORT.json --public-key KEY

            Exit status: 0 compliant, 1 not compliant, 2 usage or configuration error, 3 (verify) \
            an integrity check failed, 75 another run holds the state directory's lock.
            """,
        version: CustodyVersion.string,
        subcommands: [
            CheckCommand.self, RunCommand.self, DaemonCommand.self, StatusCommand.self, VerifyCommand.self, PurgeCommand.self,
            RequestCommand.self, HoldCommand.self, LedgerCommand.self, ReportCommand.self, PolicyCommand.self,
            RegistryCommand.self,
        ])
}

enum CustodyVersion {
    static let string = "0.1.0"
}

@main
enum Main {
    static func main() async {
        do {
            var command = try parse(Array(CommandLine.arguments.dropFirst()))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(for: error)
        }
    }

    /// The command `arguments` name. `check` and `run`, which CI, cron and the benchmark start
    /// most, are first parsed on their own: parsing against the whole tree (a dozen commands whose
    /// options are read by reflection, and the completion-script request looked for in all of
    /// them) took about a third of a check's start-up before its first file was read. Whatever
    /// does not parse that way (help, a mistake, another command) is parsed against the whole
    /// tree, whose messages and help name `custody` as always.
    static func parse(_ arguments: [String]) throws -> ParsableCommand {
        if let command = parsedOnItsOwn(arguments) { return command }
        return try Custody.parseAsRoot(arguments)
    }

    /// `check` or `run` parsed without the rest of the tree; nil for any other command, and for
    /// arguments that do not parse (valid) that way.
    static func parsedOnItsOwn(_ arguments: [String]) -> ParsableCommand? {
        let rest = Array(arguments.dropFirst())
        switch arguments.first {
        case "check": return try? CheckCommand.parse(rest)
        case "run": return try? RunCommand.parse(rest)
        default: return nil
        }
    }

    /// Help and version go to stdout with status 0; every other error is one line on stderr and
    /// the contract's status (2 for usage and configuration errors).
    static func exit(for error: Error) -> Never {
        switch error {
        case let status as ExitCode:
            Foundation.exit(status.rawValue)
        case let failure as CommandFailure:
            FileHandle.standardError.write(Data("custody: \(failure.message)\n".utf8))
            Foundation.exit(failure.status.rawValue)
        default:
            if Custody.exitCode(for: error) == .success { Custody.exit(withError: error) }
            let message = Custody.message(for: error)
            FileHandle.standardError.write(Data("custody: \(message)\n".utf8))
            FileHandle.standardError.write(Data("Run 'custody help' or 'custody <command> --help' for usage.\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
    }
}
