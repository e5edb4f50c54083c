import ArgumentParser
import CustodyCore
import CustodyDisclosure
import CustodyStore
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash the vault, check the ledger and evidence packages; report what fails.",
        discussion: """
        Every vault object is decompressed and hashed again; its name is the SHA-256 of its \
        content, so any change shows. Then every day of the retention window must be held by an \
        intact object: a day whose records were ingested but whose copy is gone was deleted early.
        The ledger's hash chain and checkpoint signatures are re-checked (the first entry that \
        fails is named), and every evidence package still on disk is re-hashed against the \
        SHA-256 values the ledger recorded.

        Exit status: 0 all intact and covered, 1 otherwise, 2 configuration error.
        """)

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Output: text or json (custody.verify.v1).", valueName: "format"))
    var format: OutputFormat = .text

    func run() async throws {
        try await CLI.guarded {
            let (configuration, policy) = try options.load()
            var result = try VaultVerification.run(configuration: configuration, policy: policy, asOf: options.day(for: policy))
            let book = try RequestBook(configuration: configuration)
            let ledger = try book.ledger.verify(database: book.database)
            if let failure = ledger.firstFailure {
                result.findings.append(Finding(rule: .ledgerBroken, severity: .error,
                                               message: "ledger entry \(failure.seq) fails: \(failure.reason)", line: Int(failure.seq)))
            }
            let packages = try PackageVerification.run(book: book)
            for problem in packages.problems {
                result.findings.append(Finding(rule: .packageAltered, severity: problem.isError ? .error : .warning,
                                               message: problem.message, file: problem.directory))
            }
            switch format {
            case .json:
                print(JSONValue.object([
                    ("schema", .string("custody.verify.v1")),
                    ("objects_checked", .int(result.objectsChecked)),
                    ("ledger", .object([("entries", .int(ledger.entries)), ("checkpoints", .int(ledger.checkpoints)),
                                        ("last_signed_seq", ledger.lastSignedSeq.map { .int(Int($0)) } ?? .null),
                                        ("head_sha256", ledger.headHash.map { .string($0) } ?? .null)])),
                    ("packages_checked", .int(packages.checked)),
                    ("window_start", .string(result.window.lowerBound.description)),
                    ("window_end", .string(result.window.upperBound.description)),
                    ("findings", .array(result.findings.map(\.json))),
                    ("ok", .bool(result.ok)),
                ]).rendered())
            case .text:
                print("custody verify — \(result.objectsChecked) vault objects checked, window \(result.window.lowerBound) … \(result.window.upperBound)")
                print("  ledger: \(ledger.entries) entries, \(ledger.checkpoints) signed checkpoints\(ledger.headHash.map { ", head \($0.prefix(16))…" } ?? ""); \(packages.checked) evidence package\(packages.checked == 1 ? "" : "s") re-hashed")
                for finding in result.findings { print("  \(finding.severity.rawValue): \(finding.message)") }
                print(result.ok ? "OK: every object intact, every day covered" : "FAILED: \(result.findings.count) problem\(result.findings.count == 1 ? "" : "s")")
            }
            throw ExitStatus.of(compliant: result.ok)
        }
    }
}
