import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// Formats described in a formats file: patterns, nginx `log_format`s, regexes, times, field
/// references.
@Suite("Described formats")
struct DescribedFormatTests {
    let policy = try! loadPolicy()

    func format(_ yaml: String, _ name: String = "f") throws -> LogFormat {
        let formats = try FormatsFile.parse(
            "formats:\n  \(name):\n" + yaml.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n", file: "formats.yaml")
        return try #require(LogFormat.named(name, in: formats))
    }

    func parse(_ lines: [String], _ yaml: String, path: String? = nil) throws -> [Parsed] {
        let f = try format(yaml)
        var parser = LineParser(policy: policy, format: f, path: path)
        defer { parser.deallocate() }
        return lines.map { line in
            let bytes = Array(line.utf8)
            switch bytes.withUnsafeBufferPointer({ parser.parse($0) }) {
            case .record(let r):
                return .record(
                    millis: r.millis, user: r.user.map { String(decoding: $0, as: UTF8.self) },
                    event: r.event.map { String(decoding: $0, as: UTF8.self) })
            case .rejected(let r): return .rejected(r)
            case .skipped: return .skipped
            }
        }
    }

    @Test func healthAppPatternWithFractionAndZone() throws {
        let yaml = """
            pattern: '%{ts}|%{component}|%{pid}|%{message}'
            time_format: '%Y%m%d-%H:%M:%S:%f'
            timezone: Asia/Shanghai
            fields: { timestamp: ts, user: message.uid, event: component }
            """
        let results = try parse(
            [
                "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579 uid=u1",
                "20171223-22:15:29:606|Step_LSC|30002312|no user here|with pipes",
                "20171223-22:15|Step_LSC|30002312|short time",
                "no pipes at all",
            ], yaml)
        #expect(results[0] == .record(millis: ms("2017-12-23T14:15:29.606Z"), user: "u1", event: "Step_LSC"))
        // The last field is greedy: it keeps the pipes.
        #expect(results[1] == .record(millis: ms("2017-12-23T14:15:29.606Z"), user: nil, event: "Step_LSC"))
        #expect(results[2] == .rejected(.formatTimestamp))
        #expect(results[3] == .rejected(.patternMismatch))
    }

    /// CLF's directives (nginx's `$time_local`) are read by the built-in CLF reader first: the
    /// times must be exactly those of the directives, and what CLF does not take is still judged
    /// by the directives (a bad day or month is rejected, never guessed).
    @Test func clfDirectivesGiveTheSameTimes() throws {
        let yaml = """
            pattern: '[%{time}] %{user} %{event}'
            time_format: '%d/%b/%Y:%H:%M:%S %z'
            fields: { timestamp: time, user: user, event: event }
            """
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var rng = SystemRandomNumberGenerator()
        var lines: [String] = []
        var expected: [Int64] = []
        for _ in 0..<500 {
            let (year, month, day) = (
                Int.random(in: 1990...2040, using: &rng), Int.random(in: 1...12, using: &rng), Int.random(in: 1...28, using: &rng)
            )
            let (hour, minute, second) = (
                Int.random(in: 0...23, using: &rng), Int.random(in: 0...59, using: &rng), Int.random(in: 0...59, using: &rng)
            )
            let offsetMinutes = Int.random(in: -12...14, using: &rng) * 60 + [0, 30, 45].randomElement(using: &rng)!
            let sign = offsetMinutes < 0 ? "-" : "+"
            let zone = String(format: "%@%02d%02d", sign, abs(offsetMinutes) / 60, abs(offsetMinutes) % 60)
            lines.append(
                String(format: "[%02d/%@/%04d:%02d:%02d:%02d %@] u1 post", day, months[month - 1], year, hour, minute, second, zone))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: 0)!
            let utc = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
            expected.append(Int64((utc.timeIntervalSince1970 - Double(offsetMinutes * 60)) * 1000))
        }
        let results = try parse(lines, yaml)
        for (index, result) in results.enumerated() {
            #expect(result == .record(millis: expected[index], user: "u1", event: "post"), "\(lines[index])")
        }
        let bad = try parse(
            ["[30/Feb/2026:10:00:00 +0800] u1 post", "[01/Foo/2026:10:00:00 +0800] u1 post", "[01/Feb/2026:24:00:00 +0800] u1 post"], yaml)
        #expect(bad == [.rejected(.formatTimestamp), .rejected(.formatTimestamp), .rejected(.formatTimestamp)])
    }

    /// Delimiters are found after fields of every length, across the splitter's inline look
    /// (the first 16 bytes) and its memchr fallback, with decoys of the delimiter's first byte.
    @Test func delimitersAfterFieldsOfEveryLength() throws {
        let yaml = """
            pattern: '%{ts} %{pad}<>%{user}<>%{event}'
            time_format: epoch_s
            fields: { timestamp: ts, user: user, event: event }
            """
        var lines: [String] = []
        for length in 0...48 {
            // Decoys: a '<' not followed by '>' at every third byte.
            let pad = String((0..<length).map { $0 % 3 == 2 ? "<" : "x" })
            lines.append("1760000000 \(pad)<>u\(length)<>post")
        }
        let results = try parse(lines, yaml)
        for (length, result) in results.enumerated() {
            #expect(result == .record(millis: 1_760_000_000_000, user: "u\(length)", event: "post"), "\(lines[length])")
        }
    }

    /// Delimiters of 8 bytes (one word compare) and of 14 (compared byte by byte), found past
    /// decoys sharing their first bytes; an 8-byte one that the line ends inside of is not found.
    @Test func delimitersOfEightBytesAndLonger() throws {
        let yaml = """
            pattern: '%{ts}<123456>%{user}<--long-sep-->%{event}<123456>'
            time_format: epoch_s
            fields: { timestamp: ts, user: user, event: event }
            """
        let results = try parse(
            [
                "1760000000<123456>u1<--long-sep-->post<123456>",
                "1760000000<123456>u2<123456<--long-sep<--long-sep-->view<1234<123456>",
                "1760000000<123456>u3<--long-sep->post<123456>",
                "1760000000<12345>u4<--long-sep-->post<123456>",
                "1760000000<123456>u5<--long-sep-->post<123456",
            ], yaml)
        let t: Int64 = 1_760_000_000_000
        #expect(
            results == [
                .record(millis: t, user: "u1", event: "post"), .record(millis: t, user: "u2<123456<--long-sep", event: "view<1234"),
                .rejected(.patternMismatch), .rejected(.patternMismatch), .rejected(.patternMismatch),
            ])
    }

    /// Fields the mapping does not read (status, bytes, referer, agent here) are not stored,
    /// but still matched: a line whose unread fields do not fit is rejected as before, and a
    /// line read after a rejected one has its own values (the splitter does not clear slots).
    @Test func unreadFieldsAreStillMatched() throws {
        let yaml = """
            nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_user_id"'
            fields: { user: http_x_user_id }
            """
        let results = try parse(
            [
                #"10.0.0.1 - - [10/Oct/2026:13:55:36 +0800] "POST /api/posts HTTP/1.1" 201 12 "-" "curl/8" "u1""#,
                // The status and bytes have no space between them: no ` "` after the bytes.
                #"10.0.0.2 - - [10/Oct/2026:13:55:37 +0800] "POST /api/posts HTTP/1.1" 201-12 "-" "curl/8" "u2""#,
                // Text after the last field's closing quote.
                #"10.0.0.3 - - [10/Oct/2026:13:55:38 +0800] "POST /api/posts HTTP/1.1" 201 12 "-" "curl/8" "u3" x"#,
                // The referer is unread but must be closed: `"-` then the agent's quote is missing.
                #"10.0.0.4 - - [10/Oct/2026:13:55:39 +0800] "GET /feed HTTP/1.1" 200 12 "- "curl/8" "u4""#,
                #"10.0.0.5 - - [10/Oct/2026:13:55:40 +0800] "GET /feed HTTP/1.1" 200 12 "-" "curl/8" "-""#,
            ], yaml)
        #expect(
            results == [
                .record(millis: ms("2026-10-10T05:55:36Z"), user: "u1", event: "post"),
                .rejected(.patternMismatch), .rejected(.patternMismatch), .rejected(.patternMismatch),
                .record(millis: ms("2026-10-10T05:55:40Z"), user: nil, event: "http_request"),
            ])
    }

    /// Without a `time_format`, `$time_local` values (`dd/Mon/yyyy:…`) go straight to the CLF
    /// reader; other values are still tried as RFC 3339 and epoch numbers, and a CLF value that
    /// is not a date is rejected, never read another way.
    @Test func automaticTimesInAnNginxFormat() throws {
        let yaml = """
            nginx: '[$time_local] $remote_user'
            """
        let results = try parse(
            [
                "[10/Oct/2026:13:55:36 +0800] u1", "[31/Nov/2026:13:55:36 +0800] u2", "[10/Okt/2026:13:55:36 +0800] u3",
                "[2026-10-10T13:55:36+08:00] u4", "[1760075736] u5", "[10/Oct/2026:13:55:36 +08000] u6",
            ], yaml)
        let t = ms("2026-10-10T05:55:36Z")
        #expect(
            results == [
                .record(millis: t, user: "u1", event: nil), .rejected(.formatTimestamp), .rejected(.formatTimestamp),
                .record(millis: t, user: "u4", event: nil), .record(millis: 1_760_075_736_000, user: "u5", event: nil),
                .rejected(.formatTimestamp),
            ])
    }

    @Test func skipAppendAndPadding() throws {
        let yaml = """
            pattern: '%{?host} %{date} %{+date} %{user->} %{event}'
            time_format: '%Y-%m-%d %H:%M:%S%z'
            fields: { timestamp: date }
            """
        let results = try parse(["h1 2026-10-10 05:55:36Z alice    post"], yaml)
        #expect(results == [.record(millis: ms("2026-10-10T05:55:36Z"), user: "alice", event: "post")])
    }

    /// A request read in place lets the matcher read on into the rest of the line (its
    /// remembered request lines need 32 bytes): the same requests get the same events whether
    /// the request is followed by more of the line or ends it, repeated or one byte off.
    @Test func requestsGetTheSameEventsWhereverTheyAreInTheLine() throws {
        let rules = """
            http_events:
              - { method: POST, path_prefix: /api/posts, event: post }
              - { method: GET, path_prefix: /api/feed, event: view }
              - { method: POST, path_prefix: /api/comments/new, event: comment }
            """
        let inTheMiddle = "nginx: '[$time_local] \"$request\" $remote_user \"$http_user_agent\"'\n" + rules
        let atTheEnd = "nginx: '[$time_local] $remote_user \"$request\"'\n" + rules
        var random = SplitMix64(seed: 5)
        let methods = ["GET", "POST", "post", "PUT"]
        let targets = [
            "/api/posts", "/api/posts/", "/api/post", "/api/postsx", "/api/feed", "/api/feed?x=1", "/api/fee", "/api//posts",
            "/api/%70osts", "/api/comments/new", "/api/comments/ne", "/api/comments/new/1", "/a", "/api/./posts",
            "/api/feed/" + String(repeating: "x", count: 20),
        ]
        var requests: [String] = []
        for _ in 0..<4_000 {
            let method = methods[Int(random.next() % UInt64(methods.count))]
            let target = targets[Int(random.next() % UInt64(targets.count))]
            requests.append(random.next() % 5 == 0 ? "\(method) \(target)" : "\(method) \(target) HTTP/1.1")
        }
        let time = "[10/Oct/2026:13:55:36 +0800]"
        let middle = try parse(requests.map { "\(time) \"\($0)\" u1 \"CustodyApp/3.2 (Android 14; build 8812)\"" }, inTheMiddle)
        let end = try parse(requests.map { "\(time) u1 \"\($0)\"" }, atTheEnd)
        #expect(middle == end)
        // The rules do match: every event occurs.
        for event in ["post", "view", "comment", "http_request"] {
            #expect(middle.contains { if case .record(_, _, event) = $0 { true } else { false } }, "\(event)")
        }
    }

    @Test func nginxLogFormatWithUserHeader() throws {
        let yaml = """
            nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_user_id"'
            fields: { user: http_x_user_id }
            http_events: [ { method: POST, path_prefix: /api/posts, event: post } ]
            """
        let results = try parse(
            [
                #"10.0.0.1 - - [10/Oct/2026:13:55:36 +0800] "POST /api//posts HTTP/1.1" 201 12 "-" "curl/8" "u42""#,
                #"10.0.0.1 - - [10/Oct/2026:13:55:36 +0800] "GET /feed HTTP/1.1" 200 12 "-" "curl/8" "-""#,
                #"10.0.0.1 - - [10/Oct/2026:13:55:36 +0800] "GET /feed HTTP/1.1" 200 12"#,
            ], yaml)
        let t = ms("2026-10-10T05:55:36Z")
        #expect(
            results == [
                .record(millis: t, user: "u42", event: "post"), .record(millis: t, user: nil, event: "http_request"),
                .rejected(.patternMismatch),
            ])
    }

    @Test func pastedLogFormatDirectiveAndQueryAndCookie() throws {
        let yaml = #"""
            nginx: "log_format main '$time_iso8601 \"$request\" ' '\"$http_cookie\"';"
            fields: { user: [query.uid, cookie.sid] }
            """#
        let results = try parse(
            [
                #"2026-10-10T13:55:36+08:00 "POST /api/posts?a=1&uid=u%207 HTTP/1.1" "sid=s9; x=1""#,
                #"2026-10-10T13:55:36+08:00 "GET / HTTP/1.1" "x=1; sid=s9""#,
                #"2026-10-10T13:55:36+08:00 "GET /?uid=a&uid=b HTTP/1.1" "-""#,
            ], yaml)
        let t = ms("2026-10-10T05:55:36Z")
        #expect(
            results == [
                .record(millis: t, user: "u 7", event: "post"), .record(millis: t, user: "s9", event: "http_request"),
                .rejected(.ambiguousField),
            ])
    }

    @Test func regexWithNamedGroupsAndEpochMillis() throws {
        let yaml = #"""
            regex: '^(?P<ts>\S+) (?P<user>\S+) (?P<event>\S+)'
            time_format: epoch_ms
            """#
        let results = try parse(["1760075736123 alice post trailing words", "x y"], yaml)
        #expect(results == [.record(millis: 1_760_075_736_123, user: "alice", event: "post"), .rejected(.patternMismatch)])
    }

    @Test func regexFieldsAreTheLinesExactBytes() throws {
        let f = try format(
            #"""
            regex: '^(?P<ts>\d+) (?P<user>\S+)'
            time_format: epoch_s
            """#)
        var parser = LineParser(policy: policy, format: f)
        defer { parser.deallocate() }
        let line: [UInt8] = Array("1760075736 ".utf8) + [0xFF, 0x78, 0xC3, 0xA9]
        guard case .record(let r) = line.withUnsafeBufferPointer({ parser.parse($0) }) else {
            Issue.record("rejected")
            return
        }
        #expect(r.user.map(Array.init) == [0xFF, 0x78, 0xC3, 0xA9])
    }

    @Test func logcatWithoutYearTakesTheFixedYearRule() throws {
        let appended = """
            pattern: '%{ts} %{+ts->} %{pid->} %{tid->} %{level} %{tag}: %{message}'
            time_format: '%m-%d %H:%M:%S.%f'
            timezone: UTC
            year: 2017
            fields: { timestamp: ts, event: tag }
            """
        let results = try parse(["03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs"], appended)
        #expect(results == [.record(millis: ms("2017-03-17T16:13:38.811Z"), user: nil, event: "WindowManager")])
    }

    @Test func yearFromFileModificationTime() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", "")
        // Modified 2027-01-01 00:30 UTC: a December line belongs to 2026, a January one to 2027.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_798_763_400)], ofItemAtPath: path)
        let yaml = """
            pattern: '[%{ts}] %{user}'
            time_format: '%b %e %H:%M:%S'
            timezone: UTC
            year: file_mtime
            """
        let results = try parse(["[Dec 31 23:59:59] a", "[Jan  1 00:10:00] b"], yaml, path: path)
        #expect(
            results == [
                .record(millis: ms("2026-12-31T23:59:59Z"), user: "a", event: nil),
                .record(millis: ms("2027-01-01T00:10:00Z"), user: "b", event: nil),
            ])
    }

    @Test func jsonPathsWithoutALayout() throws {
        let yaml = """
            fields: { timestamp: ctx.at, user: ctx.user.uid, event: ctx.action }
            """
        let results = try parse(
            [
                #"{"ctx":{"at":"2026-10-10T05:55:36Z","user":{"uid":"u1"},"action":"post"}}"#,
                #"{"ctx":{"at":"2026-10-10T05:55:36Z","user":{"uid":"u1","uid":"u2"},"action":"post"}}"#,
                #"{"ctx":{"at":"2026-10-10T05:55:36Z","user":{"\u0075id":7},"action":"post"}}"#,
            ], yaml)
        let t = ms("2026-10-10T05:55:36Z")
        #expect(
            results == [
                .record(millis: t, user: "u1", event: "post"), .rejected(.ambiguousField),
                .record(millis: t, user: "7", event: "post"),
            ])
    }

    @Test func zoneNamesAndTwelveHourClock() throws {
        let yaml = """
            pattern: '[%{ts}] %{user}'
            time_format: '%d/%b/%Y %I:%M:%S %p %Z'
            """
        let results = try parse(["[10/Oct/2026 01:55:36 PM UTC] a", "[10/Oct/2026 01:55:36 PM Asia/Shanghai] b"], yaml)
        #expect(
            results == [
                .record(millis: ms("2026-10-10T13:55:36Z"), user: "a", event: nil),
                .record(millis: ms("2026-10-10T05:55:36Z"), user: "b", event: nil),
            ])
    }

    @Test(arguments: [
        ("formats:\n  a:\n    pattern: '%{ts} %{u}'\n    colour: red\n", 4, "formats.a.colour"),
        ("formats:\n  a:\n    pattern: '%{ts}%{u}'\n", 3, "formats.a.pattern"),
        ("formats:\n  a:\n    pattern: '%{ts} %{u}'\n    fields: { user: nope }\n", 4, "formats.a.fields"),
        ("formats:\n  a:\n    pattern: '%{x} %{u}'\n", 3, "formats.a.pattern"),
        ("formats:\n  a:\n    pattern: '%{ts} %{u}'\n    time_format: '%Y-%m-%d %Q'\n", 4, "formats.a.time_format"),
        ("formats:\n  a:\n    pattern: '%{ts} %{u}'\n    time_format: '%Y-%m-%d %H'\n", 4, "formats.a.time_format"),
        ("formats:\n  a:\n    pattern: '%{ts} %{u}'\n    time_format: '%m-%d %H %z'\n", 4, "formats.a.time_format"),
        ("formats:\n  a:\n    regex: '(unclosed'\n", 3, "formats.a.regex"),
        ("formats:\n  a:\n    regex: '(\\\\S+)'\n", 3, "formats.a.regex"),
        ("formats:\n  a:\n    pattern: '%{ts}'\n    nginx: '$x'\n", 4, "formats.a.nginx"),
        ("formats:\n  a:\n    year: last\n", 3, "formats.a.year"),
        ("formats:\n  a:\n    timezone: Mars/Base\n", 3, "formats.a.timezone"),
        ("formats:\n  jsonl:\n    pattern: '%{ts}'\n", 3, "formats.jsonl"),
    ])
    func loaderErrorsNameFileLineAndKey(_ text: String, _ line: Int, _ key: String) {
        #expect {
            _ = try FormatsFile.parse(text, file: "my-formats.yaml")
        } throws: { error in
            guard let e = error as? ConfigurationError else { return false }
            return e.file == "my-formats.yaml" && e.line == line && e.key == key
        }
    }
}
