import ArgumentParser
import CustodyCore
import CustodyStore
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show retention coverage, violations, the vault and the last run, from the state alone.",
        discussion:
            "Reads the state directory (no log file is read; the configured sources are only looked for: one missing or empty is an error finding). Exit status: 0 compliant, 1 not, 2 configuration error."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Output: text or json (custody.status.v1).", valueName: "format"))
    var format: OutputFormat = .text

    func run() async throws {
        try await CLI.guarded {
            let (configuration, policy) = try options.load()
            let status = try StateStatus.load(configuration: configuration, policy: policy, asOf: options.day(for: policy))
            switch format {
            case .json: print(status.json.rendered())
            case .text: print(status.text, terminator: "")
            }
            throw ExitStatus.of(compliant: status.report.compliant)
        }
    }
}
