import CLineScan
import CustodyCore

/// Reads the timestamp, user and event of a JSON-lines record straight from its bytes.
///
/// It checks the object's structure as it walks it, decodes only the three values it needs, and
/// skips everything else (nested values are skipped by bracket matching, not validated deeply).
/// About twenty times cheaper than Foundation's JSONDecoder per line on this workload.
struct JSONLineParser {
    private let fields: FieldTable
    private let userScratch: UnsafeMutablePointer<UInt8>
    private let eventScratch: UnsafeMutablePointer<UInt8>
    /// Escaped keys are unescaped here before they are looked up (rare: most keys have no escapes).
    private let keyScratch: UnsafeMutablePointer<UInt8>
    private var timestamps = ISOTimestampCache()
    private let successors = KeySuccessors()
    /// The field names for the structural walk, which takes the usual lines (see `parse`); nil
    /// when it cannot hold them, and then every line goes the full walk.
    private let structuralKeys: UnsafeMutablePointer<custody_json_keys>?
    /// On where the structural walk has its fast form (`custody_json_walk_available`: the
    /// portable form runs about half again as many instructions a line as the full walk,
    /// Benchmarks/RESULTS.md); tests set it to compare the two walks.
    var usesStructuralWalk = custody_json_walk_available() != 0
    /// Whether the structural walk's AVX-512 form runs here: then it is called directly.
    private let walksWithAVX512 = custody_json_walk_available() != 0
    /// Whether the structural walk pauses on files whose lines it keeps refusing (tests that
    /// compare the two walks turn this off so that every line tries both).
    var pausesStructuralWalk = true
    /// The structural walk's refusals: an app that logs escapes on every line would otherwise
    /// pay for both walks on every line; after `limit` refusals in a row the next `pauseLength`
    /// lines skip it, then it is tried again.
    private var structuralBackoff = ShortcutBackoff()
    static let structuralRefusalLimit = ShortcutBackoff().limit
    static let structuralPauseLines = ShortcutBackoff().pauseLength
    /// Lines the structural walk was tried on (for tests).
    private(set) var structuralAttempts = 0
    /// Lines the full walk has still to go without predicting keys (for tests; see
    /// `KeySuccessors.endLine`).
    var keyPredictionPausedLines: Int { successors.pausedLines }

    /// Raw values as `custody_json_walk` reports kinds (it never reports escaped strings).
    private enum Kind: UInt8 {
        case string = 0
        case number = 1
        case null = 2
        case other = 3
        case escapedString = 4
    }

    private struct Capture {
        var rank: UInt8 = 255
        var start = 0
        var end = 0
        var kind = Kind.other

        init() {}

        init(rank: UInt8, start: Int, end: Int, kind: Kind) {
            self.rank = rank
            self.start = start
            self.end = end
            self.kind = kind
        }

        /// One capture as `custody_json_walk` packs it: rank, kind, start and end in 32 bits.
        @inline(__always)
        init(packed: UInt32) {
            rank = UInt8(truncatingIfNeeded: packed)
            // A switch, not `Kind(rawValue:)`: that stayed a call per capture (0.6 % of a
            // four-file check's samples).
            switch (packed >> 8) & 3 {
            case 0: kind = .string
            case 1: kind = .number
            case 2: kind = .null
            default: kind = .other
            }
            start = Int((packed >> 10) & 0x7FF)
            end = Int(packed >> 21)
        }
    }

    /// The best-ranked value seen so far for each field.
    private struct Captures {
        var ts = Capture()
        var user = Capture()
        var event = Capture()

        init() {}

        /// What the structural walk found.
        @inline(__always)
        init(_ found: custody_json_found) {
            ts = Capture(packed: UInt32(truncatingIfNeeded: found.low))
            user = Capture(packed: UInt32(truncatingIfNeeded: found.low >> 32))
            event = Capture(packed: UInt32(truncatingIfNeeded: found.high))
        }

        /// Keeps the value if it ranks best so far; false when its key was already seen (the same
        /// name twice, or a name and its escaped spelling): the line is then ambiguous.
        @inline(__always)
        mutating func offer(_ field: (FieldTable.Field, UInt8)?, start: Int, end: Int, kind: Kind) -> Bool {
            guard let (which, rank) = field else { return true }
            let capture = Capture(rank: rank, start: start, end: end, kind: kind)
            switch which {
            case .timestamp:
                if rank == ts.rank { return false }
                if rank < ts.rank { ts = capture }
            case .user:
                if rank == user.rank { return false }
                if rank < user.rank { user = capture }
            case .event:
                if rank == event.rank { return false }
                if rank < event.rank { event = capture }
            }
            return true
        }
    }

    init(fields: FieldTable) {
        self.fields = fields
        userScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        eventScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        keyScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        structuralKeys = fields.structuralKeys()
    }

    func deallocate() {
        ScratchPool.giveBytes(userScratch, count: LineReader.maximumLineLength)
        ScratchPool.giveBytes(eventScratch, count: LineReader.maximumLineLength)
        ScratchPool.giveBytes(keyScratch, count: LineReader.maximumLineLength)
        successors.deallocate()
        structuralKeys?.deallocate()
    }

    /// `fallbackMillis`: the time of a line with no timestamp field (a container runtime's time
    /// around the app's JSON line, for CRI and Docker); nil rejects such lines.
    @inline(never)
    mutating func parse(_ line: UnsafeBufferPointer<UInt8>, fallbackMillis: Int64? = nil) -> ParseOutcome {
        parseInline(line, fallbackMillis: fallbackMillis)
    }

    /// `parse`, inlined into the line loops (`LineParser.parseInline`), with the usual line's
    /// record built there: returned from a call, the record went through memory, stored a field
    /// at a time and copied on in wider loads, which stalled (the store could not be forwarded to
    /// the load). Only the loops inline it: inlined everywhere, `LineParser.parse` grew past what
    /// the compiler would inline into them.
    @inline(__always)
    mutating func parseInline(_ line: UnsafeBufferPointer<UInt8>, fallbackMillis: Int64? = nil) -> ParseOutcome {
        guard let p = line.baseAddress else { return .rejected(.notJSONObject) }
        let n = line.count
        // The usual line (no escapes, blanks only after colons and commas) goes the structural
        // walk; it answers only for lines the full walk accepts, with the same captures, and
        // leaves every other line (and so every rejection) to the full walk.
        if usesStructuralWalk, let keys = structuralKeys, !structuralBackoff.isPaused {
            structuralAttempts &+= 1
            let found = walksWithAVX512 ? custody_json_walk_avx512(p, n, keys) : custody_json_walk(p, n, keys)
            if found.high & CUSTODY_JSON_ACCEPTED != 0 {
                structuralBackoff.succeeded()
                return record(p, n, Captures(found), fallbackMillis: fallbackMillis)
            }
            return refused(p, n, fallbackMillis: fallbackMillis)
        }
        return notTried(p, n, fallbackMillis: fallbackMillis)
    }

    /// A line the structural walk refused: counted (a file whose lines it keeps refusing makes
    /// it pause, `structuralBackoff`), then walked in full.
    @inline(never)
    private mutating func refused(_ p: UnsafePointer<UInt8>, _ n: Int, fallbackMillis: Int64?) -> ParseOutcome {
        if pausesStructuralWalk { structuralBackoff.failed() }
        return walkedInFull(p, n, fallbackMillis: fallbackMillis)
    }

    /// A line the structural walk is not tried on (turned off, or paused: counted down here).
    @inline(never)
    private mutating func notTried(_ p: UnsafePointer<UInt8>, _ n: Int, fallbackMillis: Int64?) -> ParseOutcome {
        if usesStructuralWalk && structuralKeys != nil && structuralBackoff.isPaused { structuralBackoff.skipped() }
        return walkedInFull(p, n, fallbackMillis: fallbackMillis)
    }

    /// The record (or the rejection) of the full walk.
    private mutating func walkedInFull(_ p: UnsafePointer<UInt8>, _ n: Int, fallbackMillis: Int64?) -> ParseOutcome {
        var captures = Captures()
        if let rejection = walkObject(p, n, into: &captures) { return .rejected(rejection) }
        return record(p, n, captures, fallbackMillis: fallbackMillis)
    }

    /// Walks any JSON object, checking its structure, and captures the policy's fields. Nested
    /// values are skipped by bracket matching, not validated deeply.
    private func walkObject(_ p: UnsafePointer<UInt8>, _ n: Int, into captures: inout Captures) -> Rejection? {
        var i = skipSpace(p, 0, n)
        guard i < n, p[i] == 0x7B else { return .notJSONObject }
        i += 1
        i = skipSpace(p, i, n)
        if i < n && p[i] == 0x7D {
            i += 1
        } else {
            var previousKey = KeySuccessors.objectStart
            let predicting = successors.startLine()
            var predicted = 0
            var learnt = 0
            while true {
                guard i < n, p[i] == 0x22 else { return .invalidJSON }
                let keyStart = i + 1
                let field: (FieldTable.Field, UInt8)?
                if predicting, let guess = successors.predict(after: previousKey, p + keyStart, available: n - keyStart) {
                    predicted &+= 1
                    field = guess.pointee.field
                    previousKey = guess.pointee.index
                    if guess.pointee.throughColon {
                        // The guess matched the closing quote and the colon too.
                        i = keyStart &+ guess.pointee.length &+ 2
                    } else {
                        guard let afterColon = colon(p, keyStart + guess.pointee.length + 1, n) else { return .invalidJSON }
                        i = afterColon
                    }
                } else {
                    guard let (keyEnd, escaped) = stringEnd(p, i, n) else { return .invalidJSON }
                    let key = UnsafeBufferPointer(start: p + keyStart, count: keyEnd - 1 - keyStart)
                    if escaped {
                        // `"\u0065vent"` is `event`: keys are compared as the JSON text means them.
                        field = fields.match(JSONScan.unescape(p, i, keyEnd, into: keyScratch))
                    } else {
                        field =
                            keyStart + 8 <= n
                            ? fields.match(key, word: ByteScan.prefixWord(p + keyStart, count: key.count))
                            : fields.match(key)
                    }
                    if predicting {
                        previousKey = successors.learn(
                            after: previousKey, key, escaped: escaped, field: field,
                            colonFollows: keyEnd < n && p[keyEnd] == 0x3A)
                        learnt &+= 1
                    }
                    guard let afterColon = colon(p, keyEnd, n) else { return .invalidJSON }
                    i = afterColon
                }
                i = skipSpace(p, i, n)
                guard i < n else { return .invalidJSON }
                let valueStart = i
                var kind = Kind.other
                // Strings first: nearly every value of a log line is one, and a test and branch
                // costs less than the switch's jump.
                if p[i] == 0x22 {
                    guard let (end, escaped) = stringEnd(p, i, n) else { return .invalidJSON }
                    kind = escaped ? .escapedString : .string
                    i = end
                } else {
                    switch p[i] {
                    case 0x7B, 0x5B:
                        guard let end = nestedEnd(p, i, n) else { return .invalidJSON }
                        i = end
                    case 0x74:  // true
                        guard literal(p, i, n, "true") else { return .invalidJSON }
                        i += 4
                    case 0x66:  // false
                        guard literal(p, i, n, "false") else { return .invalidJSON }
                        i += 5
                    case 0x6E:  // null
                        guard literal(p, i, n, "null") else { return .invalidJSON }
                        kind = .null
                        i += 4
                    case 0x2D, 0x30...0x39:
                        guard let end = numberEnd(p, i, n) else { return .invalidJSON }
                        i = end
                        kind = .number
                    default:
                        return .invalidJSON
                    }
                }
                guard captures.offer(field, start: valueStart, end: i, kind: kind) else { return .ambiguousField }
                // The usual separator, `,"` with no space: straight on to the next key.
                if i &+ 2 <= n, UnsafeRawPointer(p + i).loadUnaligned(as: UInt16.self) == UInt16(littleEndian: 0x222C) {
                    i &+= 1
                    continue
                }
                i = skipSpace(p, i, n)
                guard i < n else { return .invalidJSON }
                if p[i] == 0x2C {
                    i = skipSpace(p, i + 1, n)
                    continue
                }
                guard p[i] == 0x7D else { return .invalidJSON }
                i += 1
                break
            }
            if predicting { successors.endLine(predicted: predicted, learnt: learnt) }
        }
        guard skipSpace(p, i, n) == n else { return .invalidJSON }
        return nil
    }

    /// The record from the captured values, or why there is none.
    @inline(__always)
    private mutating func record(_ p: UnsafePointer<UInt8>, _ n: Int, _ captures: Captures, fallbackMillis: Int64?) -> ParseOutcome {
        let ts = captures.ts
        let user = captures.user
        let event = captures.event
        guard ts.rank != 255 || fallbackMillis != nil else { return .rejected(.missingTimestamp) }
        let millis: Int64?
        switch ts.kind {
        case _ where ts.rank == 255:
            millis = fallbackMillis
        case .string:
            let text = UnsafeBufferPointer(start: p + ts.start + 1, count: ts.end - ts.start - 2)
            millis = timestamps.parse(text) ?? TimestampParser.parseEpoch(text)
        case .number:
            millis = TimestampParser.parseEpoch(UnsafeBufferPointer(start: p + ts.start, count: ts.end - ts.start))
        default:
            millis = nil
        }
        guard let millis else { return .rejected(.invalidTimestamp) }

        var userBytes: UnsafeBufferPointer<UInt8>?
        if user.rank != 255 {
            switch user.kind {
            case .string: userBytes = UnsafeBufferPointer(start: p + user.start + 1, count: user.end - user.start - 2)
            case .escapedString: userBytes = JSONScan.unescape(p, user.start, user.end, into: userScratch)
            case .number:
                let digits = UnsafeBufferPointer(start: p + user.start, count: user.end - user.start)
                guard digits.allSatisfy({ $0 &- 0x30 < 10 || $0 == 0x2D }) else { return .rejected(.invalidUser) }
                userBytes = digits
            case .null: userBytes = nil
            case .other: return .rejected(.invalidUser)
            }
            if userBytes?.count == 0 { userBytes = nil }
        }
        var eventBytes: UnsafeBufferPointer<UInt8>?
        // The usual cases first, as they were before the others were judged: spelt as one
        // switch over all kinds, the line loop took 2–3 % more CPU (perf, regular set).
        switch event.kind {
        case .string where event.rank != 255:
            eventBytes = UnsafeBufferPointer(start: p + event.start + 1, count: event.end - event.start - 2)
        case .escapedString where event.rank != 255:
            eventBytes = JSONScan.unescape(p, event.start, event.end, into: eventScratch)
        case _ where event.rank == 255, .null:
            eventBytes = nil
        default:
            guard let digits = Self.eventCode(p, event.start, event.end, isNumber: event.kind == .number) else {
                return .rejected(.invalidEvent)
            }
            eventBytes = digits
        }
        return .record(
            ParsedLine(
                millis: millis, user: userBytes, userPrefix: prefix(userBytes, lineEnd: p + n),
                event: eventBytes, eventPrefix: prefix(eventBytes, lineEnd: p + n)))
    }

    /// An event that is not a string: an integer is an event code, named by its digits (as a
    /// user id may be a number); anything else (an array, an object, `true`, `false`, a
    /// fraction) is nil, a rejected line: read as no event, a publish written `["post"]` passed
    /// unseen. Off the usual line's path.
    @inline(never)
    private static func eventCode(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, isNumber: Bool) -> UnsafeBufferPointer<UInt8>? {
        let digits = UnsafeBufferPointer(start: p + start, count: end - start)
        guard isNumber, digits.allSatisfy({ $0 &- 0x30 < 10 || $0 == 0x2D }) else { return nil }
        return digits
    }

    /// The first eight bytes of a value in the line or in this parser's scratch buffers.
    @inline(__always)
    private func prefix(_ value: UnsafeBufferPointer<UInt8>?, lineEnd: UnsafePointer<UInt8>) -> UInt64 {
        ByteScan.prefixWord(value, lineEnd: lineEnd, scratch: userScratch, eventScratch)
    }

    // MARK: scanning

    /// After a key's closing quote at `from`: the index after the colon, or nil if there is none.
    @inline(__always)
    private func colon(_ p: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int? {
        let i = skipSpace(p, from, n)
        guard i < n, p[i] == 0x3A else { return nil }
        return i + 1
    }

    @inline(__always)
    private func skipSpace(_ p: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int {
        var i = from
        // Every byte above 0x20 ends the run: one compare in the usual case of no whitespace.
        while i < n, p[i] <= 0x20 {
            let c = p[i]
            if c != 0x20 && c != 0x09 && c != 0x0D && c != 0x0A { break }
            i += 1
        }
        return i
    }

    /// The end of a JSON number starting at `start`: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
    @inline(__always)
    private func numberEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> Int? {
        var i = start
        if p[i] == 0x2D { i += 1 }
        guard i < n, p[i] &- 0x30 < 10 else { return nil }
        if p[i] == 0x30 { i += 1 } else { while i < n, p[i] &- 0x30 < 10 { i += 1 } }
        if i < n && p[i] == 0x2E {
            i += 1
            let digits = i
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
            if i == digits { return nil }
        }
        if i < n && (p[i] == 0x65 || p[i] == 0x45) {
            i += 1
            if i < n && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
            let digits = i
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
            if i == digits { return nil }
        }
        return i
    }

    /// From an opening quote at `start`: the index after the closing quote and whether escapes occur.
    @inline(__always)
    private func stringEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> (Int, Bool)? {
        var i = start + 1
        // Whole blocks inside the line; a block with a backslash before any quote goes to the
        // byte loop, which understands escapes.
        // Indices stay below the line's length (at most 1 MiB): wrapping arithmetic spares the
        // overflow checks on the walk's critical path.
        while i &+ ByteScan.blockSize <= n {
            let (quotes, backslashes) = ByteScan.quotesAndBackslashes(p + i)
            let quote = quotes.trailingZeroBitCount
            if quote < backslashes.trailingZeroBitCount { return (i &+ quote &+ 1, false) }
            if backslashes != 0 { break }
            i &+= ByteScan.blockSize
        }
        var escaped = false
        while i < n {
            let c = p[i]
            if c == 0x22 { return (i + 1, escaped) }
            if c == 0x5C {
                escaped = true
                i += 2
                continue
            }
            i += 1
        }
        return nil
    }

    /// From a `{` or `[` at `start`: the index after its matching bracket, or nil if the line
    /// ends first. Brackets inside strings do not count. (Not private: tests hold it to the
    /// byte-by-byte rule.)
    func nestedEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> Int? {
        var depth = 0
        var i = start
        // Sixteen bytes a compare while no backslash is in sight: the bytes inside strings are
        // known from the parity of the quotes before them, and only brackets outside strings
        // are visited (the byte loop below, a branch a byte and a call a string, was a third of
        // the full walk on lines with a nested object).
        var inString: UInt32 = 0  // all ones when the block starts inside a string
        while i &+ ByteScan.blockSize <= n {
            let (opens, closes, quotes, backslashes) = ByteScan.structural(p + i)
            if backslashes != 0 { break }
            let strings = ByteScan.prefixXor16(quotes) ^ (inString & 0xFFFF)
            var events = (opens | closes) & ~strings
            while events != 0 {
                let k = events.trailingZeroBitCount
                if opens & (1 &<< UInt32(k)) != 0 {
                    depth &+= 1
                } else {
                    depth &-= 1
                    if depth == 0 { return i &+ k &+ 1 }
                }
                events &= events &- 1
            }
            inString = strings & 0x8000 != 0 ? ~0 : 0
            i &+= ByteScan.blockSize
        }
        if inString != 0 {
            // Inside a string: on from its opening quote, wherever that was.
            guard let (end, _) = stringEnd(p, i &- 1, n) else { return nil }
            i = end
        }
        while i < n {
            switch p[i] {
            case 0x22:
                guard let (end, _) = stringEnd(p, i, n) else { return nil }
                i = end
                continue
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 { return i + 1 }
            default: break
            }
            i += 1
        }
        return nil
    }

    /// Whether `p[i..<n]` starts with `word` (`true`, `false` or `null`): compared as one or two
    /// integers, not through `memcmp` (a call per literal).
    @inline(__always)
    private func literal(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard i + count <= n else { return false }
        let expected = UnsafeRawPointer(word.utf8Start).loadUnaligned(as: UInt32.self)
        guard UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self) == expected else { return false }
        return count == 4 || p[i + 4] == word.utf8Start[4]
    }
}

#if canImport(Glibc)
import Glibc
#endif
