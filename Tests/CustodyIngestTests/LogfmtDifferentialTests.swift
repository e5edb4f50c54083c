import CLineScan
import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The logfmt parser's shortcuts (separators and closing quotes found sixteen bytes a compare,
/// the line's last sixteen bytes read for a partial block, keys looked up by their first word)
/// give the outcomes of the plain rule, written here a byte at a time: pairs separated by
/// spaces and tabs; a key ends at `=`, a space, a tab or (an error) `"`; a bare value ends at a
/// space or tab; a quoted value at the first `"` not escaped by a backslash; the best-ranked key
/// of each field wins and two of one rank are ambiguous.
@Suite("LogfmtParser against its plain rule")
struct LogfmtDifferentialTests {
    enum Outcome: Equatable, CustomStringConvertible {
        case record(millis: Int64, user: [UInt8]?, event: [UInt8]?)
        case rejected(Rejection)

        var description: String {
            switch self {
            case .record(let millis, let user, let event):
                return "record(\(millis), \(user.map { String(decoding: $0, as: UTF8.self) } ?? "nil"), "
                    + "\(event.map { String(decoding: $0, as: UTF8.self) } ?? "nil"))"
            case .rejected(let rejection): return "rejected(\(rejection.cause))"
            }
        }
    }

    static let names = Policy.FieldNames(
        timestamp: ["ts", "time", "timestamp_utc_long"], user: ["user", "uid", "user_identifier"], event: ["event", "action"])

    static func rank(of key: [UInt8]) -> (field: Int, rank: Int)? {
        let name = String(decoding: key, as: UTF8.self)
        for (field, list) in [names.timestamp, names.user, names.event].enumerated() {
            if let rank = list.firstIndex(of: name) { return (field, rank) }
        }
        return nil
    }

    static func unescape(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < value.count {
            var c = value[i]
            if c == 0x5C && i + 1 < value.count {
                i += 1
                switch value[i] {
                case 0x6E: c = 0x0A
                case 0x74: c = 0x09
                case 0x72: c = 0x0D
                default: c = value[i]
                }
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// The plain rule, a byte at a time.
    static func reference(_ b: [UInt8]) -> Outcome {
        let n = b.count
        var i = 0
        var pairs = 0
        // Per field: (rank, raw value, escaped).
        var best: [(rank: Int, value: [UInt8], escaped: Bool)?] = [nil, nil, nil]
        while true {
            while i < n && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
            if i >= n { break }
            let keyStart = i
            while i < n && b[i] != 0x3D && b[i] != 0x20 && b[i] != 0x09 && b[i] != 0x22 { i += 1 }
            if i < n && b[i] == 0x22 { return .rejected(.notLogfmt) }
            if i == keyStart { return .rejected(.notLogfmt) }
            let key = Array(b[keyStart..<i])
            guard i < n && b[i] == 0x3D else { continue }
            i += 1
            pairs += 1
            let value: [UInt8]
            var escaped = false
            if i < n && b[i] == 0x22 {
                i += 1
                let start = i
                while i < n && b[i] != 0x22 {
                    if b[i] == 0x5C {
                        escaped = true
                        i += 1
                    }
                    i += 1
                }
                if i >= n { return .rejected(.notLogfmt) }
                value = Array(b[start..<i])
                i += 1
            } else {
                let start = i
                while i < n && b[i] != 0x20 && b[i] != 0x09 { i += 1 }
                value = Array(b[start..<i])
            }
            if let (field, rank) = rank(of: key) {
                if let current = best[field] {
                    if current.rank == rank { return .rejected(.ambiguousField) }
                    if rank < current.rank { best[field] = (rank, value, escaped) }
                } else {
                    best[field] = (rank, value, escaped)
                }
            }
        }
        guard pairs > 0 else { return .rejected(.notLogfmt) }
        guard let ts = best[0] else { return .rejected(.missingTimestamp) }
        let time = ts.escaped ? Array(unescape(ts.value).prefix(64)) : ts.value
        let millis = time.withUnsafeBufferPointer { TimestampParser.parseISO($0) ?? TimestampParser.parseEpoch($0) }
        guard let millis else { return .rejected(.invalidTimestamp) }
        let user = best[1].map { $0.escaped ? unescape($0.value) : $0.value }
        let event = best[2].map { $0.escaped ? unescape($0.value) : $0.value }
        return .record(
            millis: millis, user: user.flatMap { $0.isEmpty || $0 == [0x2D] ? nil : $0 }, event: event.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Parses each line with one parser (its timestamp cache carried from line to line, as in a
    /// file) and compares with the plain rule; also checks the record's prefixes. Twice: with the
    /// line templates (`custody_logfmt_match`, where the CPU has them) and with the pair loop alone.
    /// Returns how many lines a template took (0 where the CPU has none; -1 in release builds,
    /// which do not count them).
    @discardableResult
    static func check(_ lines: [[UInt8]]) -> Int {
        defer { check(lines, templates: false) }
        return check(lines, templates: true)
    }

    @discardableResult
    static func check(_ lines: [[UInt8]], templates: Bool) -> Int {
        let table = FieldTable(names)
        var parser = LogfmtParser(fields: table)
        parser.usesTemplates = parser.usesTemplates && templates
        defer {
            parser.deallocate()
            table.deallocate()
        }
        for line in lines {
            // Exactly the line's bytes in their own allocation, so that reading past the line's
            // end would be a read outside it (address sanitizer builds catch it).
            let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(line.count, 1))
            defer { copy.deallocate() }
            _ = copy.initialize(from: line)
            let got: Outcome
            switch parser.parse(UnsafeBufferPointer(start: copy.baseAddress, count: line.count)) {
            case .record(let record):
                got = .record(millis: record.millis, user: record.user.map(Array.init), event: record.event.map(Array.init))
                #expect(record.userPrefix == ByteScan.prefixWord(record.user))
                #expect(record.eventPrefix == ByteScan.prefixWord(record.event))
            case .rejected(let rejection): got = .rejected(rejection)
            case .skipped:
                Issue.record("a logfmt line was skipped")
                continue
            }
            let expected = reference(line)
            #expect(got == expected, "\(templates ? "templates" : "pair loop"): \(String(decoding: line, as: UTF8.self).debugDescription)")
        }
        #if DEBUG
        return parser.templateMatches
        #else
        return -1  // not counted in release builds
        #endif
    }

    /// A key read as two words (eight bytes readable from its start) is the guess the byte loop
    /// makes of it, for every length a guess holds, whatever follows the key.
    @Test func keyGuessReadAsWordsIsTheByteLoopsGuess() {
        for text in ["abcdefghijklmnop=value and more", "k=v                 ", "é\u{0}xyz_key_name=1 2 3 4 5 6 7"] {
            let line = Array(text.utf8)
            line.withUnsafeBufferPointer { b in
                for length in 1...16 {
                    let fast = LogfmtParser.KeyGuess(at: b.baseAddress!, length: length)
                    let slow = LogfmtParser.KeyGuess(UnsafeBufferPointer(rebasing: b[0..<length]), field: nil)
                    #expect(fast.isSame(slow), "length \(length) of \(text.debugDescription)")
                    #expect(fast.mask == slow.mask && fast.extent == slow.extent && fast.tailOffset == slow.tailOffset)
                }
            }
        }
    }

    /// Random lines from pieces that matter to the scans: separators, quotes, escapes, `=`,
    /// non-ASCII and zero bytes, field names short and long, duplicate keys, long values, lines
    /// cut anywhere.
    @Test func randomLines() {
        var random = SplitMix64(seed: 15)
        let keys = [
            "ts", "time", "user", "uid", "event", "action", "ip", "msg", "latency_ms", "timestamp_utc_long", "user_identifier",
            "user_identifiers", "app_version", "a", "é", "k\u{0}",
        ].map { Array($0.utf8) }
        let times = [
            "2026-09-20T08:00:01.212+08:00", "2026-09-20T08:00:59.999+08:00", "2026-09-20T08:01:00Z", "1790000000", "2026-13-01T00:00:00Z",
            "x",
        ]
        .map { Array($0.utf8) }
        let bare = ["u1", "-", "", "verify_phone", "10.0.0.1", "a=b", "x\"y", "\u{E9}t\u{E9}", "\\n"].map { Array($0.utf8) }
        let alphabet: [UInt8] = Array("ab =\t\"\\-_.:/".utf8) + [0xC3, 0xA9, 0xFF, 0x00]
        var lines: [[UInt8]] = []
        for _ in 0..<40_000 {
            var line: [UInt8] = []
            for _ in 0..<Int.random(in: 0...9, using: &random) {
                let separator: [UInt8] = [[0x20], [0x20], [0x09], [0x20, 0x20], [0x20, 0x09, 0x20], []][Int(random.next() % 6)]
                if !line.isEmpty || random.next() % 4 == 0 { line += separator }
                let key = keys[Int(random.next() % UInt64(keys.count))]
                switch random.next() % 12 {
                case 0: line += key  // a flag
                case 1: line += [0x3D] + bare[Int(random.next() % UInt64(bare.count))]  // no key
                case 2: line += key + [0x22]  // a quote in a key
                default:
                    line += key + [0x3D]
                    let isTime = key == Array("ts".utf8) || key == Array("time".utf8)
                    switch random.next() % 6 {
                    case 0, 1:
                        line += isTime ? times[Int(random.next() % UInt64(times.count))] : bare[Int(random.next() % UInt64(bare.count))]
                    case 2:
                        // Quoted, with escapes, quotes and blanks inside.
                        let body = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                            alphabet[Int(random.next() % UInt64(alphabet.count))]
                        }
                        var quoted: [UInt8] = []
                        for c in body where c != 0x22 { quoted.append(c) }
                        if quoted.last == 0x5C { quoted.removeLast() }
                        line += [0x22] + quoted + [0x22]
                    case 3:
                        line += [0x22] + (isTime ? times[0] : bare[0]) + [0x22]
                    case 4:
                        // A long bare value, past several blocks.
                        line += [UInt8](repeating: 0x61, count: Int.random(in: 14...300, using: &random))
                    default:
                        line += (0..<Int.random(in: 0...24, using: &random)).map { _ in
                            alphabet[Int(random.next() % UInt64(alphabet.count))]
                        }
                    }
                }
            }
            if random.next() % 8 == 0 && !line.isEmpty { line.removeLast(Int.random(in: 0...line.count, using: &random)) }
            lines.append(line)
        }
        Self.check(lines)
    }

    /// Keys remembered at their positions (compared as one word with the `=` after them, no
    /// scan) against look-alikes at the same positions: a longer key with the remembered one as
    /// its start, a shorter one, the key followed by a quote, a blank or the line's end instead
    /// of `=`, a flag, the key twice, a key differing in one byte, and lines of many pairs and
    /// short lines, in a stream of lines that mostly repeat one order of keys (as a file does).
    @Test func rememberedKeysAndLookAlikes() {
        var random = SplitMix64(seed: 16)
        let usual = ["ts", "event", "user", "ip", "msg", "latency_ms", "sixteen_bytes_ke"].map { Array($0.utf8) }
        let values = ["2026-09-20T08:00:01.212+08:00", "post", "u1", "10.0.0.1", "\"view handled\"", "7", "x"].map { Array($0.utf8) }
        let lookAlikes = [
            "user_identifier=", "use=", "users=", "user\"=", "user ", "user", "usEr=", "user\t=", "ts=", "timestamp_utc_long=",
            "event=", "even=", "eventx=", "latency_m=", "latency_ms\"", "=", "uid=", "action=", "\u{E9}vent=", "u\u{0}er=",
            "latency_mx=", "xatency_ms=", "latency_ms_total=", "latency_msX=", "sixteen_bytes_ky=", "sixteen_bytes_key=",
        ].map { Array($0.utf8) }
        var lines: [[UInt8]] = []
        for round in 0..<40_000 {
            var order = Array(0..<usual.count)
            if round % 3 == 0 { order.swapAt(Int(random.next() % 6), Int(random.next() % 6)) }
            var line: [UInt8] = []
            let extra = round % 11 == 0 ? 14 : 0  // past the remembered positions
            for k in 0..<(order.count + extra) {
                let which = order[k % order.count]
                if !line.isEmpty { line += random.next() % 9 == 0 ? [0x20, 0x09] : [0x20] }
                if random.next() % 7 == 0 {
                    line += lookAlikes[Int(random.next() % UInt64(lookAlikes.count))]
                } else {
                    line += usual[which] + [0x3D]
                }
                line += values[which]
            }
            switch random.next() % 6 {
            case 0: line.removeLast(Int.random(in: 0...line.count, using: &random))  // cut anywhere
            case 1: line = Array(line.prefix(Int.random(in: 0...20, using: &random)))  // short
            default: break
            }
            lines.append(line)
        }
        Self.check(lines)
    }

    /// Lines in two orders of keys (with and without a user), the share of each changing from
    /// phase to phase, so that a position's two remembered keys swap ways back and forth
    /// (`LogfmtParser.WayOrder`), with look-alikes and cut lines among them: every line parses as
    /// the plain rule has it, and after a run of mostly one order its keys are compared first.
    @Test func keysOfTwoOrdersSwapWays() {
        var random = SplitMix64(seed: 17)
        let withUser = Array("ts=2026-09-20T08:00:01.212+08:00 user=u1 event=post ip=10.0.0.1 msg=\"view handled\" latency_ms=7".utf8)
        let withoutUser = Array("ts=2026-09-20T08:00:02.345+08:00 event=view ip=10.0.0.2 msg=\"view\" latency_ms=12".utf8)
        let lookAlikes = ["user=", "use=", "event=", "even=", "ip=", "i=", "msg=", "latency_ms="].map { Array($0.utf8) }
        // (lines, share of lines with a user, in percent): the user's order comes last in the
        // first two lines, so it is learnt into the first way.
        let phases = [(2, 50), (300, 5), (300, 95), (200, 50), (300, 20), (300, 100), (300, 0)]
        let table = FieldTable(Self.names)
        var parser = LogfmtParser(fields: table)
        // The ways are the pair loop's: lines of a learnt shape would not reach it.
        parser.usesTemplates = false
        defer {
            parser.deallocate()
            table.deallocate()
        }
        var lines: [[UInt8]] = []
        for (index, (count, share)) in phases.enumerated() {
            var phase: [[UInt8]] = []
            for k in 0..<count {
                let user = index == 0 ? k == 1 : Int(random.next() % 100) < share
                var line = user ? withUser : withoutUser
                // Look-alikes (which take a way when they are learnt) and cut lines, but not in a
                // phase's last 150 lines, where the ways are looked at.
                switch k < count - 150 ? random.next() % 40 : 2 {
                case 0:
                    // A look-alike key where another is remembered.
                    let spaces = line.indices.filter { line[$0] == 0x20 }
                    let at = spaces[Int(random.next() % UInt64(spaces.count))] + 1
                    let end = line[at...].firstIndex(of: 0x3D)! + 1
                    line.replaceSubrange(at..<end, with: lookAlikes[Int(random.next() % UInt64(lookAlikes.count))])
                case 1: line.removeLast(Int.random(in: 0...line.count, using: &random))
                default: break
                }
                phase.append(line)
            }
            Self.check(phase)
            lines += phase
            for line in phase {
                _ = line.withUnsafeBufferPointer { parser.parse($0) }
            }
            // After a phase of mostly one order, that order's key is compared first at the
            // position after `ts` (`user` in one, `event` in the other).
            if share >= 95 { #expect(parser.firstWayKeyLength(at: 1) == 4, "phase \(index)") }
            if share <= 5 && index > 0 { #expect(parser.firstWayKeyLength(at: 1) == 5, "phase \(index)") }
        }
        Self.check(lines)
    }

    /// Lines of a few shapes (with a user and without, a quoted user, an empty and a quoted
    /// value, `=` and blanks inside values), their values of every length so that keys, quotes
    /// and blanks fall on both sides of the 64-, 128- and 192-byte boundaries of the templates' masks
    /// (`custody_logfmt_match`), and one in three of them mutated (a byte replaced by a blank, a
    /// tab, a quote, a backslash, `=` or another; a byte inserted or dropped; a blank doubled,
    /// leading or trailing): every line parses as the plain rule has it, and the unmutated lines
    /// of a learnt shape match its template.
    @Test func templatesAgainstPlainRule() {
        var random = SplitMix64(seed: 18)
        let shapes: [[(key: String, quoted: Bool)]] = [
            [("ts", false), ("user", false), ("event", false), ("ip", false), ("msg", true), ("latency_ms", false)],
            [("ts", false), ("event", false), ("ip", false), ("msg", true), ("latency_ms", false)],
            [("time", false), ("uid", true), ("action", false), ("note", true)],
            [("a", false), ("ts", false), ("user_identifier", false), ("event", true), ("b", false)],
        ]
        let times = ["2026-09-20T08:00:01.212+08:00", "2026-09-20T08:00:59.999+08:00", "2026-09-20T08:01:00Z", "1790000000"]
        let alphabet: [UInt8] = Array("ab-_.:/=".utf8) + [0xC3, 0xA9]
        let quotedAlphabet: [UInt8] = alphabet + [0x20, 0x3D]
        let marks: [UInt8] = [0x20, 0x09, 0x22, 0x5C, 0x3D, 0x78, 0x00, 0xC3]
        func value(_ key: String, quoted: Bool) -> [UInt8] {
            if key == "ts" || key == "time" { return Array(times[Int(random.next() % UInt64(times.count))].utf8) }
            let pool = quoted ? quotedAlphabet : alphabet
            return (0..<Int.random(in: 0...30, using: &random)).map { _ in pool[Int(random.next() % UInt64(pool.count))] }
        }
        var lines: [[UInt8]] = []
        var plain: [[UInt8]] = []
        for _ in 0..<30_000 {
            let shape = shapes[Int(random.next() % UInt64(shapes.count))]
            var line: [UInt8] = []
            for (k, pair) in shape.enumerated() {
                if k > 0 { line.append(0x20) }
                line += Array(pair.key.utf8) + [0x3D]
                let v = value(pair.key, quoted: pair.quoted)
                line += pair.quoted ? [0x22] + v + [0x22] : v
            }
            if random.next() % 3 == 0 && !line.isEmpty {
                let at = Int(random.next() % UInt64(line.count))
                let mark = marks[Int(random.next() % UInt64(marks.count))]
                switch random.next() % 6 {
                case 0, 1: line[at] = mark
                case 2: line.insert(mark, at: at)
                case 3: line.remove(at: at)
                case 4: line = [0x20] + line
                default: line += [0x20]
                }
            } else if line.count <= Int(CUSTODY_LOGFMT_TEMPLATE_LINE_MAX) && shape.count >= 5 {
                plain.append(line)
            }
            lines.append(line)
        }
        Self.check(lines)

        guard custody_logfmt_templates_available() != 0 else { return }
        let templates = UnsafeMutablePointer<custody_logfmt_templates>.allocate(capacity: 1)
        defer { templates.deallocate() }
        custody_logfmt_templates_init(templates)
        var matched = 0
        for line in plain {
            line.withUnsafeBufferPointer { b in
                if custody_logfmt_match(b.baseAddress!, b.count, templates) != 0 {
                    matched += 1
                } else {
                    // The first three pairs are bare: ts, user and event, or ts and event.
                    var pairStarts: [Int32] = []
                    var i = 0
                    while pairStarts.count < 3 {
                        while b[i] != 0x3D { i += 1 }
                        i += 1
                        pairStarts.append(Int32(i))
                        while b[i] != 0x20 { i += 1 }
                    }
                    let withUser = b[Int(pairStarts[1]) - 5..<Int(pairStarts[1])].elementsEqual("user=".utf8)
                    let starts = withUser ? pairStarts : [pairStarts[0], -1, pairStarts[1]]
                    _ = custody_logfmt_learn(b.baseAddress!, b.count, starts, templates)
                }
            }
        }
        // The two shapes alternate at random: most lines have one of the last two shapes learnt.
        #expect(matched > plain.count / 2, "\(matched) of \(plain.count)")
    }

    /// Lines of one shape whose user value grows a byte at a time (lines of 64 to 213 bytes), so
    /// that every part of every pair (key, `=`, value, quote, blank) falls on the 64-, 128- and
    /// 192-byte block edges of the templates' masks, each followed by copies with a quote, a
    /// blank, `=` or a backslash at one offset: every line parses as the plain rule has it.
    @Test func templateBlockEdges() {
        var lines: [[UInt8]] = []
        for length in 1...150 {
            let line =
                Array("ts=2026-09-20T08:00:01.212+08:00 user=".utf8) + [UInt8](repeating: 0x75, count: length)
                + Array(" event=post msg=\"a b\" n=1".utf8)
            lines.append(line)
            for at in stride(from: length % 3, to: line.count, by: 3) {
                var marked = line
                marked[at] = [0x22, 0x20, 0x3D, 0x5C][at % 4]
                lines.append(marked)
                lines.append(line)
            }
        }
        // Each unmarked line follows one of its own shape (or two: the marked line between): the
        // templates, where the CPU has them, take at least those after the first of each length.
        let matched = Self.check(lines)
        if custody_logfmt_templates_available() != 0 && matched >= 0 {
            #expect(matched >= lines.count / 3, "\(matched) of \(lines.count)")
        }
    }

    /// A quote, backslash, blank or `=` at every offset of a value ending at every distance from
    /// the line's end, on both sides of sixteen-byte boundaries: where the block scans switch to
    /// the line's last sixteen bytes.
    @Test func marksAtEveryOffset() {
        var lines: [[UInt8]] = []
        let head = Array("ts=2026-09-20T08:00:01.212+08:00 user=".utf8)
        for length in 0...40 {
            for mark: UInt8 in [0x22, 0x5C, 0x20, 0x09, 0x3D, 0x61] {
                for at in 0...length {
                    var value = [UInt8](repeating: 0x62, count: length)
                    if at < length { value[at] = mark }
                    lines.append(head + value)
                    lines.append(head + [0x22] + value + [0x22])
                    lines.append(head + [0x22] + value)
                    lines.append(head + [0x22] + value + [0x22] + Array(" event=post".utf8))
                    lines.append(Array("ts=1790000000 ".utf8) + value + Array("=x".utf8))
                    // Short lines: below one block, the byte loops.
                    lines.append(Array("ts=1 u=".utf8) + value.prefix(8))
                }
            }
        }
        Self.check(lines)
    }

    /// `ByteScan.closingQuote` (logfmt values, combined requests) finds what a byte loop finds:
    /// two marks (quote, backslash or other) at every pair of positions, from several starts,
    /// in lines shorter and longer than a block.
    @Test func closingQuoteSameAsByteLoop() {
        func byteLoop(_ b: [UInt8], from: Int) -> (Int, Bool)? {
            var i = from
            var escaped = false
            while i < b.count, b[i] != 0x22 {
                if b[i] == 0x5C {
                    escaped = true
                    i += 1
                }
                i += 1
            }
            return i < b.count ? (i, escaped) : nil
        }
        for length in 0...40 {
            for first: UInt8 in [0x22, 0x5C, 0x61] {
                for second: UInt8 in [0x22, 0x5C] {
                    for a in 0..<max(length, 1) {
                        for b in stride(from: a, to: length, by: 3) {
                            var bytes = [UInt8](repeating: 0x61, count: length)
                            if a < length { bytes[a] = first }
                            if b < length && b != a { bytes[b] = second }
                            for from in [0, 1, 7, 16, 17].filter({ $0 <= length }) {
                                let got = bytes.withUnsafeBufferPointer { buffer in
                                    ByteScan.closingQuote(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, from: from, length)
                                }
                                let expected = byteLoop(bytes, from: from)
                                #expect(got?.0 == expected?.0 && got?.1 == expected?.1, "\(bytes) from \(from)")
                            }
                        }
                    }
                }
            }
        }
    }
}
