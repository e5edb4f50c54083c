import CustodyCore

/// Turns the named fields of a split line into a record: finds the time, the user and the event
/// through the format's field references, and reads the time with its `time_format`.
///
/// A reference is a field name (`uid`), a path into a field that holds JSON or `key=value`
/// pairs (`user.id`, `ctx.user.uid`, `message.user`), a query parameter of the request target
/// (`query.uid`) or a cookie (`cookie.sid`). Layouts fill `starts`/`ends`/`bases` per slot
/// (-1 when a field is absent from the line); the resolver reads them.
final class FieldResolver {
    /// How a field's raw bytes are written.
    enum Encoding { case text, json, csv }

    struct Reference {
        enum Kind { case slot, query, cookie }
        var kind: Kind
        /// Candidate slots, first present wins (one for `.slot`).
        var slots: [Int]
        /// Path into the slot's value (`.slot`), or the parameter/cookie name (one element).
        var path: [[UInt8]]
    }

    let names: [String]
    let encoding: Encoding
    let starts: UnsafeMutablePointer<Int>
    let ends: UnsafeMutablePointer<Int>
    let bases: UnsafeMutablePointer<UnsafePointer<UInt8>>
    private let timestampRefs: [Reference]
    private let userRefs: [Reference]
    private let eventRefs: [Reference]
    /// The slot of a list that is one plain field (the usual case), else -1: read without
    /// looking at the references.
    private let timestampSlot: Int
    private let userSlot: Int
    private let eventSlot: Int
    private let requestSlot: Int?
    private let methodSlot: Int?
    private let uriSlot: Int?
    private let events: HTTPEventMatcher
    /// For each slot, whether `record` may read it: the slots the references name, and the
    /// request fields `http_events` read. A splitter need not store the others.
    let neededSlots: [Bool]
    private let timeFormat: TimeFormat
    private var times: TimeResolver
    private var clfTimes = CLFTimestampCache()
    private let timeScratch: UnsafeMutablePointer<UInt8>
    private let userScratch: UnsafeMutablePointer<UInt8>
    private let eventScratch: UnsafeMutablePointer<UInt8>
    private let keyScratch: UnsafeMutablePointer<UInt8>
    private static let dash: [UInt8] = [0x2D]

    /// Fields that hold a request line (`METHOD target PROTOCOL`) or a target, for `query.X`.
    static let requestNames = ["request", "request_uri", "uri", "url", "path", "target", "args", "query_string"]
    static let cookieNames = ["http_cookie", "cookie", "cookies"]

    /// - Parameters:
    ///   - strict: references that name no field are an error (layouts with fixed fields);
    ///     otherwise they are simply never present (JSON, CSV headers).
    init(
        names: [String], encoding: Encoding, timestamp: [String], user: [String], event: [String],
        httpEvents: [HTTPEventRule], timeFormat: TimeFormat, times: TimeResolver, strict: Bool
    ) throws(LayoutError) {
        self.names = names
        self.encoding = encoding
        let count = max(names.count, 1)
        starts = .allocate(capacity: count)
        ends = .allocate(capacity: count)
        bases = .allocate(capacity: count)
        starts.initialize(repeating: -1, count: count)
        ends.initialize(repeating: -1, count: count)
        let empty: StaticString = ""
        bases.initialize(repeating: empty.utf8Start, count: count)
        func compile(_ list: [String]) throws(LayoutError) -> [Reference] {
            var result: [Reference] = []
            for text in list {
                if let ref = Self.reference(text, names: names) {
                    result.append(ref)
                } else if strict {
                    throw LayoutError("field '\(text)' is not a field of the format (its fields: \(names.joined(separator: ", ")))")
                }
            }
            return result
        }
        timestampRefs = try compile(timestamp)
        userRefs = try compile(user)
        eventRefs = try compile(event)
        func simple(_ refs: [Reference]) -> Int { refs.count == 1 && refs[0].kind == .slot && refs[0].path.isEmpty ? refs[0].slots[0] : -1 }
        timestampSlot = simple(timestampRefs)
        userSlot = simple(userRefs)
        eventSlot = simple(eventRefs)
        requestSlot = names.firstIndex(of: "request")
        methodSlot = names.firstIndex(of: "request_method") ?? names.firstIndex(of: "method")
        uriSlot = names.firstIndex(of: "request_uri") ?? names.firstIndex(of: "uri")
        events = HTTPEventMatcher(rules: httpEvents)
        var needed = [Bool](repeating: false, count: names.count)
        for slot in (timestampRefs + userRefs + eventRefs).flatMap(\.slots) + [requestSlot, methodSlot, uriSlot].compactMap({ $0 }) {
            needed[slot] = true
        }
        neededSlots = needed
        self.timeFormat = timeFormat
        self.times = times
        timeScratch = .allocate(capacity: 256)
        userScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        eventScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
        keyScratch = ScratchPool.takeBytes(LineReader.maximumLineLength)
    }

    deinit {
        starts.deallocate()
        ends.deallocate()
        bases.deallocate()
        timeScratch.deallocate()
        ScratchPool.giveBytes(userScratch, count: LineReader.maximumLineLength)
        ScratchPool.giveBytes(eventScratch, count: LineReader.maximumLineLength)
        ScratchPool.giveBytes(keyScratch, count: LineReader.maximumLineLength)
    }

    /// The reference `text` against these field names, or nil if it can name nothing here.
    static func reference(_ text: String, names: [String]) -> Reference? {
        if let slot = names.firstIndex(of: text) { return Reference(kind: .slot, slots: [slot], path: []) }
        if text.hasPrefix("query."), text.count > 6 {
            let slots = requestNames.compactMap { names.firstIndex(of: $0) }
            return slots.isEmpty ? nil : Reference(kind: .query, slots: slots, path: [Array(text.utf8.dropFirst(6))])
        }
        if text.hasPrefix("cookie."), text.count > 7 {
            let slots = cookieNames.compactMap { names.firstIndex(of: $0) }
            return slots.isEmpty ? nil : Reference(kind: .cookie, slots: slots, path: [Array(text.utf8.dropFirst(7))])
        }
        // The longest leading run of components that names a field, then a path inside it.
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1, !parts.contains(where: \.isEmpty) else { return nil }
        for cut in stride(from: parts.count - 1, through: 1, by: -1) {
            if let slot = names.firstIndex(of: parts[..<cut].joined(separator: ".")) {
                return Reference(kind: .slot, slots: [slot], path: parts[cut...].map { Array($0.utf8) })
            }
        }
        return nil
    }

    /// Forgets the previous line's fields (for layouts that may leave some unset).
    @inline(__always)
    func clear() {
        for k in 0..<names.count { starts[k] = -1 }
    }

    enum Lookup {
        case absent
        case value(UnsafeBufferPointer<UInt8>)
        case ambiguous
        /// A JSON object, array, `true` or `false`: not text a time, a user or an event can be
        /// read from (read as text, a publish written `["post"]` would pass unseen).
        case notText
        /// A JSON object met on a path (`descend`), raw, for the path's next step.
        case object(UnsafeBufferPointer<UInt8>)
    }

    /// The record from the fields set for this line. `fallbackMillis`: the time to use when no
    /// timestamp field is present (the container runtime's time, for CRI and Docker).
    /// `line`: the line the fields were split from, if they were: a request read in place in it
    /// lets the HTTP matcher read on past the request (its remembered request lines need that).
    func record(
        formatRejection: Rejection = .formatTimestamp, fallbackMillis: Int64? = nil,
        line: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
    ) -> ParseOutcome {
        var millis = fallbackMillis
        switch first(timestampRefs, simple: timestampSlot, scratch: timeScratch, capacity: 256) {
        case .ambiguous: return .rejected(.ambiguousField)
        case .notText, .object: return .rejected(formatRejection)
        case .absent: break
        case .value(let text):
            if let m = timeFormat.clfMillis(text, cache: &clfTimes) {
                millis = m
            } else {
                guard let parsed = timeFormat.parse(text) else { return .rejected(formatRejection) }
                guard let m = times.millis(parsed) else {
                    return .rejected(parsed.year == nil && times.lacksYear ? .yearUnknown : formatRejection)
                }
                millis = m
            }
        }
        guard let millis else { return .rejected(.missingTimestamp) }
        var user: UnsafeBufferPointer<UInt8>?
        switch first(userRefs, simple: userSlot, scratch: userScratch, capacity: LineReader.maximumLineLength) {
        case .ambiguous: return .rejected(.ambiguousField)
        case .notText, .object: return .rejected(.invalidUser)
        case .absent: user = nil
        case .value(let v): user = v.isEmpty || (v.count == 1 && v[0] == 0x2D) ? nil : v
        }
        var event: UnsafeBufferPointer<UInt8>?
        switch first(eventRefs, simple: eventSlot, scratch: eventScratch, capacity: LineReader.maximumLineLength) {
        case .ambiguous: return .rejected(.ambiguousField)
        case .notText, .object: return .rejected(.invalidEvent)
        case .absent where requestIsNotText: return .rejected(.invalidEvent)
        case .absent: event = classifyRequest(in: line)
        case .value(let v): event = v.isEmpty || (v.count == 1 && v[0] == 0x2D) ? classifyRequest(in: line) : v
        }
        return .record(ParsedLine(millis: millis, user: user, event: event))
    }

    /// The `http_events` name of the line's request, when it has one.
    private func classifyRequest(in line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        // Not text (`"method":["POST"]`): no request to name; `record` rejects the line first.
        if let slot = requestSlot, starts[slot] >= 0, let raw = value(slot, scratch: eventScratch) {
            guard let base = raw.baseAddress else { return nil }
            if let lineStart = line.baseAddress, base >= lineStart, base + raw.count <= lineStart + line.count {
                // Read in place (not decoded into scratch): the rest of the line may be read.
                return events.classify(requestLine: base, 0, raw.count, readable: lineStart + line.count - base)
            }
            return events.classify(requestLine: base, 0, raw.count)
        }
        if let m = methodSlot, let u = uriSlot, starts[m] >= 0, starts[u] >= 0,
            let method = value(m, scratch: timeScratch), let target = value(u, scratch: eventScratch)
        {
            return events.classify(method: method, target: target)
        }
        return nil
    }

    @inline(__always)
    private func first(_ refs: [Reference], simple: Int, scratch: UnsafeMutablePointer<UInt8>, capacity: Int) -> Lookup {
        // The usual case, one plain field: no reference is copied out of the array.
        if simple >= 0 {
            if isNotText(simple) { return .notText }
            guard let v = value(simple, scratch: scratch) else { return .absent }
            return .value(v)
        }
        for ref in refs {
            let found = resolve(ref, scratch: scratch, capacity: capacity)
            if case .absent = found { continue }
            return found
        }
        return .absent
    }

    /// Whether a field `http_events` reads (the request, or its method and target) holds a JSON
    /// value that is not text: read as text, `"request":["POST /api/posts HTTP/1.1"]` was no event.
    /// Asked on every line without an event field: only JSON layouts have such values, and an
    /// array of the three slots built per line cost text layouts ~22 ns a line (`parse-timing`).
    private var requestIsNotText: Bool {
        guard encoding == .json else { return false }
        return (requestSlot.map(isNotText) ?? false) || (methodSlot.map(isNotText) ?? false) || (uriSlot.map(isNotText) ?? false)
    }

    /// Whether a JSON layout's slot holds an object, an array, `true` or `false`.
    private func isNotText(_ slot: Int) -> Bool {
        guard encoding == .json, starts[slot] >= 0, starts[slot] < ends[slot] else { return false }
        return Self.startsNonText(bases[slot][starts[slot]])
    }

    /// The first byte of a JSON value that is not text: `{`, `[`, `t` or `f`.
    private static func startsNonText(_ byte: UInt8) -> Bool {
        byte == 0x7B || byte == 0x5B || byte == 0x74 || byte == 0x66
    }

    /// A slot's value as text (JSON strings and CSV quotes decoded into `scratch` when needed).
    private func value(_ slot: Int, scratch: UnsafeMutablePointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        let start = starts[slot]
        guard start >= 0 else { return nil }
        let base = bases[slot]
        let end = ends[slot]
        switch encoding {
        case .text: return UnsafeBufferPointer(start: base + start, count: end - start)
        case .json: return JSONScan.text(base, start, end, scratch: scratch)
        case .csv:
            guard end - start >= 2, base[start] == 0x22 else { return UnsafeBufferPointer(start: base + start, count: end - start) }
            var o = 0
            var i = start + 1
            while i < end - 1 {
                scratch[o] = base[i]
                o += 1
                i += base[i] == 0x22 ? 2 : 1
            }
            return UnsafeBufferPointer(start: scratch, count: o)
        }
    }

    private func resolve(_ ref: Reference, scratch: UnsafeMutablePointer<UInt8>, capacity: Int) -> Lookup {
        switch ref.kind {
        case .slot:
            let slot = ref.slots[0]
            if ref.path.isEmpty || encoding != .json {
                if isNotText(slot) { return .notText }
                guard let first = value(slot, scratch: scratch) else { return .absent }
                return follow(ref.path, from: first, scratch: scratch)
            }
            // JSON layouts: descend through the raw object without decoding it first.
            guard starts[slot] >= 0 else { return .absent }
            let raw = UnsafeBufferPointer(start: bases[slot] + starts[slot], count: ends[slot] - starts[slot])
            return follow(ref.path, from: raw, scratch: scratch)
        case .query:
            for slot in ref.slots {
                guard let raw = value(slot, scratch: scratch) else { continue }
                let isQueryOnly = ["args", "query_string"].contains(names[slot])
                return Self.parameter(ref.path[0], in: raw, queryOnly: isQueryOnly, scratch: scratch)
            }
            return .absent
        case .cookie:
            for slot in ref.slots {
                guard let raw = value(slot, scratch: scratch) else { continue }
                return Self.cookie(ref.path[0], in: raw)
            }
            return .absent
        }
    }

    /// The value at the end of `path` from `start`: text, or `.notText` for a JSON object there.
    private func follow(_ path: [[UInt8]], from start: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutablePointer<UInt8>) -> Lookup {
        var current = start
        var isObject = false
        for key in path {
            switch descend(current, key, scratch: scratch) {
            case .value(let next):
                current = next
                isObject = false
            case .object(let next):
                current = next
                isObject = true
            case let other: return other
            }
        }
        return isObject ? .notText : .value(current)
    }

    /// One step of a path: a member of a JSON object, or a `key=value` pair of text.
    private func descend(_ value: UnsafeBufferPointer<UInt8>, _ key: [UInt8], scratch: UnsafeMutablePointer<UInt8>) -> Lookup {
        guard let p = value.baseAddress else { return .absent }
        let n = value.count
        let i = JSONScan.skipSpace(p, 0, n)
        if i < n, p[i] == 0x7B {
            switch JSONScan.member(key, p, i, n, keyScratch: keyScratch) {
            case .absent, .invalid: return .absent
            case .ambiguous: return .ambiguous
            case .found(let s, let e):
                // Objects stay raw for the next step; strings are decoded.
                if p[s] == 0x7B { return .object(UnsafeBufferPointer(start: p + s, count: e - s)) }
                if Self.startsNonText(p[s]) { return .notText }
                guard let text = JSONScan.text(p, s, e, scratch: scratch) else { return .absent }
                return .value(text)
            }
        }
        return Self.pair(key, in: value)
    }

    /// `key=value` (value bare or double-quoted) in free text; a key given twice is ambiguous.
    static func pair(_ key: [UInt8], in text: UnsafeBufferPointer<UInt8>) -> Lookup {
        guard let p = text.baseAddress else { return .absent }
        let n = text.count
        var found: UnsafeBufferPointer<UInt8>?
        var i = 0
        while i < n {
            let atWordStart = i == 0 || p[i - 1] == 0x20 || p[i - 1] == 0x09 || p[i - 1] == 0x2C
            if atWordStart, i + key.count < n, p[i + key.count] == 0x3D,
                key.withUnsafeBufferPointer({ memcmp($0.baseAddress!, p + i, key.count) == 0 })
            {
                var s = i + key.count + 1
                var e = s
                if s < n, p[s] == 0x22 {
                    s += 1
                    e = s
                    while e < n, p[e] != 0x22 { e += 1 }
                } else {
                    while e < n, p[e] != 0x20, p[e] != 0x09, p[e] != 0x2C { e += 1 }
                }
                if found != nil { return .ambiguous }
                found = UnsafeBufferPointer(start: p + s, count: e - s)
                i = e
                continue
            }
            i += 1
        }
        return found.map { .value($0) } ?? .absent
    }

    /// A query parameter of a request line or target, percent-decoded into `scratch`.
    static func parameter(
        _ key: [UInt8], in raw: UnsafeBufferPointer<UInt8>, queryOnly: Bool,
        scratch: UnsafeMutablePointer<UInt8>
    ) -> Lookup {
        guard let p = raw.baseAddress else { return .absent }
        let n = raw.count
        var start = 0
        var end = n
        if !queryOnly {
            // `METHOD target PROTOCOL` or just a target: the query is after the first `?`.
            guard let q = raw.firstIndex(of: 0x3F) else { return .absent }
            start = q + 1
            var e = start
            while e < n, p[e] != 0x20, p[e] != 0x23 { e += 1 }
            end = e
        }
        var found: (Int, Int)?
        var i = start
        while i < end {
            var j = i
            while j < end, p[j] != 0x26, p[j] != 0x3B { j += 1 }
            let eq = UnsafeBufferPointer(start: p + i, count: j - i).firstIndex(of: 0x3D).map { $0 + i } ?? j
            if eq - i == key.count, key.withUnsafeBufferPointer({ memcmp($0.baseAddress!, p + i, key.count) == 0 }) {
                if found != nil { return .ambiguous }
                found = (min(eq + 1, j), j)
            }
            i = j + 1
        }
        guard let (s, e) = found else { return .absent }
        var o = 0
        var k = s
        while k < e {
            var c = p[k]
            if c == 0x2B {
                c = 0x20
            } else if c == 0x25, k + 2 < e, let h = PercentEncoding.hexDigit(p[k + 1]), let l = PercentEncoding.hexDigit(p[k + 2]) {
                c = h << 4 | l
                k += 2
            }
            scratch[o] = c
            o += 1
            k += 1
        }
        return .value(UnsafeBufferPointer(start: scratch, count: o))
    }

    /// A cookie of a `Cookie` header value (`a=1; b=2`).
    static func cookie(_ key: [UInt8], in raw: UnsafeBufferPointer<UInt8>) -> Lookup {
        guard let p = raw.baseAddress else { return .absent }
        let n = raw.count
        var found: UnsafeBufferPointer<UInt8>?
        var i = 0
        while i < n {
            while i < n, p[i] == 0x20 { i += 1 }
            var j = i
            while j < n, p[j] != 0x3B { j += 1 }
            if j - i > key.count, p[i + key.count] == 0x3D,
                key.withUnsafeBufferPointer({ memcmp($0.baseAddress!, p + i, key.count) == 0 })
            {
                if found != nil { return .ambiguous }
                var s = i + key.count + 1
                var e = j
                if e - s >= 2, p[s] == 0x22, p[e - 1] == 0x22 {
                    s += 1
                    e -= 1
                }
                found = UnsafeBufferPointer(start: p + s, count: e - s)
            }
            i = j + 1
        }
        return found.map { .value($0) } ?? .absent
    }

}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
