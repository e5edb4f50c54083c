import CustodyCore
import Foundation

/// `FileAudit.scan` of one whole file over several threads, for a check with fewer files than
/// cores.
///
/// - A reader thread inflates the file and splits it into lines (`LineReader`, as for a single
///   pass), copying them into `LineBlock`s of about `blockBytes`, numbered in file order.
/// - Parser threads (and the calling thread, when it would otherwise wait) parse whole blocks,
///   each with a parser of its own. Days, the time range and non-text bytes are summed per
///   parser; everything that depends on order stays in the block.
/// - The calling thread applies the blocks strictly in order: rejected lines, anonymous
///   publishes and every record with a user go to one `InputIssues` and one
///   `UserActivityTally`, exactly as a single pass would feed them. So line numbers, first
///   rejected lines, first events and per-user state are those of a single pass.
///
/// Parser threads start only once the file's format is known to keep no state from line to
/// line (`BlockParser.isStateless`): until then, and for other formats, the calling thread
/// parses every block itself, with the one parser that also sniffed the format.
enum ParallelFileScan {
    /// Decoded bytes per block: large enough that hand-overs are rare (a few hundred per
    /// 300 MB file), small enough that the blocks in flight stay a few MiB.
    static let blockBytes = 1 << 20
    static let blockCount = 6
    static let parserThreads = 2

    static func scan(
        path: String, index: Int32, policy: Policy, format: LogFormat,
        blockBytes: Int = ParallelFileScan.blockBytes, parserThreads: Int = ParallelFileScan.parserThreads
    ) -> FileAudit {
        let source: DecodedSource
        do {
            source = try DecodedSources.open(path: path)
        } catch {
            var issues = InputIssues()
            issues.fault = error
            return FileAudit(
                path: path, index: index, records: 0, dayCounts: [:], issues: issues, users: [], compressed: false,
                bytesRead: 0, end: .start, timeRange: nil)
        }
        let shared = Shared(blockBytes: blockBytes)
        let reader = Thread { [shared, source = UncheckedSource(source)] in
            shared.read(source.source)
            shared.finished.leave()
        }
        shared.finished.enter()
        reader.stackSize = 1 << 20
        reader.start()

        var main = BlockParser(path: path, policy: policy, format: format)
        defer { main.deallocate() }
        let users = UserActivityTally(file: index)
        var issues = InputIssues()
        var anonymous = InputIssues()
        var records = 0
        var parallel = false
        var sequence = 0
        while let (block, parsedHere) = shared.next(sequence) {
            if parsedHere { main.parse(block) }
            records += block.records
            for rejection in block.rejections { issues.reject(line: rejection.line, cause: rejection.cause) }
            for line in block.anonymousPublishLines { anonymous.anonymousPublish(line: line) }
            apply(block, to: users)
            shared.release(block)
            sequence += 1
            if !parallel && BlockParser.isStateless(main.parser.format) {
                parallel = true
                let format = main.parser.format
                for _ in 0..<parserThreads {
                    shared.finished.enter()
                    let thread = Thread { [shared] in
                        shared.parseBlocks(path: path, policy: policy, format: format)
                        shared.finished.leave()
                    }
                    thread.stackSize = 1 << 20
                    thread.start()
                }
            }
        }
        shared.finished.wait()

        var dayCounts = main.finishDays()
        var earliest = main.earliest
        var latest = main.latest
        var nonText = main.nonText.nonTextBytes
        for part in shared.parts {
            for (day, count) in part.days { dayCounts[day, default: 0] += count }
            earliest = min(earliest, part.earliest)
            latest = max(latest, part.latest)
            nonText += part.nonText
        }
        let outcome = shared.outcome
        issues.fault = outcome.fault
        issues.nonTextBytes = nonText
        issues.anonymousPublishes = anonymous.anonymousPublishes
        issues.firstAnonymousPublishLines = anonymous.firstAnonymousPublishLines
        var audit = FileAudit(
            path: path, index: index, records: records, dayCounts: dayCounts, issues: issues, users: users.finish(),
            compressed: source.isCompressed, bytesRead: source.compressedBytesRead, end: outcome.end,
            timeRange: earliest <= latest ? earliest...latest : nil)
        audit.pendingTimes = users.pendingTimes
        return audit
    }

    private static func apply(_ block: LineBlock, to users: UserActivityTally) {
        block.unescaped.withUnsafeBufferPointer { unescaped in
            let bytes = UnsafePointer(block.bytes)
            for record in block.userRecords {
                let offset = Int(record.userOffset & ~LineBlock.UserRecord.unescapedFlag)
                let base = record.userOffset & LineBlock.UserRecord.unescapedFlag == 0 ? bytes : unescaped.baseAddress!
                users.add(
                    user: UnsafeBufferPointer(start: base + offset, count: Int(record.userLength)), prefix: record.userPrefix,
                    role: record.role, millis: record.millis, line: record.line)
            }
        }
    }

    /// What a parser thread summed.
    struct Part {
        var days: [Int32: Int]
        var earliest: Int64
        var latest: Int64
        var nonText: Int
    }

    private struct UncheckedSource: @unchecked Sendable {
        let source: DecodedSource
        init(_ source: DecodedSource) { self.source = source }
    }

    /// The blocks and their hand-over between threads: every field below `condition` is read
    /// and written only while holding it.
    private final class Shared: @unchecked Sendable {
        let finished = DispatchGroup()
        private let condition = NSCondition()
        private let blocks: [LineBlock]
        private var produced = 0
        private var readerDone = false
        private var _outcome = LineReader.Outcome(fault: nil, end: .start)
        private var _parts: [Part] = []

        init(blockBytes: Int) {
            // At least one line per byte, plus room for marks; never more than 64 Ki lines.
            let lineCapacity = min(max(blockBytes, 64), 1 << 16)
            blocks = (0..<ParallelFileScan.blockCount).map { _ in LineBlock(targetBytes: blockBytes, lineCapacity: lineCapacity) }
        }

        /// Valid after `finished` is done.
        var outcome: LineReader.Outcome { condition.withLock { _outcome } }
        var parts: [Part] { condition.withLock { _parts } }

        // MARK: reader thread

        func read(_ source: DecodedSource) {
            var block = take()
            let outcome = LineReader.forEachLine(in: source, from: .start, completeLinesOnly: false, consumed: nil) { event in
                let length: Int
                switch event {
                case .line(let bytes, _): length = bytes.count
                case .overlong, .cutOff: length = 0
                }
                // Empty lines carry nothing (RecordReader skips them too).
                if case .line(_, _) = event, length == 0 { return }
                if block.isFull(adding: length) {
                    handOver(block)
                    block = take()
                }
                switch event {
                case .line(let bytes, let number): block.append(bytes, number: number)
                case .overlong(let number): block.appendMark(LineBlock.Line.overlong, number: number)
                case .cutOff(let number): block.appendMark(LineBlock.Line.cutOff, number: number)
                }
            }
            condition.withLock {
                if !block.isEmpty {
                    block.sequence = produced
                    block.state = .filled
                    produced += 1
                }
                _outcome = outcome
                readerDone = true
                condition.broadcast()
            }
        }

        /// The next block in order, once the applier has released it.
        private func take() -> LineBlock {
            condition.withLock {
                let block = blocks[produced % blocks.count]
                while block.state != .free { condition.wait() }
                block.reset()
                return block
            }
        }

        private func handOver(_ block: LineBlock) {
            condition.withLock {
                block.sequence = produced
                block.state = .filled
                produced += 1
                condition.broadcast()
            }
        }

        // MARK: parser threads

        func parseBlocks(path: String, policy: Policy, format: LogFormat) {
            var parser = BlockParser(path: path, policy: policy, format: format)
            defer { parser.deallocate() }
            while let block = claim() {
                parser.parse(block)
                condition.withLock {
                    block.state = .parsed
                    condition.broadcast()
                }
            }
            let part = Part(
                days: parser.finishDays(), earliest: parser.earliest, latest: parser.latest, nonText: parser.nonText.nonTextBytes)
            condition.withLock { _parts.append(part) }
        }

        /// The earliest filled block, or nil once the reader is done and none is left.
        private func claim() -> LineBlock? {
            condition.withLock {
                while true {
                    var earliest: LineBlock?
                    for block in blocks where block.state == .filled && block.sequence < (earliest?.sequence ?? .max) {
                        earliest = block
                    }
                    if let earliest {
                        earliest.state = .parsing
                        return earliest
                    }
                    if readerDone { return nil }
                    condition.wait()
                }
            }
        }

        // MARK: applying thread

        /// Block `sequence`, parsed (`parsedHere` false) or claimed for the caller to parse; nil
        /// after the last block.
        func next(_ sequence: Int) -> (LineBlock, parsedHere: Bool)? {
            condition.withLock {
                let block = blocks[sequence % blocks.count]
                while true {
                    if block.sequence == sequence {
                        switch block.state {
                        case .parsed: return (block, false)
                        case .filled:
                            block.state = .parsing
                            return (block, true)
                        case .parsing, .free: break
                        }
                    }
                    if readerDone && produced == sequence { return nil }
                    condition.wait()
                }
            }
        }

        func release(_ block: LineBlock) {
            condition.withLock {
                block.state = .free
                condition.broadcast()
            }
        }
    }
}
