/// A log format: one of the built-ins (`auto` sniffs each file from its first non-empty line), or
/// a format the operator described in a formats file.
public struct LogFormat: Sendable, Hashable, CustomStringConvertible {
    /// The formats Custody knows without a formats file.
    public enum BuiltIn: String, Sendable, CaseIterable {
        case auto, jsonl, combined, logfmt, syslog, csv, tsv, cri, docker
    }

    /// The built-in this is, or nil for a described format.
    public let builtIn: BuiltIn?
    /// The description, for a format from a formats file.
    public let definition: FormatDefinition?

    public init(_ builtIn: BuiltIn) {
        self.builtIn = builtIn
        definition = nil
    }

    public init(_ definition: FormatDefinition) {
        builtIn = nil
        self.definition = definition
    }

    /// A built-in format by name.
    public init?(rawValue: String) {
        guard let builtIn = BuiltIn(rawValue: rawValue) else { return nil }
        self.init(builtIn)
    }

    /// The name users write: a built-in's name or the formats file's key.
    public var rawValue: String { builtIn?.rawValue ?? definition?.name ?? "?" }
    public var description: String { rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public static let auto = LogFormat(.auto)
    public static let jsonl = LogFormat(.jsonl)
    public static let combined = LogFormat(.combined)
    public static let logfmt = LogFormat(.logfmt)
    public static let syslog = LogFormat(.syslog)
    public static let csv = LogFormat(.csv)
    public static let tsv = LogFormat(.tsv)
    public static let cri = LogFormat(.cri)
    public static let docker = LogFormat(.docker)

    /// Every built-in format.
    public static var allCases: [LogFormat] { BuiltIn.allCases.map(LogFormat.init) }

    /// A built-in by name, else the format of that name in `formats`; nil when neither has it.
    public static func named(_ name: String, in formats: [String: FormatDefinition]) -> LogFormat? {
        if let definition = formats[name] { return LogFormat(definition) }
        return LogFormat(rawValue: name)
    }
}
