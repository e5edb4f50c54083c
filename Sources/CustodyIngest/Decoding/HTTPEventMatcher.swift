import CustodyCore

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Names a request by the policy's (or a format's) `http_events` rules: method and path prefix.
///
/// The request target is compared as the server would route it, so that spelling a path
/// differently cannot hide a publish: the method is compared case-insensitively; an
/// absolute-form target (`http://host/api/posts`) is reduced to its path; percent-encoded
/// unreserved characters are decoded (`/api/%70osts` is `/api/posts`); runs of slashes are one
/// slash; `.` and `..` segments are resolved. Reserved characters stay encoded (`%2F` is not a
/// slash). Targets that need none of this (nearly all) are compared in place.
final class HTTPEventMatcher {
    /// Bytes the matcher owns (method upper-cased), so that going over the rules for every
    /// request retains and releases nothing.
    private struct Rule {
        var method: UnsafeBufferPointer<UInt8>
        var prefix: UnsafeBufferPointer<UInt8>
        var event: UnsafeBufferPointer<UInt8>
        /// `method` as `methodWord(_:)` gives it (0 for a method longer than eight bytes).
        var methodWord: UInt64
        /// The first eight bytes of `prefix`, zero-padded (`KeyHash.prefixWord`), and the mask
        /// of its bytes in a target's first eight.
        var prefixWord: UInt64
        var prefixMask: UInt64
        /// Bytes 8..<16 of `prefix` the same way (both 0 for a prefix of at most eight bytes).
        var secondWord: UInt64
        var secondMask: UInt64
    }

    /// The rules of one method of at most seven bytes (`rules[start..<end]`, in the policy's
    /// order), keyed by its word with its length in the top byte; methods of eight bytes or
    /// more share key 0, which no such method's key equals. A request's method is compared
    /// with each method once instead of with each rule.
    private struct MethodGroup {
        var key: UInt64
        var start: Int
        var end: Int
    }

    /// Grouped by method (`groups`), each method's rules in the policy's order: only rules of a
    /// request's own method can match it, so its first match is the policy's first match.
    private let rules: UnsafeMutableBufferPointer<Rule>
    private let groups: UnsafeMutableBufferPointer<MethodGroup>
    let defaultEvent: UnsafeBufferPointer<UInt8>
    /// Request lines of 8 to 32 bytes classified lately, with their events: a table of
    /// `rememberedCount` entries of 64 bytes (the request's bytes padded to 32, its length (0:
    /// none), its event), one place per line picked by a hash of its first, middle and last
    /// eight bytes and its length. A file's request lines repeat (`GET /api/feed HTTP/1.1`), and comparing
    /// one with the line remembered at its place is two block compares, where classifying it
    /// scans its target and goes over its method's rules. The event depends on nothing but the
    /// request's bytes, so a remembered event is exact; a line that lands on another's place
    /// takes it.
    private let remembered: UnsafeMutableRawPointer
    private static let rememberedBits: UInt64 = 6
    private static let rememberedCount = 1 << rememberedBits
    private static let rememberedLength = 32
    /// Normalised targets are written here; a target longer than this is compared as it is.
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchSize = 8192

    var isEmpty: Bool { rules.isEmpty }

    init(rules: [HTTPEventRule]) {
        // Stable grouping by method key, groups in order of first appearance.
        let keyed = rules.map { rule -> (HTTPEventRule, UInt64) in
            let method = Array(rule.method.uppercased().utf8)
            let word = method.withUnsafeBufferPointer { Self.methodWord($0) }
            return (rule, method.count <= 7 ? Self.methodKey(word ?? 0, count: method.count) : 0)
        }
        var keys: [UInt64] = []
        for (_, key) in keyed where !keys.contains(key) { keys.append(key) }
        self.rules = .allocate(capacity: rules.count)
        groups = .allocate(capacity: keys.count)
        var k = 0
        for (g, key) in keys.enumerated() {
            let start = k
            for (rule, ruleKey) in keyed where ruleKey == key {
                self.rules.initializeElement(at: k, to: Self.compiled(rule))
                k += 1
            }
            groups.initializeElement(at: g, to: MethodGroup(key: key, start: start, end: k))
        }
        defaultEvent = Self.permanent("http_request")
        scratch = .allocate(capacity: Self.scratchSize)
        remembered = .allocate(byteCount: 64 * Self.rememberedCount, alignment: 64)
        remembered.initializeMemory(as: UInt8.self, repeating: 0, count: 64 * Self.rememberedCount)
    }

    private static func compiled(_ rule: HTTPEventRule) -> Rule {
        let method = permanent(rule.method.uppercased())
        let prefix = permanent(rule.pathPrefix)
        // `permanent` pads with eight zero bytes, so both words are one load each.
        func mask(_ length: Int) -> UInt64 { length >= 8 ? .max : (1 << UInt64(8 * max(length, 0))) &- 1 }
        let secondMask = prefix.count > 8 ? mask(prefix.count - 8) : 0
        return Rule(
            method: method, prefix: prefix, event: permanent(rule.event), methodWord: methodWord(method) ?? 0,
            prefixWord: KeyHash.prefixWord(prefix), prefixMask: mask(prefix.count),
            secondWord: prefix.count > 8 ? ByteScan.prefixWord(prefix.baseAddress! + 8, count: 8) & secondMask : 0,
            secondMask: secondMask)
    }

    /// The key of a method's group: its word (`methodWord(_:)`, at most seven bytes) with its
    /// length in the top byte.
    @inline(__always)
    private static func methodKey(_ word: UInt64, count: Int) -> UInt64 { word | UInt64(truncatingIfNeeded: count) &<< 56 }

    deinit {
        for rule in rules {
            rule.method.deallocate()
            rule.prefix.deallocate()
            rule.event.deallocate()
        }
        rules.deallocate()
        groups.deallocate()
        defaultEvent.deallocate()
        scratch.deallocate()
        remembered.deallocate()
    }

    /// Event names live as long as the matcher; they are copied once into memory it owns, with
    /// eight zero bytes after them, so that the first eight bytes of an event name this matcher
    /// returns can always be read in one load (`ByteScan.prefixWord(_:count:)`).
    private static func permanent(_ s: String) -> UnsafeBufferPointer<UInt8> {
        let bytes = Array(s.utf8)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count + 8)
        p.initialize(from: bytes, count: bytes.count)
        (p + bytes.count).initialize(repeating: 0, count: 8)
        return UnsafeBufferPointer(start: p, count: bytes.count)
    }

    /// A method of at most eight bytes, upper-cased (ASCII letters), as a little-endian word
    /// padded with zeros; nil for a longer one. One compare per rule instead of a byte loop.
    @inline(__always)
    static func methodWord(_ method: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard method.count <= 8 else { return nil }
        var word: UInt64 = 0
        for k in 0..<method.count {
            let c = method[k]
            word |= UInt64(c &- 0x61 < 26 ? c &- 0x20 : c) << UInt64(8 * k)
        }
        return word
    }

    /// `methodWord(_:)` of the method that starts the eight bytes `word` (little-endian) and
    /// ends at its first space, with the method's length; nil when those bytes have no space
    /// or start with one. One load instead of two byte loops (finding the space, then building
    /// the word), which were a tenth of a combined line's instructions.
    @inline(__always)
    static func methodWord(leading word: UInt64) -> (word: UInt64, count: Int)? {
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let highs: UInt64 = 0x8080_8080_8080_8080
        // The high bit of a byte of `~(((x & 0x7F…) + 0x7F…) | x)` is set exactly when the
        // byte of x is zero: no carry crosses a byte, so every flag is exact.
        let x = word ^ 0x2020_2020_2020_2020
        let spaces = ~(((x & lows) &+ lows) | x) & highs
        let count = spaces.trailingZeroBitCount &>> 3
        guard spaces != 0, count > 0 else { return nil }
        // ASCII `a`…`z` less 0x20, every other byte as it is: the high bit of a byte of
        // `(b & 0x7F) + (0x80 - 0x61)` is set when b ≥ 0x61, of `(b & 0x7F) + (0x80 - 0x7B)`
        // when b ≥ 0x7B, each counting b without its high bit, hence `& ~word` (b < 0x80).
        let seven = word & lows
        let lower = (seven &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(seven &+ 0x0505_0505_0505_0505) & ~word & highs
        let upper = word ^ (lower &>> 2)
        return (upper & ((1 &<< UInt64(truncatingIfNeeded: 8 &* count)) &- 1), count)
    }

    /// The event of a request line `METHOD target [PROTOCOL]` (the bytes `start..<end` at `p`).
    func classify(requestLine p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        classify(requestLine: p, start, end, readable: end)
    }

    /// `classify(requestLine:_:_:)` where the bytes at `p` may be read up to `readable` (≥ `end`:
    /// a combined line's request is followed by the rest of its line). The usual request, a
    /// method of at most seven bytes and a target that needs no normalising, takes one load for
    /// the method and one pass sixteen bytes a step for the target's end and whether it needs
    /// normalising (two scans and a call before, ~26 ns a line), then its method's rules only.
    @inline(__always)
    func classify(requestLine p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, readable: Int) -> UnsafeBufferPointer<UInt8> {
        #if arch(x86_64)
        let length = end &- start
        if length >= 8 && length <= Self.rememberedLength && start &+ Self.rememberedLength <= readable {
            // Its first, middle and last eight bytes (all inside it): request lines share their
            // first and last bytes (`POST /api/`, ` HTTP/1.1`), so the middle ones count, and
            // two multiplies mix them so that such lines spread over the table.
            let first = UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)
            let middle = UnsafeRawPointer(p + (start &+ length &>> 1 &- 4)).loadUnaligned(as: UInt64.self)
            let last = UnsafeRawPointer(p + (end &- 8)).loadUnaligned(as: UInt64.self)
            let hash =
                ((first &+ (middle &<< 21 | middle &>> 43)) &* 0x9E37_79B9_7F4A_7C15 ^ (last &+ UInt64(truncatingIfNeeded: length)))
                &* 0xBF58_476D_1CE4_E5B9
            let entry = remembered + Int(truncatingIfNeeded: hash &>> (64 &- Self.rememberedBits)) &* 64
            let low = _mm_loadu_si128(UnsafeRawPointer(p + start).assumingMemoryBound(to: __m128i.self))
            let high = _mm_loadu_si128(UnsafeRawPointer(p + (start &+ 16)).assumingMemoryBound(to: __m128i.self))
            if entry.load(fromByteOffset: 32, as: Int.self) == length {
                // Bit k: byte k is the request's (the bytes after it are not compared).
                let within: UInt32 = length == 32 ? .max : (1 &<< UInt32(truncatingIfNeeded: length)) &- 1
                let same =
                    Self.movemask(_mm_cmpeq_epi8(low, entry.load(as: __m128i.self)))
                    | Self.movemask(_mm_cmpeq_epi8(high, entry.load(fromByteOffset: 16, as: __m128i.self))) &<< 16
                if same | ~within == .max { return entry.load(fromByteOffset: 40, as: UnsafeBufferPointer<UInt8>.self) }
            }
            return classifyAndRemember(requestLine: p, start, end, readable: readable, at: entry)
        }
        #endif
        return classifyOnce(requestLine: p, start, end, readable: readable)
    }

    /// A request line not remembered at `entry` (the place of its hash): classified, then
    /// remembered there. Behind a call, as is `classifyOnce`: so that the remembered line's path
    /// is small enough to be inlined into the line loops (with the rest inlined too, the compiler
    /// kept `classify` a call, which saved and restored five registers every line).
    #if arch(x86_64)
    @inline(never)
    private func classifyAndRemember(
        requestLine p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, readable: Int, at entry: UnsafeMutableRawPointer
    ) -> UnsafeBufferPointer<UInt8> {
        let event = classifyUnremembered(requestLine: p, start, end, readable: readable)
        entry.storeBytes(of: _mm_loadu_si128(UnsafeRawPointer(p + start).assumingMemoryBound(to: __m128i.self)), as: __m128i.self)
        entry.storeBytes(
            of: _mm_loadu_si128(UnsafeRawPointer(p + (start &+ 16)).assumingMemoryBound(to: __m128i.self)), toByteOffset: 16,
            as: __m128i.self)
        entry.storeBytes(of: end &- start, toByteOffset: 32, as: Int.self)
        entry.storeBytes(of: event, toByteOffset: 40, as: UnsafeBufferPointer<UInt8>.self)
        return event
    }
    #endif

    /// `classifyUnremembered` behind a call, for request lines the table does not take.
    @inline(never)
    private func classifyOnce(requestLine p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, readable: Int) -> UnsafeBufferPointer<UInt8> {
        classifyUnremembered(requestLine: p, start, end, readable: readable)
    }

    /// `classify(requestLine:_:_:readable:)` without the remembered lines.
    @inline(__always)
    func classifyUnremembered(requestLine p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, readable: Int) -> UnsafeBufferPointer<UInt8> {
        #if arch(x86_64)
        if start &+ 8 <= end,
            let (word, count) = Self.methodWord(leading: UInt64(littleEndian: UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)))
        {
            let targetStart = start &+ count &+ 1
            let t = p + targetStart
            // A second space before the target goes the general way, which skips it.
            if targetStart < end, t[0] != 0x20,
                let length = Self.cleanTargetLength(t, available: end &- targetStart, readable: readable &- targetStart)
            {
                return classify(methodKey: Self.methodKey(word, count: count), target: t, length: length)
            }
        }
        #endif
        return classifyInGeneral(requestLine: p, start, end)
    }

    /// The event of a method of at most seven bytes (`methodKey`) and a target of `length` bytes
    /// at `t` that needs no normalising, with sixteen bytes readable from `t`: the target's first
    /// two words are compared with each rule's prefix before any byte loop.
    @inline(__always)
    private func classify(methodKey key: UInt64, target t: UnsafePointer<UInt8>, length: Int) -> UnsafeBufferPointer<UInt8> {
        for group in groups where group.key == key {
            let first = ByteScan.prefixWord(t, count: length)
            let second = UInt64(littleEndian: UnsafeRawPointer(t + 8).loadUnaligned(as: UInt64.self))
            for k in group.start..<group.end {
                let rule = rules[k]
                // A prefix's bytes 8..<16 are the target's own when the prefix is not longer.
                guard rule.prefix.count <= length, first & rule.prefixMask == rule.prefixWord,
                    second & rule.secondMask == rule.secondWord
                else { continue }
                if rule.prefix.count <= 16 { return rule.event }
                var i = 16
                while i < rule.prefix.count, rule.prefix[i] == t[i] { i &+= 1 }
                if i == rule.prefix.count { return rule.event }
            }
            return defaultEvent
        }
        return defaultEvent
    }

    #if arch(x86_64)
    /// The length of the request target at `t`: up to its first space among the `available`
    /// bytes before the request's end, or all of them. Nil when the target needs normalising
    /// (`needsNormalising`), or when its end is not found within `readable` bytes of `t` (each
    /// step reads sixteen whole bytes). Both in one pass: the spaces, `?`/`#`, `/`, `.` and `%`
    /// of each block, with whether the block before ended in a `/` carried over.
    @inline(__always)
    static func cleanTargetLength(_ t: UnsafePointer<UInt8>, available: Int, readable: Int) -> Int? {
        var offset = 0
        var carry: UInt32 = 0  // bit 0: the byte before the block is a `/`
        var open: UInt32 = 0xFFFF  // 0 from a `?` or `#` on: what follows it is not normalised
        while offset &+ 16 <= readable {
            let block = _mm_loadu_si128(UnsafeRawPointer(t + offset).assumingMemoryBound(to: __m128i.self))
            let remaining = available &- offset
            let inRequest: UInt32 = remaining >= 16 ? 0xFFFF : (1 &<< UInt32(truncatingIfNeeded: remaining)) &- 1
            let spaces = movemask(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x20))) & inRequest
            // The bytes before the first space: the target's (all the request's when none).
            let inTarget = spaces != 0 ? (spaces & (0 &- spaces)) &- 1 : inRequest
            let ends =
                movemask(_mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x3F)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x23))))
                & inTarget
            let beforeQuery = (ends != 0 ? (ends & (0 &- ends)) &- 1 : inTarget) & open
            let slashes = movemask(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x2F)))
            let dots = movemask(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x2E)))
            let percents = movemask(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x25)))
            let afterSlash = (slashes &<< 1 | carry) & (slashes | dots)
            if (percents | afterSlash) & beforeQuery != 0 { return nil }
            if ends != 0 { open = 0 }
            carry = slashes &>> 15 & 1
            if spaces != 0 || remaining <= 16 {
                let length = offset &+ (spaces != 0 ? spaces.trailingZeroBitCount : remaining)
                return length == 0 || t[0] == 0x2F ? length : nil
            }
            offset &+= 16
        }
        return nil
    }
    #endif

    /// Any request line, the rare ones included: methods longer than seven bytes, targets that
    /// need normalising or end too near the readable bytes.
    @inline(never)
    private func classifyInGeneral(requestLine p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        if start &+ 8 <= end, !rules.isEmpty,
            let (word, count) = Self.methodWord(leading: UInt64(littleEndian: UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)))
        {
            // The usual request: a method of at most seven bytes, read in one load.
            let targetStart = Self.afterSpaces(p, start &+ count &+ 1, end)
            let targetEnd = DelimiterScan.firstIndex(of: 0x20, p, from: targetStart, limit: end) ?? end
            let raw = UnsafeBufferPointer(start: p + targetStart, count: targetEnd &- targetStart)
            let target = Self.needsNormalising(raw) ? normalise(raw) : raw
            guard let t = target.baseAddress else { return defaultEvent }
            return classify(methodWord: word, count: count, target: target, t)
        }
        var i = start
        while i < end, p[i] != 0x20 { i += 1 }
        guard i < end else { return defaultEvent }
        let targetStart = Self.afterSpaces(p, i + 1, end)
        // Targets run to 10–100 bytes: found 16 bytes a compare.
        let targetEnd = DelimiterScan.firstIndex(of: 0x20, p, from: targetStart, limit: end) ?? end
        return classify(
            method: UnsafeBufferPointer(start: p + start, count: i - start),
            target: UnsafeBufferPointer(start: p + targetStart, count: targetEnd - targetStart))
    }

    /// The first index from `i` before `end` that is not a space. nginx reads `POST  /api/posts`
    /// (spaces before the target) as a request for `/api/posts`, and logs the line as sent: read
    /// as an empty target, such a publish passed as no event.
    private static func afterSpaces(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var i = i
        while i < end, p[i] == 0x20 { i += 1 }
        return i
    }

    /// The event of a method and a request target given apart.
    func classify(method: UnsafeBufferPointer<UInt8>, target raw: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard !rules.isEmpty, let m = method.baseAddress else { return defaultEvent }
        let target = Self.needsNormalising(raw) ? normalise(raw) : raw
        guard let t = target.baseAddress else { return defaultEvent }
        if let word = Self.methodWord(method) { return classify(methodWord: word, count: method.count, target: target, t) }
        for rule in rules where rule.method.count == method.count && rule.prefix.count <= target.count {
            var sameMethod = true
            for k in 0..<method.count where rule.method[k] != (m[k] &- 0x61 < 26 ? m[k] &- 0x20 : m[k]) {
                sameMethod = false
                break
            }
            if sameMethod, rule.prefix.isEmpty || memcmp(rule.prefix.baseAddress!, t, rule.prefix.count) == 0 {
                return rule.event
            }
        }
        return defaultEvent
    }

    /// The event of a method of at most eight bytes (`methodWord(_:)`, `count` bytes long) and a
    /// target (normalised where it needs it) starting at `t`.
    @inline(__always)
    private func classify(
        methodWord word: UInt64, count: Int, target: UnsafeBufferPointer<UInt8>, _ t: UnsafePointer<UInt8>
    )
        -> UnsafeBufferPointer<UInt8>
    {
        // The method compared as one word (a rule's word is 0 only for a method longer than
        // eight bytes, which no method of this length equals), and a prefix by its first eight
        // bytes before any call to `memcmp`.
        let targetWord = target.count >= 8 ? ByteScan.prefixWord(t, count: 8) : KeyHash.prefixWord(target)
        for rule in rules where rule.methodWord == word && rule.method.count == count && rule.prefix.count <= target.count {
            guard targetWord & rule.prefixMask == rule.prefixWord else { continue }
            if rule.prefix.count <= 8 || memcmp(rule.prefix.baseAddress! + 8, t + 8, rule.prefix.count - 8) == 0 { return rule.event }
        }
        return defaultEvent
    }

    /// Whether a target holds anything `normalise` would change: not starting with `/`, a `%`,
    /// `//` or a `.` segment (before any query).
    @inline(__always)
    static func needsNormalising(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = t.baseAddress, t.count > 0, p[0] == 0x2F else { return !t.isEmpty }
        let n = t.count
        #if arch(x86_64)
        // Sixteen bytes a step (a byte loop here was a sixth of a combined line's cost). Only
        // the target's own bytes are read: a last partial block is the target's last sixteen
        // bytes with those already looked at masked off, and a target of 8–15 bytes is copied
        // into a zeroed block by two overlapping word loads (a zero byte matches nothing).
        if n >= 16 {
            var i = 0
            while i &+ 16 <= n {
                if let verdict = blockVerdict(p + i, from: 0, previous: i == 0 ? 0 : p[i &- 1]) { return verdict }
                i &+= 16
            }
            if i == n { return false }
            return blockVerdict(p + (n &- 16), from: 16 &- (n &- i), previous: p[n &- 17]) ?? false
        }
        if n >= 8 {
            var block: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &block) { b in
                b.storeBytes(of: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self), toByteOffset: 0, as: UInt64.self)
                b.storeBytes(of: UnsafeRawPointer(p + (n &- 8)).loadUnaligned(as: UInt64.self), toByteOffset: n &- 8, as: UInt64.self)
            }
            return withUnsafeBytes(of: &block) { blockVerdict($0.baseAddress!.assumingMemoryBound(to: UInt8.self), from: 0, previous: 0) }
                ?? false
        }
        #endif
        var previous: UInt8 = 0
        for i in 0..<n {
            let c = p[i]
            if c == 0x3F || c == 0x23 { return false }
            if c == 0x25 || (previous == 0x2F && (c == 0x2F || c == 0x2E)) { return true }
            previous = c
        }
        return false
    }

    #if arch(x86_64)
    /// The verdict of the sixteen bytes at `p`, looking only at bytes `from...15` (`previous` is
    /// the byte before `p`, `from` ≥ 1 when it is the block's own): true for a `%`, or a `/`
    /// followed by `/` or `.`, before any `?` or `#`; false for a `?` or `#` first; nil for none.
    @inline(__always)
    private static func blockVerdict(_ p: UnsafePointer<UInt8>, from: Int, previous: UInt8) -> Bool? {
        let block = _mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self))
        let considered = UInt32(0xFFFF) &<< UInt32(from) & 0xFFFF
        let ends =
            movemask(_mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x3F)), _mm_cmpeq_epi8(block, _mm_set1_epi8(0x23))))
            & considered
        let slashes = movemask(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x2F)))
        let dots = movemask(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x2E)))
        let percents = movemask(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x25)))
        // Bit k: byte k is `/` or `.` and the byte before it a `/`.
        let afterSlash = (slashes << 1 | (previous == 0x2F ? 1 : 0)) & (slashes | dots)
        let needs = (percents | afterSlash) & considered
        // Only what comes before the query counts.
        let beforeEnd = ends == 0 ? UInt32(0xFFFF) : (UInt32(1) << ends.trailingZeroBitCount) &- 1
        if needs & beforeEnd != 0 { return true }
        return ends != 0 ? false : nil
    }

    @inline(__always)
    private static func movemask(_ v: __m128i) -> UInt32 { UInt32(truncatingIfNeeded: _mm_movemask_epi8(v)) }
    #endif

    /// The path of `raw` as a server routes it (see the type's comment), followed by its query.
    func normalise(_ raw: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard raw.count + 1 <= Self.scratchSize, let p = raw.baseAddress else { return raw }
        var i = 0
        let n = raw.count
        // Absolute form: scheme "://" authority, then the path.
        if n > 0, p[0] != 0x2F {
            var k = 0
            while k < n, Self.isSchemeByte(p[k]) { k += 1 }
            guard k > 0, k + 2 < n, p[k] == 0x3A, p[k + 1] == 0x2F, p[k + 2] == 0x2F else { return raw }
            k += 3
            while k < n, p[k] != 0x2F, p[k] != 0x3F, p[k] != 0x23 { k += 1 }
            i = k
        }
        var pathEnd = i
        while pathEnd < n, p[pathEnd] != 0x3F, p[pathEnd] != 0x23 { pathEnd += 1 }
        let out = scratch
        out[0] = 0x2F
        var o = 1  // `out` always ends just after a slash between segments
        var lastWasName = false
        while i < pathEnd {
            if p[i] == 0x2F {
                i += 1
                continue
            }  // empty segments: `//` is `/`
            let segmentStart = o
            while i < pathEnd, p[i] != 0x2F {
                var c = p[i]
                if c == 0x25, i + 2 < pathEnd, let h = PercentEncoding.hexDigit(p[i + 1]), let l = PercentEncoding.hexDigit(p[i + 2]),
                    Self.isUnreserved(h << 4 | l)
                {
                    c = h << 4 | l
                    i += 2
                }
                out[o] = c
                o += 1
                i += 1
            }
            let length = o - segmentStart
            if length == 1 && out[segmentStart] == 0x2E {
                o = segmentStart
                lastWasName = false
            } else if length == 2 && out[segmentStart] == 0x2E && out[segmentStart + 1] == 0x2E {
                o = segmentStart
                if o > 1 {
                    o -= 1
                    while o > 1, out[o - 1] != 0x2F { o -= 1 }
                }
                lastWasName = false
            } else {
                out[o] = 0x2F
                o += 1
                lastWasName = true
            }
        }
        // `/api/posts` keeps no trailing slash; `/api/posts/` keeps it.
        if lastWasName && p[pathEnd - 1] != 0x2F { o -= 1 }
        while i < n {
            out[o] = p[i]
            o += 1
            i += 1
        }
        return UnsafeBufferPointer(start: out, count: o)
    }

    private static func isSchemeByte(_ c: UInt8) -> Bool {
        (c | 0x20) &- 0x61 < 26 || c &- 0x30 < 10 || c == 0x2B || c == 0x2D || c == 0x2E
    }

    private static func isUnreserved(_ c: UInt8) -> Bool {
        (c | 0x20) &- 0x61 < 26 || c &- 0x30 < 10 || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x7E
    }

}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
