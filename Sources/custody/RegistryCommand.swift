import ArgumentParser
import CustodyCore
import CustodyIngest
import CustodyStore
import Foundation

struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Verifications from the user database: import them into the state, list what is known.",
        subcommands: [Import.self, List.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Record verifications from a registry export (CSV with header user,verified_at,method, or JSON lines).",
            discussion:
                "All or nothing: a bad row is named by its line and nothing is imported. Importing the same rows again changes nothing. A verification counts like a verification event at its time."
        )

        @OptionGroup var options: StateOptions

        @Argument(help: ArgumentHelp("Registry export file.", valueName: "file"))
        var file: String

        func run() async throws {
            try await CLI.guarded {
                let (configuration, _) = try options.load()
                let rows: [RegistryVerification]
                do { rows = try RegistryFile.load(path: file) } catch { throw CommandFailure("\(error)") }
                let database = try StateDatabase(directory: configuration.stateDirectory)
                let result = try RegistryStore.importRows(rows, source: file, into: database)
                print("imported \(file): \(result.rows) rows, \(result.added) new")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List every known verification and where it came from (log or registry).")

        @OptionGroup var options: StateOptions

        @Option(help: ArgumentHelp("Output: text or json (custody.registry.v1).", valueName: "format"))
        var format: OutputFormat = .text

        func run() async throws {
            try await CLI.guarded {
                let (configuration, _) = try options.load()
                let entries = try RegistryStore.list(database: StateDatabase(directory: configuration.stateDirectory))
                switch format {
                case .json:
                    let items: [JSONValue] = entries.map { e in
                        .object([
                            ("user", .string(e.user)), ("verified_at", .string(TimestampParser.formatUTC(e.verifiedAt))),
                            ("origin", .string(e.origin)), ("method", e.method.map(JSONValue.string) ?? .null),
                            ("source", e.source.map(JSONValue.string) ?? .null),
                        ])
                    }
                    print(JSONValue.object([("schema", .string("custody.registry.v1")), ("verifications", .array(items))]).rendered())
                case .text:
                    for e in entries {
                        let detail = e.origin == "registry" ? "registry \(e.method ?? "") \(e.source ?? "")" : "log"
                        print("\(e.user.debugDescription.dropFirst().dropLast())\t\(TimestampParser.formatUTC(e.verifiedAt))\t\(detail)")
                    }
                }
            }
        }
    }
}
