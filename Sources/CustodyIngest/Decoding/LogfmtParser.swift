import CLineScan
import CustodyCore

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Reads `key=value` pairs (values bare or double-quoted with backslash escapes); a bare `key`
/// is a flag. The policy's field lists pick the timestamp, user and event, as for JSON lines.
struct LogfmtParser {
    private let fields: FieldTable
    private let userScratch: UnsafeMutablePointer<UInt8>
    private let eventScratch: UnsafeMutablePointer<UInt8>
    private let timeScratch: UnsafeMutablePointer<UInt8>
    private var timestamps = ISOTimestampCache()
    /// For each of the first `guessPositions` pairs of a line, the last two keys seen at that
    /// position (of at most sixteen bytes) and what the field table said of them: a file's lines
    /// repeat their keys in the same order, or in a few orders (with and without a user, say),
    /// and a compare replaces the table's hash and probe. (The JSON walk keeps the same guesses.)
    private let guesses: UnsafeMutablePointer<KeyGuess>
    /// A line's candidates (`Candidates`).
    private let candidates: UnsafeMutablePointer<Candidates>
    private static let guessPositions = 16
    /// Which of each position's two guesses is compared first (`WayOrder`).
    private let wayOrder: UnsafeMutablePointer<WayOrder>
    /// The shapes of the last lines the pair loop read (`custody_logfmt_match`): a line of one
    /// of them has its fields found from one pass of masks over the whole line, without the pair
    /// loop. Where the masks have no fast form (no AVX-512), the pair loop reads every line.
    private let templates: UnsafeMutablePointer<custody_logfmt_templates>
    /// Where a learnt line's three fields start, for `custody_logfmt_learn`.
    private let learntStarts: UnsafeMutablePointer<Int32>
    /// Off in tests, to compare the pair loop with the templates.
    var usesTemplates = custody_logfmt_templates_available() != 0
    #if DEBUG
    /// Lines a template took (debug builds only, for tests: the release line loop counts nothing).
    private(set) var templateMatches = 0
    #endif

    struct KeyGuess {
        /// The key's first eight bytes and the eight it ends with (from `tailOffset`), each
        /// zero-padded past a key of fewer (`ByteScan.prefixWord`), and the mask of the key's
        /// bytes in them: a key of up to sixteen bytes is two word compares. None yet: a word no
        /// masked load equals.
        var word: UInt64 = .max
        var tail: UInt64 = .max
        var mask: UInt64 = 0
        var tailOffset = 0
        /// The bytes read to compare it, at least eight: its length, or eight for a shorter key.
        var extent = 8
        var length = 0
        var field: (FieldTable.Field, UInt8)?

        init() {}

        /// A key of `length` (at most sixteen) bytes whose first and last eight bytes are read
        /// by `load(offset)` (zero-padded or not: the key's mask is applied here).
        @inline(__always)
        private init(length: Int, field: (FieldTable.Field, UInt8)?, load: (_ offset: Int) -> UInt64) {
            self.length = length
            tailOffset = max(length &- 8, 0)
            extent = max(length, 8)
            mask = length >= 8 ? .max : (1 &<< UInt64(truncatingIfNeeded: 8 &* length)) &- 1
            word = load(0) & mask
            tail = load(tailOffset) & mask
            self.field = field
        }

        /// A key of at most sixteen bytes, read a byte at a time (it may end the line).
        init(_ key: UnsafeBufferPointer<UInt8>, field: (FieldTable.Field, UInt8)?) {
            self.init(length: key.count, field: field) { KeyHash.prefixWord(UnsafeBufferPointer(rebasing: key[$0...])) }
        }

        /// Whether the key at `p` (of a line of `n` bytes from `p`) is this one followed by `=`.
        @inline(__always)
        func isAt(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
            extent < n && UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)) & mask == word
                && UInt64(littleEndian: UnsafeRawPointer(p + tailOffset).loadUnaligned(as: UInt64.self)) & mask == tail
                && p[length] == 0x3D
        }

        /// A key of at most sixteen bytes at `p`, read as two words: at least `max(length, 8)`
        /// bytes must be readable from `p` (the key is followed by `=` and its value in the line).
        /// The same guess as `init(_:field:)` makes of it, in two loads instead of a byte loop
        /// (with keys in a new order on every line, that loop ran for most keys: 16 % of a line).
        @inline(__always)
        init(at p: UnsafePointer<UInt8>, length: Int) {
            self.init(length: length, field: nil) { UInt64(littleEndian: UnsafeRawPointer(p + $0).loadUnaligned(as: UInt64.self)) }
        }

        func isSame(_ other: KeyGuess) -> Bool { length == other.length && word == other.word && tail == other.tail }
    }

    init(fields: FieldTable) {
        self.fields = fields
        guesses = .allocate(capacity: 2 * Self.guessPositions)
        candidates = .allocate(capacity: 1)
        candidates.initialize(to: Candidates())
        wayOrder = .allocate(capacity: 1)
        wayOrder.initialize(to: WayOrder())
        guesses.initialize(repeating: KeyGuess(), count: 2 * Self.guessPositions)
        templates = .allocate(capacity: 1)
        custody_logfmt_templates_init(templates)
        learntStarts = .allocate(capacity: 3)
        userScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        eventScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        timeScratch = .allocate(capacity: 64)
    }

    func deallocate() {
        guesses.deallocate()
        candidates.deallocate()
        wayOrder.deallocate()
        templates.deallocate()
        learntStarts.deallocate()
        ScratchPool.giveBytes(userScratch, count: LineReader.maximumLineLength)
        ScratchPool.giveBytes(eventScratch, count: LineReader.maximumLineLength)
        timeScratch.deallocate()
    }

    /// The best-ranked value seen so far for one field, raw (escapes still in): only the winners
    /// are unescaped, each into its own scratch space.
    struct Candidate {
        /// The rank of no candidate: the field table ranks names 0...254.
        static let none: UInt8 = 255
        var rank = Candidate.none
        var value = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var escaped = false

        /// Takes a value named at `rank` if it ranks better; false when a name of the same rank
        /// came before: the same key twice is ambiguous, which one the app meant cannot be known.
        @inline(__always)
        mutating func offer(_ rank: UInt8, _ value: UnsafeBufferPointer<UInt8>, escaped: Bool) -> Bool {
            if rank == self.rank { return false }
            if rank < self.rank { self = Candidate(rank: rank, value: value, escaped: escaped) }
            return true
        }
    }

    /// A line's candidates for the timestamp, the user and the event.
    struct Candidates {
        var timestamp = Candidate()
        var user = Candidate()
        var event = Candidate()

        @inline(__always)
        mutating func offer(_ field: (FieldTable.Field, UInt8)?, _ value: UnsafeBufferPointer<UInt8>, escaped: Bool) -> Bool {
            guard let (which, rank) = field else { return true }
            switch which {
            case .timestamp: return timestamp.offer(rank, value, escaped: escaped)
            case .user: return user.offer(rank, value, escaped: escaped)
            case .event: return event.offer(rank, value, escaped: escaped)
            }
        }
    }

    /// Which of a position's two remembered keys is compared first. A file whose lines come in
    /// two orders (with and without a user, say) keeps one order's keys in the first way and
    /// the other's in the second at each position; which one is first was an accident of which
    /// came last while they were learnt, and on the benchmark's file it was the rarer one, so
    /// 2.9 of a line's 5.3 keys were compared twice. A position whose second way answers on more
    /// than half of the last `window` lines swaps its ways; the counts restart every `window`
    /// lines. Only the order of the compares changes, never what a key is taken for.
    struct WayOrder {
        static let window = 64
        static let swapAt: UInt8 = 33
        /// Second-way answers per position in this window (one byte per position).
        var secondWayHits: (UInt64, UInt64) = (0, 0)
        var lines = 0

        /// Counts a line; every `window` lines, the counts restart.
        @inline(__always)
        mutating func startLine() {
            lines &+= 1
            if lines & (Self.window &- 1) == 0 { secondWayHits = (0, 0) }
        }

        /// Counts a second-way answer at `position` (< 16); true when the ways should swap
        /// (the count then restarts).
        @inline(__always)
        mutating func secondWayAnswered(at position: Int) -> Bool {
            withUnsafeMutableBytes(of: &secondWayHits) { counts in
                let hits = counts[position] &+ 1
                counts[position] = hits >= Self.swapAt ? 0 : hits
                return hits >= Self.swapAt
            }
        }
    }

    /// The length of the key compared first at `position` (0 for none), for tests.
    func firstWayKeyLength(at position: Int) -> Int { guesses[2 * position].length }

    @inline(never)
    mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome { parseInline(line) }

    /// `parse`, inlined into the line loops (`LineParser.parseInline`), so that a record is
    /// built where it is used instead of going through memory from a call.
    @inline(__always)
    mutating func parseInline(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        guard let p = line.baseAddress else { return .rejected(.notLogfmt) }
        let n = line.count
        let found = candidates
        var captures: UInt64 = 0
        if usesTemplates {
            // The pause counted down here, without a call, on files no template takes.
            if templates.pointee.pause == 0 {
                captures = custody_logfmt_match(p, n, templates)
            } else {
                templates.pointee.pause &-= 1
            }
        }
        if captures & Self.templateMatched != 0 {
            #if DEBUG
            templateMatches += 1
            #endif
            found.pointee.timestamp = Self.captured(captures, field: 0, in: p)
            found.pointee.user = Self.captured(captures, field: 1, in: p)
            found.pointee.event = Self.captured(captures, field: 2, in: p)
        } else {
            var i = 0
            // The two remembered keys of the position of the next pair (past `guessEnd`, none): a
            // running pointer rather than the pair count times the guesses' size.
            var guess = guesses
            let guessEnd = guesses + 2 &* Self.guessPositions
            // In memory on purpose: offered to three times a line, while the pair loop needs its
            // registers for the line and the guesses. Only the ranks are reset: a value is read only
            // under a rank.
            found.pointee.timestamp.rank = Candidate.none
            found.pointee.user.rank = Candidate.none
            found.pointee.event.rank = Candidate.none
            wayOrder.pointee.startLine()
            while true {
                // One space before the next key, the usual case, in one test; else the loop.
                if i &+ 1 < n && p[i] == 0x20 && p[i &+ 1] > 0x20 {
                    i &+= 1
                } else {
                    while i < n, p[i] == 0x20 || p[i] == 0x09 { i &+= 1 }
                    if i >= n { break }
                }
                // The key this position had before, if it comes again: its bytes as two words and the
                // `=` after them. A remembered key has none of the bytes that end a key, so it ends
                // exactly there, as `keyEnd` would find; no scan, no checks, no table.
                var known: UnsafeMutablePointer<KeyGuess>?
                if guess < guessEnd {
                    if guess[0].isAt(p + i, n &- i) {
                        known = guess
                    } else if guess[1].isAt(p + i, n &- i) {
                        known = guess + 1
                        if wayOrder.pointee.secondWayAnswered(at: (guess - guesses) &>> 1) {
                            swap(&guess[0], &guess[1])
                            known = guess
                        }
                    }
                }
                let field: (FieldTable.Field, UInt8)?
                if let known {
                    i &+= known.pointee.length &+ 1
                    field = known.pointee.field
                } else {
                    let keyStart = i
                    i = Self.keyEnd(p, from: i, n)
                    if i < n && p[i] == 0x22 { return .rejected(.notLogfmt) }
                    let key = UnsafeBufferPointer(start: p + keyStart, count: i &- keyStart)
                    guard key.count > 0 else { return .rejected(.notLogfmt) }
                    guard i < n, p[i] == 0x3D else { continue }  // a bare flag
                    i &+= 1
                    if guess < guessEnd && key.count <= 16 {
                        // A key the fast path could not compare (near the line's end) may still be
                        // one remembered: then it stays remembered.
                        var candidate =
                            keyStart &+ max(key.count, 8) <= n ? KeyGuess(at: p + keyStart, length: key.count) : KeyGuess(key, field: nil)
                        if guess[0].isSame(candidate) {
                            field = guess[0].field
                        } else if guess[1].isSame(candidate) {
                            field = guess[1].field
                        } else {
                            field = fields.match(key, word: candidate.word)
                            candidate.field = field
                            guess[1] = guess[0]
                            guess[0] = candidate
                        }
                    } else if keyStart &+ 8 <= n {
                        // A key is followed by `=` and its value: its first eight bytes are one load.
                        field = fields.match(key, word: ByteScan.prefixWord(p + keyStart, count: key.count))
                    } else {
                        field = fields.match(key)
                    }
                }
                guess += 2
                let value: UnsafeBufferPointer<UInt8>
                var escaped = false
                if i < n && p[i] == 0x22 {
                    let start = i &+ 1
                    guard let (close, hasEscapes) = ByteScan.closingQuote(p, from: start, n) else { return .rejected(.notLogfmt) }
                    escaped = hasEscapes
                    value = UnsafeBufferPointer(start: p + start, count: close &- start)
                    i = close &+ 1
                } else {
                    let start = i
                    i = Self.bareValueEnd(p, from: i, n)
                    value = UnsafeBufferPointer(start: p + start, count: i &- start)
                }
                guard found.pointee.offer(field, value, escaped: escaped) else { return .rejected(.ambiguousField) }
            }
            guard guess != guesses else { return .rejected(.notLogfmt) }  // no pair
            // Not while the templates pause: reading the candidates back for the offer cost more
            // than the pause saved (lines with escapes, which no template takes: +15 % a line).
            if usesTemplates && templates.pointee.pause == 0 { learnShape(p, n) }
        }
        let ts = found.pointee.timestamp
        guard ts.rank != Candidate.none else { return .rejected(.missingTimestamp) }
        let timeText = ts.escaped ? Self.unescape(ts.value, into: timeScratch, capacity: 64) : ts.value
        guard let millis = timestamps.parse(timeText) ?? TimestampParser.parseEpoch(timeText) else {
            return .rejected(.invalidTimestamp)
        }
        var userBytes: UnsafeBufferPointer<UInt8>?
        var userPrefix: UInt64 = 0
        if found.pointee.user.rank != Candidate.none {
            let (bytes, prefix) = Self.value(found.pointee.user, lineEnd: p + n, scratch: userScratch)
            if !(bytes.isEmpty || (bytes.count == 1 && bytes[0] == 0x2D)) {
                userBytes = bytes
                userPrefix = prefix
            }
        }
        var eventBytes: UnsafeBufferPointer<UInt8>?
        var eventPrefix: UInt64 = 0
        if found.pointee.event.rank != Candidate.none {
            let (bytes, prefix) = Self.value(found.pointee.event, lineEnd: p + n, scratch: eventScratch)
            if !bytes.isEmpty {
                eventBytes = bytes
                eventPrefix = prefix
            }
        }
        return .record(ParsedLine(millis: millis, user: userBytes, userPrefix: userPrefix, event: eventBytes, eventPrefix: eventPrefix))
    }

    /// Bits of `custody_logfmt_match`'s answer (`CUSTODY_LOGFMT_MATCHED`, `CUSTODY_LOGFMT_ABSENT`).
    private static let templateMatched: UInt64 = 1 << 63
    private static let templateAbsent: UInt64 = 0xFFFF

    /// Field `field`'s value as `custody_logfmt_match` found it (never escaped: a line with a
    /// backslash matches no template).
    @inline(__always)
    private static func captured(_ captures: UInt64, field: Int, in p: UnsafePointer<UInt8>) -> Candidate {
        let bits = (captures &>> UInt64(truncatingIfNeeded: 16 &* field)) & templateAbsent
        guard bits != templateAbsent else { return Candidate() }
        let start = Int(truncatingIfNeeded: bits & 0xFF)
        let end = Int(truncatingIfNeeded: bits &>> 8)
        return Candidate(rank: 0, value: UnsafeBufferPointer(start: p + start, count: end &- start), escaped: false)
    }

    /// Offers the shape of a line the pair loop read to the templates, with where its fields'
    /// values start. Every line offered counts toward the templates' pause, a line too long for
    /// them too (`custody_logfmt_learn`).
    @inline(never)
    private func learnShape(_ p: UnsafePointer<UInt8>, _ n: Int) {
        func start(of candidate: Candidate) -> Int32 {
            guard candidate.rank != Candidate.none, let base = candidate.value.baseAddress else { return -1 }
            return Int32(base - p)
        }
        let found = candidates.pointee
        learntStarts[0] = start(of: found.timestamp)
        learntStarts[1] = start(of: found.user)
        learntStarts[2] = start(of: found.event)
        _ = custody_logfmt_learn(p, n, learntStarts, templates)
    }

    /// A candidate's value (unescaped into `scratch` if it has escapes) and its first eight
    /// bytes (`ParsedLine.userPrefix`): one load where eight bytes are readable from its start,
    /// in the line or in the scratch space (as long as the line limit).
    @inline(__always)
    private static func value(
        _ candidate: Candidate, lineEnd: UnsafePointer<UInt8>, scratch: UnsafeMutablePointer<UInt8>
    ) -> (UnsafeBufferPointer<UInt8>, UInt64) {
        if candidate.escaped {
            let bytes = unescape(candidate.value, into: scratch, capacity: LineReader.maximumLineLength)
            return (bytes, ByteScan.prefixWord(UnsafePointer(scratch), count: bytes.count))
        }
        let bytes = candidate.value
        guard let base = bytes.baseAddress, base + 8 <= lineEnd else { return (bytes, ByteScan.prefixWord(bytes)) }
        return (bytes, ByteScan.prefixWord(base, count: bytes.count))
    }

    /// The first `=`, space, tab or `"` at or after `from` (or `n`). Sixteen bytes a compare:
    /// a byte loop testing four bytes each step was most of the parser's time.
    @inline(__always)
    static func keyEnd(_ p: UnsafePointer<UInt8>, from: Int, _ n: Int) -> Int {
        var i = from
        #if arch(x86_64)
        while i &+ 16 <= n {
            let block = _mm_loadu_si128(UnsafeRawPointer(p + i).assumingMemoryBound(to: __m128i.self))
            let stops = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x3D)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x20))),
                _mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x09)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x22))))
            let mask = UInt32(truncatingIfNeeded: _mm_movemask_epi8(stops))
            if mask != 0 { return i &+ mask.trailingZeroBitCount }
            i &+= 16
        }
        if i < n && n >= 16 {
            // The line's last sixteen bytes, those already looked at shifted off: only the
            // line is read, and the last key no longer takes the byte loop.
            let base = n &- 16
            let block = _mm_loadu_si128(UnsafeRawPointer(p + base).assumingMemoryBound(to: __m128i.self))
            let stops = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x3D)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x20))),
                _mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x09)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x22))))
            let mask = UInt32(truncatingIfNeeded: _mm_movemask_epi8(stops)) &>> UInt32(truncatingIfNeeded: i &- base)
            return mask != 0 ? i &+ mask.trailingZeroBitCount : n
        }
        #endif
        while i < n, p[i] != 0x3D, p[i] != 0x20, p[i] != 0x09, p[i] != 0x22 { i += 1 }
        return i
    }

    /// The first space or tab at or after `from` (or `n`), sixteen bytes a compare.
    @inline(__always)
    static func bareValueEnd(_ p: UnsafePointer<UInt8>, from: Int, _ n: Int) -> Int {
        var i = from
        #if arch(x86_64)
        while i &+ 16 <= n {
            let block = _mm_loadu_si128(UnsafeRawPointer(p + i).assumingMemoryBound(to: __m128i.self))
            let stops = _mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x09)))
            let mask = UInt32(truncatingIfNeeded: _mm_movemask_epi8(stops))
            if mask != 0 { return i &+ mask.trailingZeroBitCount }
            i &+= 16
        }
        if i < n && n >= 16 {
            // The line's last sixteen bytes, as in `keyEnd`.
            let base = n &- 16
            let block = _mm_loadu_si128(UnsafeRawPointer(p + base).assumingMemoryBound(to: __m128i.self))
            let stops = _mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x09)))
            let mask = UInt32(truncatingIfNeeded: _mm_movemask_epi8(stops)) &>> UInt32(truncatingIfNeeded: i &- base)
            return mask != 0 ? i &+ mask.trailingZeroBitCount : n
        }
        #endif
        while i < n, p[i] != 0x20, p[i] != 0x09 { i += 1 }
        return i
    }

    private static func unescape(
        _ value: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, capacity: Int
    ) -> UnsafeBufferPointer<UInt8> {
        var o = 0
        var i = 0
        while i < value.count && o < capacity {
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
            out[o] = c
            o += 1
            i += 1
        }
        return UnsafeBufferPointer(start: out, count: o)
    }
}
