import ArgumentParser
import CustodyCore
import CustodyStore
import Foundation
import GRDB

/// `custody ledger …`: the signing key, checkpoints and exports of the tamper-evident ledger.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "The tamper-evident ledger: its signing key, checkpoints and exports.",
        discussion: """
            The signing key lives at ledger_key (custody.yaml; default ledger.key beside it), never in \
            the state directory, and is created only by `custody ledger init`. Keep checkpoints \
            (`custody ledger checkpoint`, or witness_directory) on other storage: `custody verify \
            --checkpoint` then proves the ledger was not truncated, wiped, rolled back or re-signed.
            """,
        subcommands: [Init.self, Key.self, Checkpoint.self, Export.self])

    /// The options of these commands: only the configuration (no --as-of).
    struct LedgerOptions: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("Configuration file (state directory, ledger_key, witness_directory).", valueName: "file"))
        var config: String = CustodyConfiguration.defaultPath

        func load() throws -> CustodyConfiguration { try CustodyConfiguration.load(path: config) }
    }

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create the ledger's Ed25519 signing key at ledger_key (mode 0600).",
            discussion: """
                Never replaces a key. States made by earlier versions kept the key inside the state \
                directory (ledger-signing.key); --import-key moves that key to ledger_key (and removes \
                it from the state directory), so every signature already in the ledger stays valid.
                """)

        @OptionGroup var options: LedgerOptions
        @Flag(name: .customLong("import-key"), help: "Move the key an older version kept in the state directory to ledger_key.")
        var importKey = false
        @Option(help: ArgumentHelp("With --import-key: the key file to import instead.", valueName: "file"))
        var from: String?

        func run() async throws {
            try await CLI.guarded {
                let configuration = try options.load()
                let legacy = configuration.stateDirectory + "/" + LedgerKey.legacyFileName
                let publicKey: String
                if importKey {
                    publicKey = try LedgerKey.create(path: configuration.ledgerKey, importing: from ?? legacy)
                } else {
                    if FileManager.default.fileExists(atPath: legacy) {
                        throw CommandFailure(
                            "the state directory holds the key that signed this ledger (\(legacy)): move it out with `custody ledger init --import-key`"
                        )
                    }
                    if let signer = try Self.existingSigner(configuration) {
                        throw CommandFailure(
                            "this ledger is signed by key \(signer); a new key would not verify it: import that key (custody ledger init --import-key --from FILE)"
                        )
                    }
                    publicKey = try LedgerKey.create(path: configuration.ledgerKey)
                }
                print(
                    "\(importKey ? "imported" : "created") ledger signing key \(configuration.ledgerKey) (0600), key id \(LedgerKey.id(ofPublicKey: publicKey))"
                )
                print("public key: \(publicKey)")
            }
        }

        /// The key id that signed the existing ledger's checkpoints, if any.
        static func existingSigner(_ configuration: CustodyConfiguration) throws -> String? {
            guard FileManager.default.fileExists(atPath: configuration.stateDirectory + "/" + StateDatabase.fileName) else { return nil }
            let database = try StateDatabase(directory: configuration.stateDirectory, create: false)
            return try database.pool.read { db in
                try String.fetchOne(db, sql: "SELECT public_key FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1")
            }.map(LedgerKey.id(ofPublicKey:))
        }
    }

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "Print the ledger's Ed25519 public key (base64), to publish beside reports.")
        @OptionGroup var options: LedgerOptions

        func run() async throws {
            try await CLI.guarded {
                print(try Ledger(configuration: options.load()).publicKey())
            }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Sign the ledger head and print (or write) it as a checkpoint to keep elsewhere.",
            discussion: """
                One line of JSON (custody.checkpoint.v1): entry count, head SHA-256, time, key id, \
                public key and signature. Keep it off this machine's state storage (another disk, \
                syslog, a published report); `custody verify --checkpoint FILE` later proves the \
                ledger still contains and extends it. --out writes the file atomically (complete or absent).
                """)
        @OptionGroup var options: LedgerOptions
        @Option(help: ArgumentHelp("Write the checkpoint to this file instead of standard output.", valueName: "file"))
        var out: String?

        @Flag(
            help: ArgumentHelp(
                "Also sign entries no checkpoint signs yet: only after reading them (custody ledger export), when a command was interrupted before it signed."
            ))
        var acceptUnsigned = false

        func run() async throws {
            try await CLI.guarded {
                let configuration = try options.load()
                let database = try StateDatabase(directory: configuration.stateDirectory, create: false)
                let checkpoint = try Ledger(configuration: configuration).checkpoint(database: database, acceptingUnsigned: acceptUnsigned)
                if let out {
                    try checkpoint.write(to: out)
                    print(
                        "checkpoint of \(checkpoint.entries) entries, head \(checkpoint.headHash.prefix(16))…, key \(checkpoint.keyID) → \(out)"
                    )
                } else {
                    print(checkpoint.line, terminator: "")
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write every ledger entry, one canonical JSON line each, to a file.",
            discussion: """
                Each line is an entry exactly as it was hashed: SHA-256 of the line (without its \
                newline) is the entry's hash, and each names the hash of the one before. The last \
                line is a signed checkpoint of the head. `custody report verify REPORT.json --ledger \
                FILE` checks a published report against it.
                """)
        @OptionGroup var options: LedgerOptions
        @Option(help: ArgumentHelp("File to write.", valueName: "file"))
        var out: String

        func run() async throws {
            try await CLI.guarded {
                let configuration = try options.load()
                let database = try StateDatabase(directory: configuration.stateDirectory, create: false)
                let ledger = Ledger(configuration: configuration)
                let checkpoint = try ledger.checkpoint(database: database)
                let entries = try ledger.entries(database: database)
                let text = entries.map { $0.text + "\n" }.joined() + checkpoint.line
                guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
                    throw CommandFailure("\(out): cannot write")
                }
                print("exported \(entries.count) ledger entries, head \(checkpoint.headHash.prefix(16))… → \(out)")
            }
        }
    }
}
