import CustodyCore

/// Reads one file's records: decoding, line splitting and parsing, with every rejected line and
/// any fault collected in `InputIssues`. The one loop the check, the recount and ingestion use.
public enum RecordReader {
    public struct Outcome: Sendable {
        public var records = 0
        public var issues = InputIssues()
        public var compressed = false
        public var bytesRead = 0
        /// Where reading stopped in the decoded content.
        public var end = LineReader.Position.start
    }

    /// Where to start and what to pass on besides records.
    public struct Plan {
        public var start: LineReader.Position
        /// Leave an unfinished last line for later (files that may still be growing).
        public var completeLinesOnly: Bool
        /// Decode on a second thread ahead of parsing.
        public var prefetch: Bool
        /// Receives every decoded byte read, in order (for vault copies).
        public var consumed: ((UnsafeRawBufferPointer) -> Void)?
        /// The whole file, already read: decoded from memory (`DecodedSources.open(contents:)`)
        /// instead of opening the path again.
        public var contents: [UInt8]?
        /// A read announced to a board of helpers (`DecodeHelpers.expectRead`): once the file is
        /// open, a worker with no file left may decode the rest of it. A compressed file only,
        /// and not with `prefetch` (which decodes ahead already); the ticket is settled either way.
        public var helpers: DecodeHelpers.Ticket?

        public init(
            start: LineReader.Position = .start, completeLinesOnly: Bool = false, prefetch: Bool = false,
            contents: [UInt8]? = nil, consumed: ((UnsafeRawBufferPointer) -> Void)? = nil
        ) {
            self.start = start
            self.completeLinesOnly = completeLinesOnly
            self.prefetch = prefetch
            self.contents = contents
            self.consumed = consumed
        }
    }

    /// Calls `body` with each record and its line number, in file order.
    public static func read(
        path: String, policy: Policy, format: LogFormat, plan: Plan = Plan(),
        _ body: (ParsedLine, Int) -> Void
    ) -> Outcome {
        withoutActuallyEscaping(body) { body in
            var sink = ClosureSink(body: body)
            return read(path: path, policy: policy, format: format, plan: plan, into: &sink)
        }
    }

    /// `read` with the records given to a sink, whose code the compiler can inline into the line
    /// loop: a closure is called per record, which goes to it through memory (the check's single
    /// pass, `FileAudit.scan`, uses this).
    static func read<Sink: RecordSink>(
        path: String, policy: Policy, format: LogFormat, plan: Plan = Plan(), into sink: inout Sink
    ) -> Outcome {
        var outcome = Outcome()
        let source: DecodedSource
        var handOff: HandOffSource?
        do {
            let opened: DecodedSource
            if let contents = plan.contents {
                opened = try DecodedSources.open(contents: contents)
            } else {
                opened = try DecodedSources.open(path: path)
            }
            if plan.prefetch {
                source = PrefetchingSource(opened)
            } else if let ticket = plan.helpers, opened.isCompressed {
                // Only inflating is worth handing over: a plain file's read is a copy.
                let helped = HandOffSource(opened, totalBytes: ticket.fileBytes)
                handOff = helped
                source = helped
            } else {
                source = opened
            }
        } catch {
            if let ticket = plan.helpers { ticket.board.settle(ticket) }
            outcome.issues.fault = error
            outcome.end = plan.start
            return outcome
        }
        if let ticket = plan.helpers { ticket.board.settle(ticket, source: handOff) }
        defer {
            if let ticket = plan.helpers, let handOff {
                ticket.board.remove(handOff)
                handOff.close()
            }
        }
        outcome.compressed = source.isCompressed
        var lines = RecordLines(parser: LineParser(policy: policy, format: format, path: path), sink: sink)
        defer { lines.parser.deallocate() }
        let result = LineReader.forEachLine(
            in: source, from: plan.start, completeLinesOnly: plan.completeLinesOnly, consumed: plan.consumed, visitor: &lines)
        sink = lines.sink
        for line in lines.parser.unfinishedPartialLines { lines.issues.rejectEarlier(line: line, cause: Rejection.unfinishedPartial.cause) }
        lines.issues.fault = result.fault
        outcome.records = lines.records
        outcome.issues = lines.issues
        outcome.bytesRead = source.compressedBytesRead
        outcome.end = result.end
        return outcome
    }
}

/// Receives `RecordReader.read`'s records, each with its line number, in file order.
protocol RecordSink {
    mutating func take(_ record: ParsedLine, line: Int)
}

/// The closure form of `RecordSink`.
private struct ClosureSink: RecordSink {
    let body: (ParsedLine, Int) -> Void

    @inline(__always)
    mutating func take(_ record: ParsedLine, line: Int) { body(record, line) }
}

/// Parses each line `LineReader` gives and hands the records on; collects the rejections.
private struct RecordLines<Sink: RecordSink>: LineVisitor {
    var parser: LineParser
    var sink: Sink
    var records = 0
    var issues = InputIssues()

    @inline(__always)
    mutating func visit(_ event: LineReader.Event) {
        switch event {
        case .line(var bytes, let number):
            // Editors on some systems start a UTF-8 file with a byte-order mark.
            if number == 1, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                bytes = UnsafeBufferPointer(rebasing: bytes[3...])
            }
            if bytes.isEmpty || LineParser.isBlank(bytes) { return }
            switch parser.parseInline(bytes) {
            case .record(let record):
                records += 1
                sink.take(record, line: number)
            case .rejected(let rejection):
                issues.reject(line: number, cause: parser.cause(of: rejection))
                issues.countNonText(bytes)
            case .skipped:
                parser.notePartialLine(number)
            }
        case .overlong(let number):
            issues.reject(line: number, cause: Rejection.overlong.cause)
        case .cutOff(let number):
            issues.reject(line: number, cause: Rejection.cutOffByFault.cause)
        }
    }
}
