/// The log formats Custody reads. `auto` sniffs each file from its first non-empty line.
public enum LogFormat: String, Sendable, CaseIterable {
    case auto
    case jsonl
    case combined
    case logfmt
}
