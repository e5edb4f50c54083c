import CustodyCore
import Foundation

/// Builds the parsers for described formats and for the built-ins read through field references.
enum FormatCompiler {
    /// nginx's (and Apache's) combined format, as a `log_format`.
    static let combinedLogFormat =
        #"$remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#

    /// The parser of a `pattern`, `nginx` or `regex` format.
    static func described(_ d: FormatDefinition, policy: Policy, path: String?) throws(LayoutError) -> DescribedParser {
        let splitter: DescribedParser.Splitter
        let names: [String]
        var defaults = (timestamp: policy.fields.timestamp, user: policy.fields.user, event: policy.fields.event)
        switch d.layout {
        case .pattern(let text):
            let layout = try DissectLayout.pattern(text)
            splitter = .dissect(layout)
            names = layout.names
        case .nginx(let text):
            let layout = try DissectLayout.nginx(text)
            splitter = .dissect(layout)
            names = layout.names
            defaults = (["time_local", "time_iso8601", "msec"], ["remote_user"], [])
        case .regex(let text):
            let layout = try RegexLayout(text)
            splitter = .regex(layout)
            names = layout.names
        case .sniffed:
            throw LayoutError("has no pattern, nginx or regex")
        }
        let present = { (list: [String]) in list.filter { FieldResolver.reference($0, names: names) != nil } }
        let timestamp = d.fields.timestamp ?? present(defaults.timestamp)
        guard !timestamp.isEmpty else {
            throw LayoutError("no field holds the time: name it in fields.timestamp (fields: \(names.joined(separator: ", ")))")
        }
        let resolver = try FieldResolver(
            names: names, encoding: .text, timestamp: timestamp, user: d.fields.user ?? present(defaults.user),
            event: d.fields.event ?? present(defaults.event), httpEvents: d.httpEvents ?? policy.httpEvents,
            timeFormat: try timeFormat(d, default: .automatic), times: times(d, defaultZone: nil, defaultYear: nil, path: path),
            strict: true)
        return DescribedParser(splitter: splitter, resolver: resolver)
    }

    /// A built-in format read through field references: the definition's (when the format was
    /// described without a layout) or the built-in's defaults from the policy.
    static func structured(
        _ kind: LogFormat.BuiltIn, header: [String]? = nil, definition d: FormatDefinition?,
        policy: Policy, path: String?
    ) -> DescribedParser? {
        let f = policy.fields
        var timestamp = d?.fields.timestamp ?? f.timestamp
        var user = d?.fields.user ?? f.user
        var event = d?.fields.event ?? f.event
        var time = TimeFormat.automatic
        var zone: TimeZone?
        var year: FormatDefinition.YearRule?
        let splitter: DescribedParser.Splitter
        let names: [String]
        let encoding: FieldResolver.Encoding
        switch kind {
        case .jsonl, .cri, .docker:
            splitter = .jsonObject
            encoding = .json
            names = slotNames(for: timestamp + user + event)
        case .logfmt:
            splitter = .pairs
            encoding = .text
            names = slotNames(for: timestamp + user + event)
        case .combined:
            let layout = try! DissectLayout.nginx(combinedLogFormat)
            splitter = .dissect(layout)
            encoding = .text
            names = layout.names
            timestamp = d?.fields.timestamp ?? ["time_local"]
            user = d?.fields.user ?? ["remote_user"]
            event = d?.fields.event ?? []
        case .syslog:
            splitter = .syslog
            encoding = .text
            names = SyslogLayout.names
            timestamp = d?.fields.timestamp ?? ["timestamp"]
            user = d?.fields.user ?? f.user.map { "message.\($0)" }
            event = d?.fields.event ?? f.event.map { "message.\($0)" }
            time = .syslog
            zone = policy.timeZone
            year = .fileModified
        case .csv, .tsv:
            guard let header else { return nil }
            splitter = .delimited(kind == .csv ? 0x2C : 0x09)
            encoding = .csv
            names = header
        case .auto:
            return nil
        }
        if let d {
            time = (try? timeFormat(d, default: time)) ?? time
        }
        guard
            let resolver = try? FieldResolver(
                names: names, encoding: encoding, timestamp: timestamp, user: user, event: event,
                httpEvents: d?.httpEvents ?? policy.httpEvents, timeFormat: time,
                times: times(d, defaultZone: zone, defaultYear: year, path: path), strict: false)
        else { return nil }
        return DescribedParser(splitter: splitter, resolver: resolver)
    }

    /// The slots a JSON or `key=value` line needs for these references: each reference whole,
    /// its first component, and the request and cookie fields for `query.X` and `cookie.X`.
    static func slotNames(for references: [String]) -> [String] {
        var names: [String] = []
        func add(_ name: String) { if !names.contains(name) { names.append(name) } }
        for ref in references {
            if ref.hasPrefix("query.") {
                FieldResolver.requestNames.forEach(add)
                continue
            }
            if ref.hasPrefix("cookie.") {
                FieldResolver.cookieNames.forEach(add)
                continue
            }
            // A dot starts a path: `ctx.user.uid` is member `uid` of `user` of key `ctx`.
            if let dot = ref.firstIndex(of: ".") { add(String(ref[..<dot])) } else { add(ref) }
        }
        for name in ["request", "request_method", "method", "request_uri", "uri"] { add(name) }
        return names
    }

    static func timeFormat(_ d: FormatDefinition, default fallback: TimeFormat) throws(LayoutError) -> TimeFormat {
        guard let text = d.timeFormat else { return fallback }
        do {
            return try TimeFormat(text)
        } catch {
            throw LayoutError("time_format: \(error.message)")
        }
    }

    static func times(
        _ d: FormatDefinition?, defaultZone: TimeZone?, defaultYear: FormatDefinition.YearRule?, path: String?
    ) -> TimeResolver {
        let zone = d?.timezone.flatMap { TimeZone(identifier: $0) } ?? defaultZone
        return TimeResolver(zone: zone, year: d?.year ?? defaultYear, path: path)
    }
}
