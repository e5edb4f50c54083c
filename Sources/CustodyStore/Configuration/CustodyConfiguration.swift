import CustodyCore
import CustodyIngest
import Foundation

/// `custody.yaml`: what a scheduled job or the daemon reads, and where it keeps its state.
///
/// ```yaml
/// sources:
///   - path: /var/log/myapp            # a file, a directory (walked recursively) or a glob
///     format: jsonl                   # optional: auto (default), a built-in, or a name under formats:
/// policy: /usr/local/share/custody/policies/cn-apps.yaml
/// state_directory: /var/lib/custody
/// vault_directory: /var/lib/custody/vault   # optional, default <state_directory>/vault
/// metrics_file: /var/lib/prometheus/node-exporter/custody.prom   # optional
/// since: 2026-09-01                   # optional: days before it are exempt from retention
/// ledger_key: /etc/custody/ledger.key # optional, default ledger.key beside this file; never inside the state
/// witness_directory: /mnt/witness/custody   # optional: a signed checkpoint after every ledger change
/// vault_pack_limit: 1048576           # optional: objects of at most this many bytes go into packs; 0: none
/// ```
///
/// Relative paths are resolved against the directory of the configuration file.
public struct CustodyConfiguration: Sendable, Equatable {
    public struct Source: Sendable, Equatable {
        public var path: String
        public var format: LogFormat
    }

    public var file: String
    public var sources: [Source]
    public var policyPath: String
    public var stateDirectory: String
    public var vaultDirectory: String
    public var metricsFile: String?
    public var since: CivilDay?
    /// The ledger's Ed25519 signing key (`ledger_key`), kept outside the state directory so that
    /// whoever can write the state cannot re-sign a rewritten ledger.
    public var ledgerKey: String = ""
    /// Where a signed checkpoint is written after every ledger change (`witness_directory`).
    public var witnessDirectory: String?
    /// Vault objects a run stores of at most this many bytes are packed (`vault_pack_limit`).
    public var vaultPackLimit = Vault.defaultPackLimit

    public static let defaultPath = "/etc/custody/custody.yaml"

    public static func load(path: String) throws -> CustodyConfiguration {
        try parse(
            YAMLMapping.readText(path, what: "the configuration file", hint: "pass --config FILE; see contrib/custody.yaml"), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> CustodyConfiguration {
        let root = try YAMLMapping.parseDocument(text, file: file)
        // `reporting` (the report configuration) is read by CustodyReports.ReportConfiguration.
        try root.requireKnownKeys([
            "sources", "policy", "state_directory", "vault_directory", "metrics_file", "since",
            "ledger_key", "witness_directory", "reporting", "formats", "vault_pack_limit",
        ])
        let described = try root.mapping("formats").map(FormatsFile.definitions) ?? [:]
        // Absolute first: standardizing a relative URL drops its leading `..` components.
        let base = URL(fileURLWithPath: file).absoluteURL.deletingLastPathComponent()
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardized.path
        }
        guard let sourceList = try root.mappingList("sources") else { throw root.missing("sources") }
        guard !sourceList.isEmpty else { throw root.error("sources", "list at least one source") }
        var sources: [Source] = []
        for source in sourceList {
            try source.requireKnownKeys(["path", "format"])
            let path = try source.requiredString("path")
            var format = LogFormat.auto
            if let name = try source.string("format") {
                guard let parsed = LogFormat.named(name, in: described) else {
                    let names = LogFormat.allCases.map(\.rawValue) + described.keys.sorted()
                    throw source.error(
                        "format", "expected one of \(names.joined(separator: ", ")) (other formats are described under formats:)")
                }
                format = parsed
            }
            sources.append(Source(path: resolve(path), format: format))
        }
        let state = resolve(try root.requiredString("state_directory"))
        var since: CivilDay?
        if let text = try root.string("since") {
            guard let day = CivilDay(iso: text) else { throw root.error("since", "expected a day as YYYY-MM-DD") }
            since = day
        }
        var configuration = CustodyConfiguration(
            file: file, sources: sources, policyPath: resolve(try root.requiredString("policy")),
            stateDirectory: state,
            vaultDirectory: try root.string("vault_directory").map(resolve) ?? state + "/vault",
            metricsFile: try root.string("metrics_file").map(resolve), since: since)
        configuration.ledgerKey = resolve(try root.string("ledger_key") ?? "ledger.key")
        // A key inside the state directory anchors nothing: whoever rewrites the ledger re-signs it.
        if Self.isInside(configuration.ledgerKey, state) {
            throw root.error(
                "ledger_key",
                "\(configuration.ledgerKey) is inside the state directory \(state); keep the signing key elsewhere (e.g. /etc/custody/ledger.key)"
            )
        }
        configuration.witnessDirectory = try root.string("witness_directory").map(resolve)
        if let witness = configuration.witnessDirectory, Self.isInside(witness, state) {
            throw root.error(
                "witness_directory", "\(witness) is inside the state directory \(state); witness checkpoints belong on other storage")
        }
        if let limit = try root.int("vault_pack_limit") {
            // Each file being read holds up to this much in memory, and every use of a packed
            // object reads it whole: bounded.
            guard limit >= 0 && limit <= 16 << 20 else {
                throw root.error("vault_pack_limit", "expected a number of bytes from 0 (never pack) to 16777216")
            }
            configuration.vaultPackLimit = limit
        }
        return configuration
    }

    static func isInside(_ path: String, _ directory: String) -> Bool {
        let dir = directory.hasSuffix("/") ? directory : directory + "/"
        return path == directory || path.hasPrefix(dir)
    }
}
