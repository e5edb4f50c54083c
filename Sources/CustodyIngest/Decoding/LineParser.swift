import CustodyCore

/// Parses the lines of one file in one format, sniffing the format when asked to.
///
/// Sniffing looks at the first non-empty line: `{` means JSON lines, a line the combined parser
/// accepts means combined, a `key=value` pair means logfmt. If the first non-empty line fits
/// none, it is rejected and the next one is tried, so one bad first line does not lose a file.
/// Owns scratch memory: call `deallocate()` when done.
public struct LineParser {
    public private(set) var format: LogFormat
    private var json: JSONLineParser
    private let logfmt: LogfmtParser
    private let combined: CombinedParser
    private let fields: FieldTable

    public init(policy: Policy, format: LogFormat) {
        self.format = format
        fields = FieldTable(policy.fields)
        json = JSONLineParser(fields: fields)
        logfmt = LogfmtParser(fields: fields)
        combined = CombinedParser(rules: policy.httpEvents)
    }

    public func deallocate() {
        json.deallocate()
        logfmt.deallocate()
        combined.deallocate()
        fields.deallocate()
    }

    /// Parses one line (without its newline). Empty lines must not be passed in.
    @inline(__always)
    public mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        switch format {
        case .jsonl: return json.parse(line)
        case .combined: return combined.parse(line)
        case .logfmt: return logfmt.parse(line)
        case .auto: return sniff(line)
        }
    }

    private mutating func sniff(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        var i = 0
        while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        if i < line.count && line[i] == 0x7B {
            format = .jsonl
            return json.parse(line)
        }
        let asCombined = combined.parse(line)
        if case .record = asCombined {
            format = .combined
            return asCombined
        }
        // The combined layout with a bad field (a mistyped date, say) is still combined: taking
        // it for logfmt because its query string has an `=` would lose the whole file.
        if CombinedParser.hasLayout(line) {
            format = .combined
            return asCombined
        }
        if Self.looksLikeLogfmt(line) {
            format = .logfmt
            return logfmt.parse(line)
        }
        return .rejected(.unrecognisedFormat)
    }

    /// A word of key characters directly followed by `=`.
    static func looksLikeLogfmt(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var run = 0
        for c in line {
            if c == 0x3D { if run > 0 { return true } }
            if c == 0x20 || c == 0x09 || c == 0x22 || c == 0x3D { run = 0 } else { run += 1 }
        }
        return false
    }

    /// Whether a line holds nothing but spaces and tabs (such lines are ignored, like empty ones).
    @inline(__always)
    public static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }
}
