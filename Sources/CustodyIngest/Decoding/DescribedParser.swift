import CustodyCore

/// Parses lines of a format given by a layout (a pattern, an nginx `log_format`, a regex, or a
/// structured built-in read through field references) and a `FieldResolver`.
final class DescribedParser {
    enum Splitter {
        case dissect(DissectLayout)
        case regex(RegexLayout)
        /// A JSON object per line; the slots are the top-level keys the references name.
        case jsonObject
        /// `key=value` pairs; the slots are the keys the references name.
        case pairs
        case syslog
        /// CSV (`,`) or TSV (tab) columns; the slots are the header's names.
        case delimited(UInt8)
    }

    private let splitter: Splitter
    /// The dissect layout compiled for the hot path.
    private let dissect: DissectSplitter?
    let resolver: FieldResolver
    private let appendScratch: UnsafeMutablePointer<UInt8>?
    private let keyScratch: UnsafeMutablePointer<UInt8>
    /// Slot names as bytes, for the JSON and pairs splitters.
    private let slotKeys: [[UInt8]]

    init(splitter: Splitter, resolver: FieldResolver) {
        self.splitter = splitter
        self.resolver = resolver
        if case .dissect(let layout) = splitter {
            dissect = DissectSplitter(layout, needed: resolver.neededSlots)
            appendScratch = layout.hasAppends ? ScratchPool.takeBytes(LineReader.maximumLineLength) : nil
        } else {
            dissect = nil
            appendScratch = nil
        }
        keyScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        slotKeys = resolver.names.map { Array($0.utf8) }
    }

    deinit {
        dissect?.deallocate()
        if let appendScratch { ScratchPool.giveBytes(appendScratch, count: LineReader.maximumLineLength) }
        ScratchPool.giveBytes(keyScratch, count: LineReader.maximumLineLength)
    }

    func parse(_ line: UnsafeBufferPointer<UInt8>, fallbackMillis: Int64? = nil) -> ParseOutcome {
        guard let p = line.baseAddress else { return .rejected(.patternMismatch) }
        let n = line.count
        let r = resolver
        switch splitter {
        case .dissect:
            // No clear: a matching line sets every slot the resolver reads.
            guard
                dissect.unsafelyUnwrapped.split(p, n, starts: r.starts, ends: r.ends, bases: r.bases, scratch: appendScratch ?? keyScratch)
            else {
                return .rejected(.patternMismatch)
            }
        case .regex(let layout):
            guard layout.split(p, n, starts: r.starts, ends: r.ends, bases: r.bases) else { return .rejected(.patternMismatch) }
        case .jsonObject:
            r.clear()
            var ambiguous = false
            let keys = slotKeys
            let valid = JSONScan.members(p, from: 0, n, keyScratch: keyScratch) { key, s, e in
                for (k, name) in keys.enumerated() where key.elementsEqual(name) {
                    if r.starts[k] >= 0 {
                        ambiguous = true
                        return false
                    }
                    r.bases[k] = p
                    r.starts[k] = s
                    r.ends[k] = e
                }
                return true
            }
            if ambiguous { return .rejected(.ambiguousField) }
            guard valid else { return .rejected(.invalidJSON) }
        case .pairs:
            r.clear()
            for (k, key) in slotKeys.enumerated() {
                switch FieldResolver.pair(key, in: line) {
                case .ambiguous: return .rejected(.ambiguousField)
                case .absent, .notText, .object: break  // `pair` reads text: never the last two
                case .value(let v):
                    r.bases[k] = UnsafePointer(v.baseAddress!)
                    r.starts[k] = 0
                    r.ends[k] = v.count
                }
            }
            guard LineParser.looksLikeLogfmt(line) else { return .rejected(.notLogfmt) }
        case .syslog:
            guard SyslogLayout.split(p, n, r) else { return .rejected(.notSyslog) }
        case .delimited(let separator):
            guard DelimitedLayout.split(line, separator: separator, r) else { return .rejected(.invalidCSV) }
        }
        return r.record(fallbackMillis: fallbackMillis, line: line)
    }
}
