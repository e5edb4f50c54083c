import CustodyCore

/// Parses the lines of `LineBlock`s: what `RecordReader.read` and `FileAudit.scan` do per line,
/// but with everything that depends on line order (rejections, anonymous publishes, records
/// with a user) left in the block for the scan to apply in order, and the rest (days, time
/// range, non-text bytes) summed here. One per parsing thread; call `deallocate()` when done.
struct BlockParser {
    private(set) var parser: LineParser
    private var calendar: DayCalendar
    private let roles: EventRoleTable
    private var days = DayTally()
    private(set) var earliest = Int64.max
    private(set) var latest = Int64.min
    /// Only `nonTextBytes` is used: the other issues are in the blocks, in order.
    private(set) var nonText = InputIssues()

    init(path: String, policy: Policy, format: LogFormat) {
        parser = LineParser(policy: policy, format: format, path: path)
        calendar = DayCalendar(timeZone: policy.timeZone)
        roles = EventRoleTable(policy: policy)
    }

    func deallocate() { parser.deallocate() }

    /// Records per day over every block parsed here.
    mutating func finishDays() -> [Int32: Int] { days.finish() }

    /// Whether lines of this format can be parsed by separate parsers, in any order, with the
    /// same results: the built-ins that keep no state from line to line (CSV reads its header,
    /// CRI joins partial lines, and sniffing happens on the first line).
    static func isStateless(_ format: LogFormat) -> Bool {
        guard format.definition == nil, let kind = format.builtIn else { return false }
        return kind == .jsonl || kind == .combined || kind == .logfmt
    }

    mutating func parse(_ block: LineBlock) {
        for k in 0..<block.lineCount {
            let line = block.lines[k]
            switch line.length {
            case LineBlock.Line.overlong:
                block.rejections.append((line.number, Rejection.overlong.cause))
            case LineBlock.Line.cutOff:
                block.rejections.append((line.number, Rejection.cutOffByFault.cause))
            default:
                var bytes = UnsafeBufferPointer(start: block.bytes + Int(line.offset), count: Int(line.length))
                // Editors on some systems start a UTF-8 file with a byte-order mark.
                if line.number == 1, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                    bytes = UnsafeBufferPointer(rebasing: bytes[3...])
                }
                if bytes.isEmpty || LineParser.isBlank(bytes) { continue }
                switch parser.parse(bytes) {
                case .record(let record):
                    add(record, line: line.number, to: block)
                case .rejected(let rejection):
                    block.rejections.append((line.number, parser.cause(of: rejection)))
                    nonText.countNonText(bytes)
                case .skipped:
                    break
                }
            }
        }
    }

    @inline(__always)
    private mutating func add(_ record: ParsedLine, line: Int, to block: LineBlock) {
        block.records += 1
        days.add(calendar.day(ofMillis: record.millis))
        if record.millis < earliest { earliest = record.millis }
        if record.millis > latest { latest = record.millis }
        let role: EventRole? = if let event = record.event { roles.role(of: event, prefix: record.eventPrefix) } else { nil }
        guard let user = record.user else {
            // Whoever publishes must be identified: a publish without a user is a violation.
            if role == .publish { block.anonymousPublishLines.append(line) }
            return
        }
        var offset: UInt32
        let start = UnsafePointer(block.bytes)
        if let base = user.baseAddress, base >= start, base < start + block.byteCount {
            offset = UInt32(base - start)
        } else {
            // Unescaped into the parser's scratch space, which the next line overwrites.
            offset = UInt32(block.unescaped.count) | LineBlock.UserRecord.unescapedFlag
            block.unescaped.append(contentsOf: user)
        }
        block.userRecords.append(
            LineBlock.UserRecord(
                millis: record.millis, userPrefix: record.userPrefix, userOffset: offset, userLength: UInt32(user.count),
                line: line, role: role))
    }
}
