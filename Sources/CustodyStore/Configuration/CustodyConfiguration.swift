import CustodyCore
import CustodyIngest
import Foundation

/// `custody.yaml`: what a scheduled job or the daemon reads, and where it keeps its state.
///
/// ```yaml
/// sources:
///   - path: /var/log/myapp            # a file, a directory (walked recursively) or a glob
///     format: jsonl                   # optional: auto (default), a built-in, or a name under formats:
/// policy: /usr/local/share/custody/policies/cn-cac-2016-apps.yaml
/// state_directory: /var/lib/custody
/// vault_directory: /var/lib/custody/vault   # optional, default <state_directory>/vault
/// metrics_file: /var/lib/prometheus/node-exporter/custody.prom   # optional
/// since: 2026-09-01                   # optional: days before it are exempt from retention
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

    public static let defaultPath = "/etc/custody/custody.yaml"

    public static func load(path: String) throws -> CustodyConfiguration {
        try parse(YAMLMapping.readText(path, what: "the configuration file", hint: "pass --config FILE; see contrib/custody.yaml"), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> CustodyConfiguration {
        let root = try YAMLMapping.parseDocument(text, file: file)
        try root.requireKnownKeys(["sources", "policy", "state_directory", "vault_directory", "metrics_file", "since", "formats"])
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
                    throw source.error("format", "expected one of \(names.joined(separator: ", ")) (other formats are described under formats:)")
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
        return CustodyConfiguration(
            file: file, sources: sources, policyPath: resolve(try root.requiredString("policy")),
            stateDirectory: state,
            vaultDirectory: try root.string("vault_directory").map(resolve) ?? state + "/vault",
            metricsFile: try root.string("metrics_file").map(resolve), since: since)
    }
}
