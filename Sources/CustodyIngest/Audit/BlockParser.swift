import CLineScan
import CustodyCore

/// Parses the lines of `LineBlock`s: what `RecordReader.read` and `FileAudit.scan` do per line,
/// but with everything that depends on line order (rejections, anonymous publishes, records
/// with a user) left in the block for the scan to apply in order, and the rest (days, time
/// range, non-text bytes) summed here. One per parsing thread; call `deallocate()` when done.
struct BlockParser {
    private(set) var parser: LineParser
    private var counts: RecordCounts
    /// Only `nonTextBytes` is used: the other issues are in the blocks, in order.
    private(set) var nonText = InputIssues()
    /// Line ends found per `custody_newlines` call.
    private let newlines: UnsafeMutablePointer<UInt32>

    init(path: String, policy: Policy, format: LogFormat) {
        parser = LineParser(policy: policy, format: format, path: path)
        counts = RecordCounts(policy: policy)
        newlines = .allocate(capacity: LineReader.newlineBatch)
    }

    func deallocate() {
        parser.deallocate()
        newlines.deallocate()
    }

    /// Records per day over every block parsed here.
    mutating func finishDays() -> [Int32: Int] { counts.finishDays() }

    var earliest: Int64 { counts.earliest }
    var latest: Int64 { counts.latest }

    /// Whether lines of this format can be parsed by separate parsers, in any order, with the
    /// same results: the built-ins that keep no state from line to line (CSV reads its header,
    /// CRI joins partial lines, and sniffing happens on the first line).
    static func isStateless(_ format: LogFormat) -> Bool {
        guard format.definition == nil, let kind = format.builtIn else { return false }
        return kind == .jsonl || kind == .combined || kind == .logfmt
    }

    /// Splits the block into lines (as `LineReader` does: a line ends at `\n` or a lone `\r`, a
    /// `\r` before `\n` is dropped, a line over the limit is rejected as overlong) and parses
    /// them, numbering them from 1 within the block.
    ///
    /// The line loop has a copy per built-in format, each with that format's parser inlined, so
    /// that a record is built where it is counted: returned from a call, it went through memory
    /// (stored a field at a time, read back in wider loads the CPU could not forward), and one
    /// loop inlining all three parsers was too big for the compiler to inline any.
    mutating func parse(_ block: LineBlock) {
        // Only stateless formats are parsed here, and they hold no partial lines to number.
        var kept = KeptInBlock(block: block)
        parse(block, &kept, firstLine: 0)
    }

    /// `parse(_:)` for the thread that applies blocks, when `block` is the next to apply: its
    /// records with a user go straight to `users` (their lines counted after `firstLine`)
    /// instead of through `block.userRecords`, which saves storing and reading them again.
    mutating func parse(_ block: LineBlock, into users: UserActivityTally, firstLine: Int) {
        var direct = DirectToTally(users: users, firstLine: firstLine)
        parse(block, &direct, firstLine: firstLine)
    }

    private mutating func parse<Users: UserRecordSink>(_ block: LineBlock, _ users: inout Users, firstLine: Int) {
        switch parser.inlinableFormat {
        case .jsonl?: parseLines(block, JSONLines.self, &users)
        case .combined?: parseLines(block, CombinedLines.self, &users)
        case .logfmt?: parseLines(block, LogfmtLines.self, &users)
        default: parseLines(block, AnyLines.self, &users, firstLine: firstLine)
        }
    }

    /// `firstLine`: lines of the blocks before, for the file's number of a skipped line
    /// (`LineParser.notePartialLine`; only formats that skip lines need it).
    @inline(never)
    private mutating func parseLines<Lines: LineParsing, Users: UserRecordSink>(
        _ block: LineBlock, _: Lines.Type, _ users: inout Users, firstLine: Int = 0
    ) {
        var number = 0
        if block.startsWithOverlong {
            number += 1
            block.rejections.append((number, Rejection.overlong.cause))
        }
        let base = block.bytes
        let count = block.byteCount
        var lineStart = 0
        var scan = 0
        while scan < count {
            var scanned = 0
            let found = custody_newlines(base + scan, count - scan, newlines, LineReader.newlineBatch, &scanned)
            for k in 0..<found {
                let newline = scan + Int(newlines[k])
                number += 1
                parseLine(lineStart, newline, number, firstLine, in: block, Lines.self, &users)
                lineStart = newline + 1
            }
            scan += scanned
        }
        // Bytes after the last line end found: a line that ended at a lone `\r` (the reader cut
        // the block just after it, where its next byte is not known here), or the file's last.
        if lineStart < count {
            number += 1
            // A fault cuts a line off, unless it was overlong already (as `LineReader` has it).
            if block.endsWithFault && count - lineStart <= LineReader.maximumLineLength + 1 {
                block.rejections.append((number, Rejection.cutOffByFault.cause))
            } else {
                parseLine(lineStart, count, number, firstLine, in: block, Lines.self, &users)
            }
        }
        if block.endsWithOverlong {
            number += 1
            block.rejections.append((number, Rejection.overlong.cause))
        }
        block.lineCount = number
    }

    /// One line, `start..<stop` in the block's bytes (its line end excluded; a `\r` before it is
    /// dropped here, and the length limit applies to what is left).
    @inline(__always)
    private mutating func parseLine<Lines: LineParsing, Users: UserRecordSink>(
        _ start: Int, _ stop: Int, _ number: Int, _ firstLine: Int, in block: LineBlock, _: Lines.Type, _ users: inout Users
    ) {
        var stop = stop
        if stop > start && block.bytes[stop - 1] == 0x0D { stop -= 1 }
        if stop - start > LineReader.maximumLineLength {
            block.rejections.append((number, Rejection.overlong.cause))
            return
        }
        var bytes = UnsafeBufferPointer(start: block.bytes + start, count: stop - start)
        // Editors on some systems start a UTF-8 file with a byte-order mark. (The file's first
        // line is the first of block 0: an empty block 0 comes only before an overlong line.)
        if number == 1, block.sequence == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            bytes = UnsafeBufferPointer(rebasing: bytes[3...])
        }
        if bytes.isEmpty || LineParser.isBlank(bytes) { return }
        switch Lines.parse(&parser, bytes) {
        case .record(let record):
            add(record, line: number, to: block, &users)
        case .rejected(let rejection):
            block.rejections.append((number, parser.cause(of: rejection)))
            nonText.countNonText(bytes)
        case .skipped:
            parser.notePartialLine(firstLine + number)
        }
    }

    @inline(__always)
    private mutating func add<Users: UserRecordSink>(_ record: ParsedLine, line: Int, to block: LineBlock, _ users: inout Users) {
        block.records += 1
        let role = counts.count(record)
        guard let user = record.user else {
            // Whoever publishes must be identified: a publish without a user is a violation.
            if role == .publish { block.anonymousPublishLines.append(line) }
            return
        }
        users.add(user: user, prefix: record.userPrefix, role: role, millis: record.millis, line: line)
    }
}

/// Where `BlockParser` puts a block's records with a user (`line` numbered within the block).
/// `user` is valid only during the call.
protocol UserRecordSink {
    mutating func add(user: UnsafeBufferPointer<UInt8>, prefix: UInt64, role: EventRole?, millis: Int64, line: Int)
}

/// Into the block, for the applying thread to tally in order later.
private struct KeptInBlock: UserRecordSink {
    let block: LineBlock

    @inline(__always)
    mutating func add(user: UnsafeBufferPointer<UInt8>, prefix: UInt64, role: EventRole?, millis: Int64, line: Int) {
        var offset: UInt32
        let start = UnsafePointer(block.bytes)
        if let base = user.baseAddress, base >= start, base < start + block.byteCount {
            offset = UInt32(base - start)
        } else {
            // Unescaped into the parser's scratch space, which the next line overwrites.
            offset = UInt32(block.unescaped.count) | LineBlock.UserRecord.unescapedFlag
            block.unescaped.append(contentsOf: user)
        }
        block.appendUserRecord(
            LineBlock.UserRecord(
                millis: millis, userPrefix: prefix, userOffset: offset, userLength: UInt32(user.count), line: line, role: role))
    }
}

/// Straight into the file's tally: only for the block that is next in line order.
private struct DirectToTally: UserRecordSink {
    let users: UserActivityTally
    let firstLine: Int

    @inline(__always)
    mutating func add(user: UnsafeBufferPointer<UInt8>, prefix: UInt64, role: EventRole?, millis: Int64, line: Int) {
        users.add(user: user, prefix: prefix, role: role, millis: millis, line: firstLine + line)
    }
}

/// How a copy of `BlockParser`'s line loop parses a line: with one built-in parser inlined, or
/// through `LineParser.parse`.
protocol LineParsing {
    static func parse(_ parser: inout LineParser, _ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome
}

private enum JSONLines: LineParsing {
    @inline(__always)
    static func parse(_ parser: inout LineParser, _ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { parser.parseJSONInline(line) }
}

private enum CombinedLines: LineParsing {
    @inline(__always)
    static func parse(_ parser: inout LineParser, _ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { parser.parseCombinedInline(line) }
}

private enum LogfmtLines: LineParsing {
    @inline(__always)
    static func parse(_ parser: inout LineParser, _ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { parser.parseLogfmtInline(line) }
}

private enum AnyLines: LineParsing {
    @inline(__always)
    static func parse(_ parser: inout LineParser, _ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { parser.parse(line) }
}
