import CustodyCore
import CustodyIngest
import Testing

@Suite("logfmt parser")
struct LogfmtParserTests {
    let policy = try! loadPolicy()
    let t = ms("2026-10-10T05:55:36.123Z")

    func parse(_ line: String) -> Parsed { parseLine(line, format: .logfmt, policy: policy) }

    @Test func basicRecord() {
        #expect(
            parse("ts=2026-10-10T13:55:36.123+08:00 user=alice event=post ip=10.0.0.1")
                == .record(millis: t, user: "alice", event: "post"))
    }

    @Test func quotedValuesWithEscapes() {
        #expect(
            parse(#"ts="2026-10-10 05:55:36.123Z" user="al\"ice smith" event="po\\st" msg="a b=c \"d\"""#)
                == .record(millis: t, user: "al\"ice smith", event: "po\\st"))
        #expect(parse(#"ts=2026-10-10T05:55:36.123Z user="line\nbreak\ttab""#).user == "line\nbreak\ttab")
        #expect(parse(#"ts="2026-10-10T05:55:36.123Z" user="plain""#).user == "plain")
    }

    @Test func escapedQuotedTimestamp() {
        #expect(parse(#"ts="2026-10-10T05:55:36.123\Z" user=a"#).millis == t)
    }

    @Test func bareFlagsAreIgnored() {
        #expect(
            parse("debug ts=2026-10-10T05:55:36.123Z audit user=bob event=comment verbose")
                == .record(millis: t, user: "bob", event: "comment"))
    }

    @Test func tabsSeparatePairs() {
        #expect(parse("ts=2026-10-10T05:55:36.123Z\tuser=tab\tevent=post") == .record(millis: t, user: "tab", event: "post"))
    }

    @Test func fieldPriority() {
        #expect(
            parse("time=2001-01-01T00:00:00Z uid=wrong user=right ts=2026-10-10T05:55:36.123Z action=x event=post")
                == .record(millis: t, user: "right", event: "post"))
    }

    @Test func anonymousUsers() {
        #expect(parse("ts=2026-10-10T05:55:36.123Z user=- event=view") == .record(millis: t, user: nil, event: "view"))
        #expect(parse("ts=2026-10-10T05:55:36.123Z user= event=view") == .record(millis: t, user: nil, event: "view"))
        #expect(parse(#"ts=2026-10-10T05:55:36.123Z user="" event=view"#) == .record(millis: t, user: nil, event: "view"))
        #expect(parse("ts=2026-10-10T05:55:36.123Z event=view") == .record(millis: t, user: nil, event: "view"))
        #expect(parse("ts=2026-10-10T05:55:36.123Z user=a event=") == .record(millis: t, user: "a", event: nil))
    }

    @Test func epochTimestamps() {
        #expect(parse("ts=1790000000 user=a").millis == 1_790_000_000_000)
        #expect(parse("ts=1790000000123 user=a").millis == 1_790_000_000_123)
        #expect(parse("ts=1790000000.5 user=a").millis == 1_790_000_000_500)
    }

    @Test(arguments: ["just some words", "", "   ", "flag"])
    func noPairsIsNotLogfmt(line: String) {
        #expect(parse(line) == .rejected(.notLogfmt))
    }

    @Test(arguments: [
        #"ts=2026-10-10T05:55:36Z user="unterminated"#, #"ts=2026-10-10T05:55:36Z bad"key=1"#, "=value ts=2026-10-10T05:55:36Z",
    ])
    func malformedIsNotLogfmt(line: String) {
        #expect(parse(line) == .rejected(.notLogfmt))
    }

    @Test func missingTimestamp() {
        #expect(parse("user=a event=post") == .rejected(.missingTimestamp))
        #expect(parse("ts user=a") == .rejected(.missingTimestamp))
    }

    @Test(arguments: ["ts=2026-10-10T05:55:36", #"ts="2026-10-10 05:55:36""#, "ts=", "ts=soon", "ts=10/Oct/2026:13:55:36"])
    func invalidTimestamp(line: String) {
        #expect(parse(line + " user=a") == .rejected(.invalidTimestamp))
    }

    /// Escaped values are unescaped into one scratch buffer per field, before the rank check: a
    /// later, lower-ranked (or repeated) escaped key overwrites the value already chosen.
    @Test
    func laterEscapedValuesDoNotOverwriteTheChosenOne() {
        #expect(
            parse(#"ts=2026-10-10T05:55:36.123Z user="al\"ice" uid="bo\"b" event=post"#)
                == .record(millis: t, user: "al\"ice", event: "post"))
        #expect(
            parse(#"ts=2026-10-10T05:55:36.123Z user=a event="po\"st" action="vi\"ew""#)
                == .record(millis: t, user: "a", event: "po\"st"))
        #expect(parse(#"ts="2026-10-10T05:55:36.123\Z" time="2001-01-01T00:00:00\Z" user=a"#).millis == t)
        // The same key twice is ambiguous, not "first wins".
        #expect(parse(#"ts=2026-10-10T05:55:36.123Z user="x\"1" user="y\"2""#) == .rejected(.ambiguousField))
    }
}
