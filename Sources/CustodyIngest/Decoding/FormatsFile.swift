import CustodyCore
import Foundation

/// Reads a formats file (`formats.NAME.…`), or the `formats:` mapping of `custody.yaml`, strictly:
/// unknown keys and every error name the file, the line and the key. Each format is compiled
/// once here, so that a pattern, a `log_format`, a regex, a `time_format` or a field reference
/// that cannot work is a configuration error, not a file of rejected lines.
public enum FormatsFile {
    public static let keys = ["pattern", "nginx", "regex", "time_format", "timezone", "year", "fields", "http_events"]

    public static func load(path: String) throws -> [String: FormatDefinition] {
        try parse(YAMLMapping.readText(path, what: "the formats file"), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> [String: FormatDefinition] {
        let root = try YAMLMapping.parseDocument(text, file: file)
        try root.requireKnownKeys(["formats"])
        guard let formats = try root.mapping("formats") else { throw root.missing("formats") }
        return try definitions(in: formats)
    }

    /// The formats of a `formats:` mapping (in a formats file or in `custody.yaml`).
    public static func definitions(in formats: YAMLMapping) throws -> [String: FormatDefinition] {
        var result: [String: FormatDefinition] = [:]
        for name in formats.keys {
            guard let entry = try formats.mapping(name) else { continue }
            if LogFormat.BuiltIn(rawValue: name) != nil {
                throw formats.error(name, "'\(name)' is a built-in format; give this one another name")
            }
            result[name] = try definition(name, entry)
        }
        return result
    }

    static func definition(_ name: String, _ entry: YAMLMapping) throws -> FormatDefinition {
        try entry.requireKnownKeys(keys)
        let layouts = ["pattern", "nginx", "regex"].filter(entry.contains)
        if layouts.count > 1 {
            throw entry.error(layouts[1], "give one of pattern, nginx or regex, not \(layouts.joined(separator: " and "))")
        }
        var layout = FormatDefinition.Layout.sniffed
        if let key = layouts.first {
            let text = try entry.requiredString(key)
            layout = key == "pattern" ? .pattern(text) : key == "nginx" ? .nginx(text) : .regex(text)
        }
        var d = FormatDefinition(name: name, layout: layout, origin: entry.line.map { "\(entry.file):\($0)" } ?? entry.file)
        d.timeFormat = try entry.string("time_format")
        if let zone = try entry.string("timezone") {
            guard TimeZone(identifier: zone) != nil else {
                throw entry.error("timezone", "unknown time zone '\(zone)' (use an IANA name such as Asia/Shanghai)")
            }
            d.timezone = zone
        }
        if let year = try entry.string("year") {
            if year == "file_mtime" {
                d.year = .fileModified
            } else if let fixed = Int(year), (1970...9999).contains(fixed) {
                d.year = .fixed(fixed)
            } else {
                throw entry.error("year", "expected file_mtime or a year such as 2026")
            }
        }
        if let fields = try entry.mapping("fields") {
            try fields.requireKnownKeys(["timestamp", "user", "event"])
            func references(_ key: String) throws -> [String]? {
                guard fields.contains(key) else { return nil }
                if let one = try? fields.string(key) {
                    guard !one.isEmpty else { throw fields.error(key, "must not be empty") }
                    return [one]
                }
                guard let list = try fields.stringList(key), !list.isEmpty else {
                    throw fields.error(key, "expected a field reference or a list of them")
                }
                return list
            }
            d.fields = FormatDefinition.Fields(
                timestamp: try references("timestamp"), user: try references("user"), event: try references("event"))
        }
        if entry.contains("http_events") {
            var rules: [HTTPEventRule] = []
            for rule in try entry.mappingList("http_events") ?? [] {
                try rule.requireKnownKeys(["method", "path_prefix", "event"])
                let prefix = try rule.requiredString("path_prefix")
                guard prefix.hasPrefix("/") else { throw rule.error("path_prefix", "must start with '/'") }
                rules.append(
                    HTTPEventRule(
                        method: try rule.requiredString("method").uppercased(), pathPrefix: prefix,
                        event: try rule.requiredString("event")))
            }
            d.httpEvents = rules
        }
        try check(d, entry, layoutKey: layouts.first)
        return d
    }

    /// Compiles the format once to find what cannot work.
    private static func check(_ d: FormatDefinition, _ entry: YAMLMapping, layoutKey: String?) throws {
        if let text = d.timeFormat {
            let time: TimeFormat
            do { time = try TimeFormat(text) } catch { throw entry.error("time_format", error.message) }
            if !time.hasZone && d.timezone == nil {
                throw entry.error("time_format", "the times carry no zone (%z or %Z): set timezone, e.g. timezone: Asia/Shanghai")
            }
            if !time.hasYear && d.year == nil {
                throw entry.error("time_format", "the times carry no year (%Y, %y or %s): set year: file_mtime or a fixed year")
            }
        }
        guard let layoutKey else { return }
        let probe = Policy(
            id: "formats", title: "", jurisdiction: "", timeZoneIdentifier: "UTC",
            retention: .init(minimumDays: 1), realName: .init())
        do {
            _ = try FormatCompiler.described(d, policy: probe, path: nil)
        } catch {
            let key =
                error.message.hasPrefix("field '") ? "fields" : error.message.hasPrefix("no field holds the time") ? "fields" : layoutKey
            throw entry.error(entry.contains(key) ? key : layoutKey, error.message)
        }
    }
}
