import CustodyCore

/// Reads the nginx/Apache combined (or common) log format:
/// `host ident user [10/Oct/2026:13:55:36 +0800] "METHOD /path HTTP/1.1" status bytes "referer" "agent"`.
///
/// The user is `$remote_user` (`-` is anonymous). The event comes from the policy's
/// `http_events` rules (method + path prefix); an unmatched request is `http_request`.
struct CombinedParser {
    private struct Rule {
        var method: [UInt8]
        var prefix: [UInt8]
        var event: UnsafeBufferPointer<UInt8>
    }

    private let rules: [Rule]
    private let defaultEvent: UnsafeBufferPointer<UInt8>

    init(rules: [HTTPEventRule]) {
        self.rules = rules.map {
            Rule(method: Array($0.method.utf8), prefix: Array($0.pathPrefix.utf8), event: Self.permanent($0.event))
        }
        defaultEvent = Self.permanent("http_request")
    }

    /// Event names live as long as the parser; they are copied once into memory it owns.
    private static func permanent(_ s: String) -> UnsafeBufferPointer<UInt8> {
        let bytes = Array(s.utf8)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        p.initialize(from: bytes, count: bytes.count)
        return UnsafeBufferPointer(start: p, count: bytes.count)
    }

    func deallocate() {
        for rule in rules { rule.event.deallocate() }
        defaultEvent.deallocate()
    }

    /// `host ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "`: the shape of the format, whatever the
    /// values.
    static func hasLayout(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = line.count
        for _ in 0..<3 {
            let start = i
            while i < n, line[i] != 0x20 { i += 1 }
            guard i > start, i < n else { return false }
            i += 1
        }
        guard i + 30 <= n, line[i] == 0x5B, line[i + 3] == 0x2F, line[i + 7] == 0x2F, line[i + 27] == 0x5D,
              line[i + 28] == 0x20, line[i + 29] == 0x22 else { return false }
        return true
    }

    func parse(_ line: UnsafeBufferPointer<UInt8>) -> ParseOutcome {
        guard let p = line.baseAddress else { return .rejected(.notCombined) }
        let n = line.count
        var i = 0
        // host and ident
        for _ in 0..<2 {
            let start = i
            while i < n, p[i] != 0x20 { i += 1 }
            guard i > start, i < n else { return .rejected(.notCombined) }
            i += 1
        }
        let userStart = i
        while i < n, p[i] != 0x20 { i += 1 }
        guard i > userStart, i + 1 < n, p[i + 1] == 0x5B else { return .rejected(.notCombined) }
        let userEnd = i
        i += 2
        let timeStart = i
        while i < n, p[i] != 0x5D { i += 1 }
        guard i < n else { return .rejected(.notCombined) }
        guard let millis = TimestampParser.parseCLF(UnsafeBufferPointer(start: p + timeStart, count: i - timeStart)) else {
            return .rejected(.invalidTimestamp)
        }
        i += 1
        guard i + 1 < n, p[i] == 0x20, p[i + 1] == 0x22 else { return .rejected(.notCombined) }
        i += 2
        let requestStart = i
        while i < n, p[i] != 0x22 {
            if p[i] == 0x5C { i += 1 }
            i += 1
        }
        guard i < n else { return .rejected(.notCombined) }
        let requestEnd = i
        i += 1
        // status: three digits
        guard i + 4 <= n, p[i] == 0x20, p[i + 1] &- 0x30 < 10, p[i + 2] &- 0x30 < 10, p[i + 3] &- 0x30 < 10,
              i + 4 == n || p[i + 4] == 0x20 else { return .rejected(.notCombined) }

        var user: UnsafeBufferPointer<UInt8>? = UnsafeBufferPointer(start: p + userStart, count: userEnd - userStart)
        if userEnd - userStart == 1 && p[userStart] == 0x2D { user = nil }
        let event = classify(p, requestStart, requestEnd)
        return .record(ParsedLine(millis: millis, user: user, event: event))
    }

    private func classify(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        var i = start
        while i < end, p[i] != 0x20 { i += 1 }
        let methodLength = i - start
        guard i < end else { return defaultEvent }
        let pathStart = i + 1
        var pathEnd = pathStart
        while pathEnd < end, p[pathEnd] != 0x20 { pathEnd += 1 }
        let pathLength = pathEnd - pathStart
        for rule in rules where rule.method.count == methodLength && rule.prefix.count <= pathLength {
            let matches = rule.method.withUnsafeBufferPointer { m in memcmp(m.baseAddress!, p + start, methodLength) == 0 }
                && rule.prefix.withUnsafeBufferPointer { q in memcmp(q.baseAddress!, p + pathStart, q.count) == 0 }
            if matches { return rule.event }
        }
        return defaultEvent
    }
}

#if canImport(Glibc)
import Glibc
#endif
