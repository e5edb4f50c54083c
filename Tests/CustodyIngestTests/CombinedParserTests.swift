import CustodyCore
import CustodyIngest
import Foundation
import Testing

@Suite("Combined log format parser")
struct CombinedParserTests {
    let policy = try! loadPolicy()
    let t = ms("2026-10-10T05:55:36Z")

    func parse(_ line: String) -> Parsed { parseLine(line, format: .combined, policy: policy) }

    func line(user: String = "alice", time: String = "10/Oct/2026:13:55:36 +0800", request: String) -> String {
        #"203.0.113.9 - \#(user) [\#(time)] "\#(request)" 201 512 "https://example.com/a?b=c" "Mozilla/5.0 (X11; Linux)""#
    }

    @Test func fullLine() {
        #expect(parse(line(request: "POST /api/comments/7 HTTP/1.1")) == .record(millis: t, user: "alice", event: "comment"))
    }

    @Test func dashUserIsAnonymous() {
        #expect(parse(line(user: "-", request: "POST /api/posts HTTP/1.1")) == .record(millis: t, user: nil, event: "post"))
        // Only a lone dash: a user name containing one is a user.
        #expect(parse(line(user: "-x", request: "GET / HTTP/1.1")).user == "-x")
    }

    @Test(arguments: [
        ("POST /api/register HTTP/1.1", "register"),
        ("POST /api/verify/phone HTTP/1.1", "verify_phone"),
        ("POST /api/verify/id?step=2 HTTP/2.0", "verify_id"),
        ("POST /api/posts HTTP/1.1", "post"),
        ("POST /api/posts/123/edit HTTP/1.1", "post"),
        ("POST /api/live/start HTTP/1.1", "live_start"),
        ("GET /api/posts HTTP/1.1", "http_request"),
        ("post /api/posts HTTP/1.1", "post"),
        ("POST /api/post HTTP/1.1", "http_request"),
        ("POST /API/posts HTTP/1.1", "http_request"),
        ("POST /x/api/posts HTTP/1.1", "http_request"),
        ("GET /api/feed HTTP/1.1", "http_request"),
        ("-", "http_request"),
        ("POST", "http_request"),
        ("POST /api/posts", "post"),
    ])
    func httpEventMapping(request: String, event: String) {
        #expect(parse(line(request: request)).event == event)
    }

    @Test func firstMatchingRuleWins() throws {
        let custom = try loadPolicy(
            """
            id: p
            jurisdiction: CN
            timezone: UTC
            retention: { minimum_days: 1 }
            http_events:
              - { method: POST, path_prefix: /api, event: generic }
              - { method: POST, path_prefix: /api/posts, event: post }
            """)
        #expect(parseLine(line(request: "POST /api/posts HTTP/1.1"), format: .combined, policy: custom).event == "generic")
        #expect(parseLine(line(request: "POST /other HTTP/1.1"), format: .combined, policy: custom).event == "http_request")
    }

    @Test func commonFormatWithoutRefererAndAgent() {
        #expect(
            parse(#"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] "POST /api/posts HTTP/1.1" 201 512"#)
                == .record(millis: t, user: "bob", event: "post"))
        #expect(
            parse(#"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] "GET / HTTP/1.1" 304 -"#)
                == .record(millis: t, user: "bob", event: "http_request"))
    }

    @Test func negativeOffset() {
        #expect(parse(line(time: "10/Oct/2026:00:55:36 -0500", request: "GET / HTTP/1.1")).millis == t)
    }

    @Test func escapedQuoteInsideTheRequest() {
        #expect(parse(line(request: #"POST /api/posts?q=\"x\" HTTP/1.1"#)) == .record(millis: t, user: "alice", event: "post"))
    }

    @Test(arguments: ["10/Okt/2026:13:55:36 +0800", "32/Oct/2026:13:55:36 +0800", "10/Oct/2026:13:55:36", "yesterday"])
    func badTimestamp(time: String) {
        #expect(parse(line(time: time, request: "GET / HTTP/1.1")) == .rejected(.invalidTimestamp))
    }

    @Test(arguments: [
        "GET /health 200",
        "",
        #"127.0.0.1 - bob 10/Oct/2026:13:55:36 +0800 "GET / HTTP/1.1" 200 5"#,
        #"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] GET / HTTP/1.1 200 5"#,
        #"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] "GET / HTTP/1.1 200 5"#,
        #"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] "GET / HTTP/1.1" OK 5"#,
        #"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] "GET / HTTP/1.1""#,
        #"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800] "GET / HTTP/1.1" 2000 5"#,
        #"127.0.0.1  - bob [10/Oct/2026:13:55:36 +0800] "GET / HTTP/1.1" 200 5"#,
        #"127.0.0.1 - bob [10/Oct/2026:13:55:36 +0800"#,
        #"{"ts":"2026-10-10T05:55:36Z"}"#,
    ])
    func notCombined(line: String) {
        #expect(parse(line) == .rejected(.notCombined))
    }
}
