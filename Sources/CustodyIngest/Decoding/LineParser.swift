import CustodyCore

/// Parses the lines of one file in one format, sniffing the format when asked to.
///
/// Sniffing looks at the first non-empty line: `{"log":` means Docker, `{` JSON lines, an RFC
/// 3339 time then `stdout`/`stderr` CRI, a `<PRI>`, `Mmm dd HH:MM:SS` or an RFC 3339 time then a
/// host and `tag:` syslog, a line the combined parser accepts combined, a header naming a timestamp field CSV or TSV,
/// a `key=value` pair logfmt. If the first non-empty line fits none, it is rejected and the
/// next one is tried, so one bad first line does not lose a file.
/// Owns scratch memory: call `deallocate()` when done.
public struct LineParser {
    /// The format being read: for `auto`, the built-in sniffed from the file once known.
    public private(set) var format: LogFormat
    /// The built-in being read (nil for a pattern, nginx or regex format; `auto` until sniffed).
    private var kind: LogFormat.BuiltIn?
    private var json: JSONLineParser
    private var logfmt: LogfmtParser
    private var combined: CombinedParser
    private let fields: FieldTable
    private let extras: Extras
    /// `kind == .jsonl && extras.described == nil`, kept as one flag: asked on every line of the
    /// single pass, the test read the optional kind and the class's field (ten instructions a
    /// line). Set wherever either changes (`init`, `sniff`).
    private var inlinesJSON = false

    /// Parsers and state that only some formats need, made when first needed.
    final class Extras {
        let policy: Policy
        let definition: FormatDefinition?
        let path: String?
        /// A pattern/nginx/regex format's parser, or a built-in read through field references.
        var described: DescribedParser?
        /// For CRI and Docker with a described format's references: the app's JSON line.
        var inner: DescribedParser?
        var csvHeaderRead = false
        /// CRI partial lines (`P`) and Docker's parts of long lines waiting for their final part,
        /// per stream (stdout, stderr; nil: none held): the runtime splits each stream's lines on
        /// its own, and writes the two interleaved.
        var held: [HeldParts?] = [nil, nil]
        /// The stream whose first partial line was the last line parsed (until its number is told).
        var justStartedHolding: Int?
        var partialLine: UnsafeMutablePointer<UInt8>?
        var dockerScratch: UnsafeMutablePointer<UInt8>?
        var keyScratch: UnsafeMutablePointer<UInt8>?
        let mismatchCause: String
        let timeCause: String

        init(policy: Policy, definition: FormatDefinition?, path: String?) {
            self.policy = policy
            self.definition = definition
            self.path = path
            let name = definition?.name
            mismatchCause = name.map { "line does not match format '\($0)'" } ?? Rejection.patternMismatch.cause
            timeCause = name.map { "time does not match the time_format of format '\($0)'" } ?? Rejection.formatTimestamp.cause
        }

        deinit {
            partialLine?.deallocate()
            if let dockerScratch { ScratchPool.giveBytes(dockerScratch, count: LineReader.maximumLineLength) }
            if let keyScratch { ScratchPool.giveBytes(keyScratch, count: LineReader.maximumLineLength) }
        }

        /// The definition's field references apply to this built-in.
        var hasReferences: Bool {
            guard let d = definition else { return false }
            return d.fields != FormatDefinition.Fields() || d.timeFormat != nil || d.timezone != nil || d.httpEvents != nil
        }
    }

    /// One stream's parts of a line a container runtime split, until its final part.
    struct HeldParts {
        /// The parts' text so far (parts may be empty).
        private(set) var text: [UInt8] = []
        /// Parts past the line limit were not kept: the line is rejected when it ends (a part
        /// dropped from the middle would splice the rest into another line).
        private(set) var overflowed = false
        /// The number of the first part's line, once the caller has told it (`notePartialLine`).
        var firstLine: Int?

        mutating func add(_ part: UnsafeBufferPointer<UInt8>) {
            if !overflowed && text.count + part.count <= LineReader.maximumLineLength {
                text += part
            } else {
                overflowed = true
            }
        }

        /// The whole line with its final part, or nil when it is over the line limit.
        func joined(with last: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
            overflowed || text.count + last.count > LineReader.maximumLineLength ? nil : text + last
        }
    }

    /// - Parameter path: the file being read, for a `year: file_mtime` rule.
    public init(policy: Policy, format: LogFormat, path: String? = nil) {
        self.format = format
        fields = FieldTable(policy.fields)
        json = JSONLineParser(fields: fields)
        logfmt = LogfmtParser(fields: fields)
        combined = CombinedParser(rules: format.definition?.httpEvents ?? policy.httpEvents)
        extras = Extras(policy: policy, definition: format.definition, path: path)
        if let d = format.definition {
            if case .sniffed = d.layout {
                kind = .auto
            } else {
                kind = nil
                // Definitions are compiled when the formats file is loaded; this cannot fail then.
                extras.described = try? FormatCompiler.described(d, policy: policy, path: path)
            }
        } else {
            kind = format.builtIn
        }
        if let kind { prepare(kind) }
        inlinesJSON = kind == .jsonl && extras.described == nil
    }

    public func deallocate() {
        json.deallocate()
        logfmt.deallocate()
        combined.deallocate()
        fields.deallocate()
    }

    /// The user-facing cause of a rejection, naming a described format where it matters.
    public func cause(of rejection: Rejection) -> String {
        switch rejection {
        case .patternMismatch: return extras.mismatchCause
        case .formatTimestamp: return extras.timeCause
        default: return rejection.cause
        }
    }

    /// Sets up what a built-in needs once it is known.
    private mutating func prepare(_ kind: LogFormat.BuiltIn) {
        switch kind {
        case .syslog:
            extras.described = FormatCompiler.structured(.syslog, definition: extras.definition, policy: extras.policy, path: extras.path)
        case .jsonl, .logfmt, .combined:
            if extras.hasReferences {
                extras.described = FormatCompiler.structured(kind, definition: extras.definition, policy: extras.policy, path: extras.path)
            }
        case .cri, .docker:
            if extras.hasReferences {
                extras.inner = FormatCompiler.structured(.jsonl, definition: extras.definition, policy: extras.policy, path: extras.path)
            }
            if kind == .docker {
                extras.dockerScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
                extras.keyScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
            }
        case .csv, .tsv, .auto:
            break
        }
    }

    /// `parse` for the single pass's line loop (`RecordReader`): built-in JSON lines are parsed
    /// inline there, so that the usual line's record never goes through memory (returned from
    /// a call, it was stored a field at a time and read back in wider loads that could not be
    /// forwarded from those stores). Only one parser is inlined: with more, the loop grew past
    /// what the compiler inlines into, and none was.
    @inline(__always)
    mutating func parseInline(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        // A stored flag, not a computed test: written as `inlinableFormat == .jsonl`, the
        // compiler no longer inlined the JSON parser into `RecordReader` (objdump showed the
        // call back).
        if inlinesJSON { return json.parseInline(line) }
        return parse(line)
    }

    /// The built-in format whose parser a line loop may inline for every line of a block (see
    /// `BlockParser`): JSON lines, combined or logfmt without field references; nil for any
    /// other (and while the format is still being sniffed).
    var inlinableFormat: LogFormat.BuiltIn? {
        guard extras.described == nil, let kind, kind == .jsonl || kind == .combined || kind == .logfmt else { return nil }
        return kind
    }

    /// One line of the built-in format `inlinableFormat` names, inlined.
    @inline(__always)
    mutating func parseJSONInline(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { json.parseInline(line) }

    @inline(__always)
    mutating func parseCombinedInline(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { combined.parseInline(line) }

    @inline(__always)
    mutating func parseLogfmtInline(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { logfmt.parseInline(line) }

    /// Parses one line (without its newline). Empty lines must not be passed in.
    @inline(__always)
    public mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        switch kind {
        case .jsonl?: return extras.described?.parse(line) ?? json.parse(line)
        case .combined?: return extras.described?.parse(line) ?? combined.parse(line)
        case .logfmt?: return extras.described?.parse(line) ?? logfmt.parse(line)
        case .auto?: return sniff(line)
        case .syslog?: return extras.described?.parse(line) ?? .rejected(.notSyslog)
        case .csv?, .tsv?: return delimited(line)
        case .cri?: return cri(line)
        case .docker?: return docker(line)
        case nil: return extras.described?.parse(line) ?? .rejected(.patternMismatch)
        }
    }

    private mutating func delimited(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        if !extras.csvHeaderRead {
            let separator: UInt8 = kind == .tsv ? 0x09 : 0x2C
            guard let names = DelimitedLayout.header(line, separator: separator) else { return .rejected(.invalidCSV) }
            extras.csvHeaderRead = true
            extras.described = FormatCompiler.structured(
                kind!, header: names, definition: extras.definition,
                policy: extras.policy, path: extras.path)
            return .skipped
        }
        return extras.described?.parse(line) ?? .rejected(.invalidCSV)
    }

    private mutating func cri(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        guard let (millis, partial, message, stderr) = ContainerLayout.cri(line) else { return .rejected(.notCRI) }
        return containerMessage(message, partial: partial, stream: stderr ? 1 : 0, millis: millis)
    }

    /// A container runtime's message: held when it is a part of a longer line (per stream, until
    /// its stream's final part), else read, joined to the parts held before it.
    private mutating func containerMessage(
        _ message: UnsafeBufferPointer<UInt8>, partial: Bool, stream: Int, millis: Int64
    ) -> ParseOutcome {
        if partial {
            if extras.held[stream] == nil {
                extras.held[stream] = HeldParts()
                extras.justStartedHolding = stream
            }
            extras.held[stream]!.add(message)
            return .skipped
        }
        guard let parts = extras.held[stream] else { return payload(message, millis: millis) }
        extras.held[stream] = nil
        guard let whole = parts.joined(with: message) else { return .rejected(.overlong) }
        guard !whole.isEmpty else { return payload(message, millis: millis) }
        if extras.partialLine == nil { extras.partialLine = .allocate(capacity: LineReader.maximumLineLength + 1) }
        let buffer = extras.partialLine!
        whole.withUnsafeBufferPointer { buffer.initialize(from: $0.baseAddress!, count: $0.count) }
        return payload(UnsafeBufferPointer(start: buffer, count: whole.count), millis: millis)
    }

    /// Tells the parser the number of the line it last parsed, when that parse answered
    /// `.skipped`: a CRI or Docker partial line that starts a held part is remembered by it, so
    /// that one never completed can be named (`unfinishedPartialLines`). Cheap for other formats.
    public func notePartialLine(_ number: Int) {
        guard let stream = extras.justStartedHolding else { return }
        extras.held[stream]?.firstLine = number
        extras.justStartedHolding = nil
    }

    /// Per stream, the first line of a CRI or Docker partial line no final part of its stream
    /// completed, once the last line was parsed: its text was never read. In line order; empty
    /// for none (and for other formats).
    public var unfinishedPartialLines: [Int] {
        extras.held.compactMap { $0?.firstLine }.sorted()
    }

    /// The size of the parts Docker's json-file driver splits a long line into.
    public static let dockerPartBytes = 16 * 1024

    private mutating func docker(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        guard let entry = ContainerLayout.docker(line, scratch: extras.dockerScratch!, keyScratch: extras.keyScratch!) else {
            return .rejected(.notDocker)
        }
        // Docker splits lines over 16 KiB: every part but the last lacks the final newline, and
        // is 16 KiB long. A shorter entry without one is whole: a process's last output before
        // it exits (`echo -n`), which must not be joined to the next process's first line.
        let partial = !entry.complete && entry.message.count >= Self.dockerPartBytes
        return containerMessage(entry.message, partial: partial, stream: entry.stderr ? 1 : 0, millis: entry.millis)
    }

    /// The app's line inside a container runtime's: JSON read with the format's fields (the
    /// runtime's time when it has no timestamp), any other text an anonymous record at the
    /// runtime's time.
    private mutating func payload(_ message: UnsafeBufferPointer<UInt8>, millis: Int64) -> ParseOutcome {
        var i = 0
        while i < message.count, message[i] == 0x20 || message[i] == 0x09 { i += 1 }
        if i < message.count, message[i] == 0x7B {
            if let inner = extras.inner { return inner.parse(message, fallbackMillis: millis) }
            return json.parse(message, fallbackMillis: millis)
        }
        return .record(ParsedLine(millis: millis, user: nil, event: nil))
    }

    private mutating func sniff(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        guard let sniffed = Self.sniffFormat(line, policy: extras.policy) else {
            // Name the encoding when that is the reason: "not recognised" sends people looking
            // for a format problem in a file that is merely UTF-16 (Windows tools write it).
            return .rejected(Self.looksLikeUTF16(line) ? .utf16Text : .unrecognisedFormat)
        }
        kind = sniffed
        if extras.definition == nil { format = LogFormat(sniffed) }
        prepare(sniffed)
        inlinesJSON = sniffed == .jsonl && extras.described == nil
        return parse(line)
    }

    /// The built-in a first line belongs to, or nil.
    static func sniffFormat(_ line: UnsafeBufferPointer<UInt8>, policy: Policy) -> LogFormat.BuiltIn? {
        var i = 0
        while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        let rest = UnsafeBufferPointer(rebasing: line[i...])
        if i < line.count && line[i] == 0x7B {
            return rest.starts(with: #"{"log":"#.utf8) ? .docker : .jsonl
        }
        // CRI first: its lines start with an RFC 3339 time too, as rsyslog's files do.
        if ContainerLayout.cri(line) != nil { return .cri }
        if SyslogLayout.looksLikeSyslog(line) { return .syslog }
        // The combined layout with a bad field (a mistyped date, say) is still combined: taking
        // it for logfmt because its query string has an `=` would lose the whole file.
        if CombinedParser.hasLayout(line) { return .combined }
        var combined = CombinedParser(rules: [])
        if case .record = combined.parse(line) { return .combined }
        for (separator, kind) in [(UInt8(0x09), LogFormat.BuiltIn.tsv), (0x2C, .csv)] where line.contains(separator) {
            if let names = DelimitedLayout.header(line, separator: separator),
                names.contains(where: policy.fields.timestamp.contains)
            {
                return kind
            }
        }
        if looksLikeLogfmt(line) { return .logfmt }
        return nil
    }

    /// UTF-16 text split at its `0A` bytes: a byte-order mark (`FF FE`, `FE FF`), or a NUL in
    /// every other byte of the line's start (ASCII in UTF-16; the NUL of the newline before
    /// starts the line in little-endian files).
    static func looksLikeUTF16(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var rest = line
        if rest.first == 0x00 { rest = UnsafeBufferPointer(rebasing: rest.dropFirst()) }
        if rest.count >= 2 && ((rest[0] == 0xFF && rest[1] == 0xFE) || (rest[0] == 0xFE && rest[1] == 0xFF)) { return true }
        let n = min(rest.count, 64) & ~1
        guard n >= 8 else { return false }
        var evenZeros = 0
        var oddZeros = 0
        for k in 0..<n where rest[k] == 0 {
            if k & 1 == 0 { evenZeros += 1 } else { oddZeros += 1 }
        }
        // Mostly ASCII: nearly every high (or low) byte is zero, and none of the others.
        return (oddZeros * 4 >= n * 3 / 2 && evenZeros == 0) || (evenZeros * 4 >= n * 3 / 2 && oddZeros == 0)
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
