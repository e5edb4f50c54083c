import CustodyCore

/// Reads one file's records: decoding, line splitting and parsing, with every rejected line and
/// any fault collected in `InputIssues`. The one loop both the audit and the recount use.
public enum RecordReader {
    public struct Outcome: Sendable {
        public var records = 0
        public var issues = InputIssues()
        public var compressed = false
        public var bytesRead = 0
    }

    /// Calls `body` with each record and its line number, in file order.
    /// With `prefetch`, decoding runs on a second thread ahead of parsing.
    public static func read(path: String, policy: Policy, format: LogFormat, prefetch: Bool = false,
                            _ body: (ParsedLine, Int) -> Void) -> Outcome {
        var outcome = Outcome()
        let source: DecodedSource
        do {
            let opened = try DecodedSources.open(path: path)
            source = prefetch ? PrefetchingSource(opened) : opened
        } catch {
            outcome.issues.fault = error
            return outcome
        }
        outcome.compressed = source.isCompressed
        var parser = LineParser(policy: policy, format: format)
        defer { parser.deallocate() }
        var records = 0
        var issues = InputIssues()
        let fault = LineReader.forEachLine(in: source) { event in
            switch event {
            case .line(let bytes, let number):
                if bytes.isEmpty || LineParser.isBlank(bytes) { return }
                switch parser.parse(bytes) {
                case .record(let record):
                    records += 1
                    body(record, number)
                case .rejected(let rejection):
                    issues.reject(line: number, cause: rejection.cause)
                }
            case .overlong(let number):
                issues.reject(line: number, cause: Rejection.overlong.cause)
            case .cutOff(let number):
                issues.reject(line: number, cause: Rejection.cutOffByFault.cause)
            }
        }
        issues.fault = fault
        outcome.records = records
        outcome.issues = issues
        outcome.bytesRead = source.compressedBytesRead
        return outcome
    }
}
