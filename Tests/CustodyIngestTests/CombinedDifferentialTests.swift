import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The combined parser's shortcuts (host, ident and user found by one compare of the line's first
/// 32 bytes, the time's `]` looked for where a 26-byte time ends) give the outcomes of the plain
/// rule, written here a byte at a time: host, ident and user end at the line's first three
/// spaces, each at least one byte, `[` after the third; the time runs to the first `]`; then
/// ` "`, the request to the first `"` not escaped by a backslash, a space and three digits.
@Suite("CombinedParser against its plain rule")
struct CombinedDifferentialTests {
    enum Outcome: Equatable, CustomStringConvertible {
        case record(millis: Int64, user: [UInt8]?, event: [UInt8])
        case rejected(Rejection)

        var description: String {
            switch self {
            case .record(let millis, let user, let event):
                return "record(\(millis), \(user.map { String(decoding: $0, as: UTF8.self) } ?? "nil"), "
                    + "\(String(decoding: event, as: UTF8.self)))"
            case .rejected(let rejection): return "rejected(\(rejection.cause))"
            }
        }
    }

    static let rules = [
        HTTPEventRule(method: "POST", pathPrefix: "/api/register", event: "register"),
        HTTPEventRule(method: "POST", pathPrefix: "/api/verify/id", event: "verify_id"),
        HTTPEventRule(method: "POST", pathPrefix: "/api/posts", event: "post"),
    ]

    /// The plain rule; the request's event is the matcher's for the request found here.
    static func reference(_ b: UnsafeBufferPointer<UInt8>, matcher: HTTPEventMatcher) -> Outcome {
        let n = b.count
        var i = 0
        for _ in 0..<2 {
            let start = i
            while i < n && b[i] != 0x20 { i += 1 }
            guard i > start, i < n else { return .rejected(.notCombined) }
            i += 1
        }
        let userStart = i
        while i < n && b[i] != 0x20 { i += 1 }
        guard i > userStart, i + 1 < n, b[i + 1] == 0x5B else { return .rejected(.notCombined) }
        let userEnd = i
        i += 2
        let timeStart = i
        while i < n && b[i] != 0x5D { i += 1 }
        guard i < n else { return .rejected(.notCombined) }
        guard let millis = TimestampParser.parseCLF(UnsafeBufferPointer(rebasing: b[timeStart..<i])) else {
            return .rejected(.invalidTimestamp)
        }
        i += 1
        guard i + 1 < n, b[i] == 0x20, b[i + 1] == 0x22 else { return .rejected(.notCombined) }
        i += 2
        let requestStart = i
        while i < n && b[i] != 0x22 {
            if b[i] == 0x5C { i += 1 }
            i += 1
        }
        guard i < n else { return .rejected(.notCombined) }
        let requestEnd = i
        i += 1
        func digit(_ k: Int) -> Bool { b[k] >= 0x30 && b[k] <= 0x39 }
        guard i + 4 <= n, b[i] == 0x20, digit(i + 1), digit(i + 2), digit(i + 3), i + 4 == n || b[i + 4] == 0x20 else {
            return .rejected(.notCombined)
        }
        let user = Array(b[userStart..<userEnd])
        let event = matcher.classify(requestLine: b.baseAddress!, requestStart, requestEnd)
        return .record(millis: millis, user: user == [0x2D] ? nil : user, event: Array(event))
    }

    /// Parses each line with one parser (its timestamp cache carried from line to line, as in a
    /// file), each line in an allocation of exactly its bytes, and compares with the plain rule.
    static func check(_ lines: [[UInt8]]) -> Int {
        var parser = CombinedParser(rules: rules)
        let matcher = HTTPEventMatcher(rules: rules)
        defer { parser.deallocate() }
        var records = 0
        for line in lines {
            let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(line.count, 1))
            defer { copy.deallocate() }
            _ = copy.initialize(from: line)
            let bytes = UnsafeBufferPointer(start: copy.baseAddress, count: line.count)
            let got: Outcome
            switch parser.parse(bytes) {
            case .record(let record):
                got = .record(
                    millis: record.millis, user: record.user.map(Array.init), event: Array(record.event ?? .init(start: nil, count: 0)))
                #expect(record.userPrefix == ByteScan.prefixWord(record.user))
                records += 1
            case .rejected(let rejection): got = .rejected(rejection)
            case .skipped:
                Issue.record("a combined line was skipped")
                continue
            }
            let expected = reference(bytes, matcher: matcher)
            #expect(got == expected, "\(String(decoding: line, as: UTF8.self).debugDescription)")
        }
        return records
    }

    /// `dd/Mon/yyyy:HH:MM:SS +zzzz` of a clock that moves on by a few seconds a line.
    static func clfTime(_ seconds: Int) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = CivilDay(daysSinceEpoch: Int32(seconds / 86_400)).components
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let s = seconds % 86_400
        return "\(two(day.day))/\(months[day.month - 1])/\(day.year):\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60)) +0800"
    }

    /// Whole lines from pieces that move the first three spaces around the 32-byte window and the
    /// line's end around it: hosts and users of every length from 1 to 30, empty fields, doubled, missing and
    /// leading spaces, tabs, brackets in the user, `]` inside or missing from the time, escaped
    /// quotes, non-ASCII and zero bytes, and lines cut anywhere.
    @Test func linesAsThePlainRuleHasThem() {
        var random = SplitMix64(seed: 1510)
        let requests = [
            "GET /api/feed HTTP/1.1", "POST /api/register HTTP/1.1", "POST /api/verify/id HTTP/1.1", "post /api/posts/7 HTTP/1.1",
            "POST /api/%70osts HTTP/1.1", "POST /api//posts HTTP/1.1", "GET /a\\\"b HTTP/1.1", "-", "POST /api/posts/../register",
        ]
        let odd: [[UInt8]] = [[0x20], [0x20, 0x20], [0x09], [0x5B], [0x5D], [0x22], [0x5C], [0xC3, 0xA9], [0], [0x2D], []]
        var seconds = 1_790_000_000
        var lines: [[UInt8]] = []
        for k in 0..<40_000 {
            seconds += Int.random(in: 0...20, using: &random)
            let hostLength = k < 900 ? 1 + k % 30 : Int.random(in: 1...30, using: &random)
            let userLength = k < 900 ? 1 + k / 30 : Int.random(in: 1...30, using: &random)
            var host = Array("10.1.249.39.203.0.113.250.2001:db8::1".utf8.prefix(hostLength))
            var user = userLength == 1 ? [UInt8(0x2D)] : Array("u28392-alice.bob_carol-dave-eve".utf8.prefix(userLength))
            var time = Array(Self.clfTime(seconds).utf8)
            let request = Array(requests[Int.random(in: 0..<requests.count, using: &random)].utf8)
            var ident: [UInt8] = [0x2D]
            var separators: [[UInt8]] = [[0x20], [0x20], [0x20]]
            // Now and then a piece the usual line does not have (or an empty field).
            if Int.random(in: 0..<3, using: &random) == 0 {
                let piece = odd[Int.random(in: 0..<odd.count, using: &random)]
                switch Int.random(in: 0..<9, using: &random) {
                case 0: host.insert(contentsOf: piece, at: Int.random(in: 0...host.count, using: &random))
                case 1: user.insert(contentsOf: piece, at: Int.random(in: 0...user.count, using: &random))
                case 2: time.insert(contentsOf: piece, at: Int.random(in: 0...time.count, using: &random))
                case 3: time[Int.random(in: 0..<time.count, using: &random)] = piece.first ?? 0x5D
                case 4: separators[Int.random(in: 0..<3, using: &random)] = piece
                case 5: ident = piece
                case 6: user = piece
                case 7: host = piece
                default: time.removeLast(Int.random(in: 1...3, using: &random))
                }
            }
            var line = host + separators[0] + ident + separators[1] + user + separators[2] + [0x5B] + time + Array("] \"".utf8)
            line += request + Array("\" 200 1199 \"-\" \"CustodyApp/3.2 (Android 14)\"".utf8)
            if Int.random(in: 0..<8, using: &random) == 0 { line = Array(line.prefix(Int.random(in: 0...line.count, using: &random))) }
            if Int.random(in: 0..<40, using: &random) == 0 { line = [0x20] + line }
            lines.append(line)
        }
        let records = Self.check(lines)
        // The usual line must dominate, so that the shortcuts are what is being compared.
        #expect(records > 20_000)
    }

    /// Every line of 25 to 40 bytes cut from usual lines: the 32-byte window at and past the end.
    @Test func shortLinesAroundTheWindow() {
        let whole = Array(#"10.0.0.1 - u7 [20/Sep/2026:00:00:01 +0800] "GET / HTTP/1.1" 200 5"#.utf8)
        let wider = Array(#"203.0.113.250 - alice-b [20/Sep/2026:00:00:01 +0800] "GET / HTTP/1.1" 200 5"#.utf8)
        var lines: [[UInt8]] = []
        for source in [whole, wider] {
            for length in 0...source.count { lines.append(Array(source.prefix(length))) }
        }
        _ = Self.check(lines)
    }
}
