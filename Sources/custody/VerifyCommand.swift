import ArgumentParser
import CustodyCore
import CustodyDisclosure
import CustodyStore
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the evidence (vault, ledger, checkpoints, tables, packages) and retention coverage.",
        discussion: """
            Integrity: every vault object is hashed again against its name, and every object file in \
            the vault must be one the state lists; the per-day counts the state keeps are recounted \
            from the objects; the ledger's hash chain and signatures are checked with the signing key \
            (ledger_key); the ledger must still contain and extend every checkpoint given with \
            --checkpoint and every one in witness_directory; the requests, decisions, productions, \
            holds and purges tables must agree with the ledger; every evidence package on disk is \
            re-hashed, and a file its manifest does not list is an error.

            Compliance: every day of the retention window must be held by an intact vault object.

            verify never creates anything: a missing state.db or signing key is an error.

            Exit status: 0 intact and compliant; 1 intact but not compliant (days not covered); \
            3 an integrity check failed (whatever the compliance); 2 usage or configuration error, \
            or no state or key to check. Warnings (a package moved away after hand-over) change nothing.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Output: text or json (custody.verify.v1).", valueName: "format"))
    var format: OutputFormat = .text

    @Option(
        name: .customLong("checkpoint"), parsing: .upToNextOption,
        help: ArgumentHelp(
            "Checkpoint files (custody ledger checkpoint) or directories of them the ledger must still contain.", valueName: "file"))
    var checkpoints: [String] = []

    func run() async throws {
        try await CLI.guarded {
            let (configuration, policy) = try options.load()
            let result = try StateVerification.run(
                configuration: configuration, policy: policy, asOf: options.day(for: policy),
                checkpoints: checkpoints)
            let ledger = result.ledger
            let window = result.vault.window
            switch format {
            case .json:
                print(
                    JSONValue.object([
                        ("schema", .string("custody.verify.v1")),
                        ("objects_checked", .int(result.vault.objectsChecked)),
                        (
                            "ledger",
                            .object([
                                ("entries", .int(ledger.entries)), ("checkpoints", .int(ledger.checkpoints)),
                                ("last_signed_seq", ledger.lastSignedSeq.map { .int(Int($0)) } ?? .null),
                                ("head_sha256", ledger.headHash.map { .string($0) } ?? .null),
                                ("key_id", .string(ledger.keyID)),
                                ("checkpoints_given", .int(ledger.checkpointsGiven)),
                            ])
                        ),
                        ("packages_checked", .int(result.packagesChecked)),
                        ("window_start", .string(window.start.description)),
                        ("window_end", .string(window.end.description)),
                        ("integrity", .object([("ok", .bool(result.integrityOK)), ("findings", .array(result.integrity.map(\.json)))])),
                        ("compliance", .object([("ok", .bool(result.compliant)), ("findings", .array(result.compliance.map(\.json)))])),
                        ("warnings", .array(result.warnings.map(\.json))),
                        ("findings", .array((result.integrity + result.compliance + result.warnings).map(\.json))),
                        ("ok", .bool(result.integrityOK && result.compliant)),
                    ]).rendered())
            case .text:
                print("custody verify — \(result.vault.objectsChecked) vault objects checked, window \(window.start) … \(window.end)")
                print(
                    "  ledger: \(ledger.entries) entries, \(ledger.checkpoints) signed checkpoints\(ledger.headHash.map { ", head \($0.prefix(16))…" } ?? ""), key \(ledger.keyID); \(ledger.checkpointsGiven) checkpoint\(ledger.checkpointsGiven == 1 ? "" : "s") from elsewhere; \(result.packagesChecked) evidence package\(result.packagesChecked == 1 ? "" : "s") re-hashed"
                )
                print(
                    "Integrity: "
                        + (result.integrityOK
                            ? "OK (hashes, chain, signatures, checkpoints, tables, packages)"
                            : "FAILED (\(result.integrity.count) problem\(result.integrity.count == 1 ? "" : "s"))"))
                for finding in result.integrity { print("  \(finding.rule.rawValue): \(finding.message)") }
                print(
                    "Compliance: "
                        + (result.compliant
                            ? "every day of the window is held by an intact vault object"
                            : "\(result.compliance.count) day\(result.compliance.count == 1 ? "" : "s") of the window not covered"))
                for finding in result.compliance { print("  \(finding.rule.rawValue): \(finding.message)") }
                if !result.warnings.isEmpty {
                    print("Warnings (not problems):")
                    for finding in result.warnings { print("  \(finding.rule.rawValue): \(finding.message)") }
                }
            }
            if !result.integrityOK { throw ExitCode(ExitStatus.integrityFailure.rawValue) }
            throw ExitStatus.of(compliant: result.compliant)
        }
    }
}
