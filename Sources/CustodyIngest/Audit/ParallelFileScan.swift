import CustodyCore
import Foundation

/// `FileAudit.scan` of one whole file over several threads, for a check with fewer files than
/// cores.
///
/// - A reader thread inflates the file straight into `LineBlock`s of about `blockBytes`,
///   numbered in file order, and cuts each just after its last line end; the unfinished line
///   after the cut is moved to the start of the next block. That is all it does per block, so
///   it keeps pace with the inflate alone.
/// - Parser threads (and the calling thread, when it would otherwise wait) split whole blocks
///   into lines and parse them, each with a parser of its own, numbering lines within the
///   block. Days, the time range and non-text bytes are summed per parser; everything that
///   depends on order stays in the block.
/// - The calling thread applies the blocks strictly in order, adding the lines of the blocks
///   before to each line number: rejected lines, anonymous publishes and every record with a
///   user go to one `InputIssues` and one `UserActivityTally`, exactly as a single pass would
///   feed them. So line numbers, first rejected lines, first events and per-user state are
///   those of a single pass (`LineReader` and `RecordReader`).
///
/// Parser threads run at a lower scheduling priority than the reader and the calling thread
/// (`ThreadPriority`): on a machine with as many runnable threads as cores and more, the reader
/// would otherwise wait for a core while a parser could have waited.
///
/// Parser threads start only once the file's format is known to keep no state from line to
/// line (`BlockParser.isStateless`): until then, and for other formats, the calling thread
/// parses every block itself, with the one parser that also sniffed the format.
enum ParallelFileScan {
    /// Decoded bytes per block: large enough that hand-overs are rare (a few hundred per
    /// 300 MB file), small enough that the blocks in flight stay a few MiB.
    static let blockBytes = 1 << 20
    static let blockCount = 6
    /// Decoded bytes asked of the source at a time: a whole block. ISA-L keeps the last 32 KiB
    /// of every call's output as history, a copy per call: at 256 KiB a read that copy was 3–4 %
    /// of the reader thread's samples (perf). A block's capacity has room for one more read
    /// (`LineBlock`), so each grew by 768 KiB of address space; a block is still cut once its
    /// target is reached, so about the same bytes of it are touched as before.
    static let readBytes = blockBytes
    static let parserThreads = 2

    /// `blockBytes` and `readBytes` (decoded bytes asked of the source at a time; by default a
    /// block, as `readBytes` is for `blockBytes`) are parameters so that tests can cut blocks and
    /// reads anywhere; `parserStarted` runs on each parser thread as it starts, for tests.
    static func scan(
        path: String, index: Int32, policy: Policy, format: LogFormat,
        blockBytes: Int = ParallelFileScan.blockBytes, readBytes: Int? = nil,
        parserThreads: Int = ParallelFileScan.parserThreads,
        parserStarted: (@Sendable () -> Void)? = nil
    ) -> FileAudit {
        // With reads of a whole default block, a smaller block is never cut where it asks.
        let readBytes = readBytes ?? blockBytes
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
        let shared = Shared(blockBytes: blockBytes, readBytes: readBytes)
        let reader = Thread { [shared, source = UncheckedDecodedSource(source)] in
            shared.read(source.source, readBytes: readBytes)
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
        // Lines of the blocks applied so far: block line numbers start after them.
        var lines = 0
        while let (block, parsedHere) = shared.next(sequence) {
            // A block this thread parses is the next in order: its records go straight to the
            // tally. The rejections and anonymous publishes of every block are counted here,
            // after the user records of the blocks before.
            if parsedHere {
                main.parse(block, into: users, firstLine: lines)
            } else {
                apply(block, to: users, firstLine: lines)
            }
            records += block.records
            for rejection in block.rejections { issues.reject(line: lines + rejection.line, cause: rejection.cause) }
            for line in block.anonymousPublishLines { anonymous.anonymousPublish(line: lines + line) }
            lines += block.lineCount
            shared.release(block)
            sequence += 1
            if !parallel && BlockParser.isStateless(main.parser.format) {
                parallel = true
                let format = main.parser.format
                for _ in 0..<parserThreads {
                    shared.finished.enter()
                    let thread = Thread { [shared] in
                        shared.parseBlocks(path: path, policy: policy, format: format, started: parserStarted)
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
        for line in main.parser.unfinishedPartialLines { issues.rejectEarlier(line: line, cause: Rejection.unfinishedPartial.cause) }
        issues.fault = outcome.fault
        issues.nonTextBytes = nonText
        issues.anonymousPublishes = anonymous.anonymousPublishes
        issues.firstAnonymousPublishLines = anonymous.firstAnonymousPublishLines
        var audit = FileAudit(
            path: path, index: index, records: records, dayCounts: dayCounts, issues: issues, users: users.finish(),
            compressed: source.isCompressed, bytesRead: source.compressedBytesRead,
            end: LineReader.Position(bytes: outcome.bytes, lines: lines),
            timeRange: earliest <= latest ? earliest...latest : nil)
        audit.pendingTimes = users.pendingTimes
        BackgroundRelease.release(consume users)
        return audit
    }

    private static func apply(_ block: LineBlock, to users: UserActivityTally, firstLine: Int) {
        block.unescaped.withUnsafeBufferPointer { unescaped in
            let bytes = UnsafePointer(block.bytes)
            for record in block.userRecords {
                let offset = Int(record.userOffset & ~LineBlock.UserRecord.unescapedFlag)
                let base = record.userOffset & LineBlock.UserRecord.unescapedFlag == 0 ? bytes : unescaped.baseAddress!
                users.add(
                    user: UnsafeBufferPointer(start: base + offset, count: Int(record.userLength)), prefix: record.userPrefix,
                    role: record.role, millis: record.millis, line: firstLine + record.line)
            }
        }
    }

    /// Just after the last byte of `p[from..<to]` known to end a line, or 0: the last `\n`, or a
    /// later `\r` that is not the last byte (after the last `\n` its next byte is not `\n`, so
    /// it is a lone `\r`, a line end; a last `\r` waits for its next byte).
    static func lastLineEnd(_ p: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Int {
        // Backwards: with ~150-byte lines the last `\n` is a few bytes from the end.
        var i = to - 1
        while i >= from, p[i] != 0x0A { i -= 1 }
        let afterNewline = i >= from ? i + 1 : 0
        var k = to - 2
        while k >= max(from, afterNewline), p[k] != 0x0D { k -= 1 }
        return k >= max(from, afterNewline) ? k + 1 : afterNewline
    }

    /// What the reader thread found: the source's fault and the decoded bytes read.
    struct Outcome {
        var fault: ReadFault?
        var bytes: Int
    }

    /// What a parser thread summed.
    struct Part {
        var days: [Int32: Int]
        var earliest: Int64
        var latest: Int64
        var nonText: Int
    }

    /// The blocks and their hand-over between threads: every field below `condition` is read
    /// and written only while holding it.
    private final class Shared: @unchecked Sendable {
        let finished = DispatchGroup()
        private let condition = NSCondition()
        private let blocks: [LineBlock]
        private var produced = 0
        private var readerDone = false
        private var _outcome = Outcome(fault: nil, bytes: 0)
        private var _parts: [Part] = []

        init(blockBytes: Int, readBytes: Int) {
            blocks = (0..<ParallelFileScan.blockCount).map { _ in LineBlock(targetBytes: blockBytes, readBytes: readBytes) }
        }

        /// Valid after `finished` is done.
        var outcome: Outcome { condition.withLock { _outcome } }
        var parts: [Part] { condition.withLock { _parts } }

        // MARK: reader thread

        /// Fills blocks with the source's bytes, cut after line ends, and hands them on in order.
        func read(_ source: DecodedSource, readBytes: Int) {
            let limit = LineReader.maximumLineLength
            var total = 0
            var block = take()
            while true {
                // The block holds the start of an unfinished line (no line end in it but perhaps
                // a last `\r`), or after an overlong line the bytes read past its end (line ends
                // anywhere): read to the target, then on until a line end is seen.
                var cut = 0
                var searched = block.startsWithOverlong ? 0 : max(block.filled - 1, 0)
                var atEnd = false
                while true {
                    if block.filled >= block.targetBytes {
                        cut = max(cut, ParallelFileScan.lastLineEnd(block.bytes, from: searched, to: block.filled))
                        searched = block.filled - 1
                        // A line end, or an unfinished line already over the limit.
                        if cut > 0 || block.filled > limit + 1 { break }
                    }
                    let room = min(readBytes, block.byteCapacity - block.filled)
                    let n = source.read(into: UnsafeMutableRawBufferPointer(start: block.bytes + block.filled, count: room))
                    if n == 0 {
                        atEnd = true
                        break
                    }
                    block.filled += n
                    total += n
                }
                if atEnd {
                    block.byteCount = block.filled
                    block.endsWithFault = source.fault != nil
                    break
                }
                block.byteCount = cut
                let previous = block
                handOver(previous)
                block = take()
                let tail = previous.filled - cut
                if tail <= limit + 1 {
                    // The reader is the only writer of a block's bytes, and parsers read only
                    // those before `byteCount`: the tail can be copied after the hand-over.
                    block.bytes.update(from: previous.bytes + cut, count: tail)
                    block.filled = tail
                    continue
                }
                // The unfinished line is overlong already: skip to its end; it becomes the
                // first line of the next block (or the last of the file).
                if skipOverlong(
                    source, into: block, afterCR: previous.bytes[previous.filled - 1] == 0x0D, readBytes: readBytes, total: &total)
                {
                    block.startsWithOverlong = true
                } else {
                    block.endsWithOverlong = true
                    break
                }
            }
            condition.withLock {
                block.sequence = produced
                block.state = .filled
                produced += 1
                _outcome = Outcome(fault: source.fault, bytes: total)
                readerDone = true
                condition.broadcast()
            }
        }

        /// Reads on to the end of an overlong line, without keeping it, and moves the bytes
        /// after it to the start of `block`. `afterCR`: the bytes before ended with a `\r`.
        /// False at the end of the source.
        private func skipOverlong(
            _ source: DecodedSource, into block: LineBlock, afterCR: Bool, readBytes: Int, total: inout Int
        ) -> Bool {
            var afterCR = afterCR
            let p = block.bytes
            while true {
                let n = source.read(into: UnsafeMutableRawBufferPointer(start: p, count: min(readBytes, block.byteCapacity)))
                if n == 0 { return false }
                total += n
                var resume = -1
                if afterCR {
                    // `\r\n`: the `\n` ends the line; otherwise the `\r` did.
                    resume = p[0] == 0x0A ? 1 : 0
                } else {
                    var i = 0
                    while i < n, p[i] != 0x0A, p[i] != 0x0D { i += 1 }
                    if i < n - 1 {
                        resume = p[i] == 0x0D && p[i + 1] == 0x0A ? i + 2 : i + 1
                    } else if i == n - 1 {
                        if p[i] == 0x0A { resume = n }
                    }
                }
                afterCR = resume < 0 && p[n - 1] == 0x0D
                if resume >= 0 {
                    if resume < n { memmove(p, p + resume, n - resume) }
                    block.filled = n - resume
                    return true
                }
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

        /// `started` runs on the thread once its priority is lowered (tests look at it there).
        func parseBlocks(path: String, policy: Policy, format: LogFormat, started: (@Sendable () -> Void)?) {
            // The reader's inflate is the one serial stage: parsers take what it leaves.
            ThreadPriority.lowerCurrentThread()
            started?()
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
