import ArgumentParser
import CustodyCore
import CustodyStore
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash the vault and report missing or altered objects and uncovered days.",
        discussion: """
        Every vault object is decompressed and hashed again; its name is the SHA-256 of its \
        content, so any change shows. Then every day of the retention window must be held by an \
        intact object: a day whose records were ingested but whose copy is gone was deleted early.

        Exit status: 0 all intact and covered, 1 otherwise, 2 configuration error.
        """)

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Output: text or json (custody.verify.v1).", valueName: "format"))
    var format: OutputFormat = .text

    func run() async throws {
        do {
            let (configuration, policy) = try options.load()
            let result = try VaultVerification.run(configuration: configuration, policy: policy, asOf: options.day(for: policy))
            switch format {
            case .json:
                print(JSONValue.object([
                    ("schema", .string("custody.verify.v1")),
                    ("objects_checked", .int(result.objectsChecked)),
                    ("window_start", .string(result.window.lowerBound.description)),
                    ("window_end", .string(result.window.upperBound.description)),
                    ("findings", .array(result.findings.map(\.json))),
                    ("ok", .bool(result.ok)),
                ]).rendered())
            case .text:
                print("custody verify — \(result.objectsChecked) vault objects checked, window \(result.window.lowerBound) … \(result.window.upperBound)")
                for finding in result.findings { print("  \(finding.severity.rawValue): \(finding.message)") }
                print(result.ok ? "OK: every object intact, every day covered" : "FAILED: \(result.findings.count) problem\(result.findings.count == 1 ? "" : "s")")
            }
            throw ExitCode(result.ok ? 0 : 1)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CommandFailure.from(error)
        }
    }
}
