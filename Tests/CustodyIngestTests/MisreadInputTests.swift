import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// Input that was read as something it is not, and so passed: each case was a compliant
/// verdict on a log with a publish before verification (found by running real and edited
/// public log samples through `custody check`).
@Suite("Fail closed: input misread")
struct MisreadInputTests {
    let policy = try! loadPolicy()
    let t = ms("2026-10-10T05:55:36Z")

    // MARK: JSON values that are not text

    @Test func aJSONEventThatIsNotTextIsRejected() {
        let lines = [
            #"{"ts":"2026-10-10T05:55:36Z","user":"m","event":["post"]}"#,
            #"{"ts":"2026-10-10T05:55:36Z","user":"m","event":{"name":"post"}}"#,
            #"{"ts":"2026-10-10T05:55:36Z","user":"m","event":true}"#,
            #"{"ts":"2026-10-10T05:55:36Z","user":"m","event":7}"#,
            #"{"ts":"2026-10-10T05:55:36Z","user":"m","event":1.5}"#,
            #"{"ts":"2026-10-10T05:55:36Z","user":"m","event":null}"#,
            #"{"ts":"2026-10-10T05:55:36Z","user":"m","event":"post"}"#,
        ]
        #expect(
            parseLines(lines, format: .jsonl, policy: policy).results == [
                .rejected(.invalidEvent), .rejected(.invalidEvent), .rejected(.invalidEvent),
                .record(millis: t, user: "m", event: "7"), .rejected(.invalidEvent), .record(millis: t, user: "m", event: nil),
                .record(millis: t, user: "m", event: "post"),
            ])
        #expect(Rejection.invalidEvent.cause == "event is not a string or an integer")
    }

    /// The same through a formats file's field references, into nested members.
    @Test func aReferencedValueThatIsNotTextIsRejected() throws {
        let formats = try FormatsFile.parse(
            """
            formats:
              ecs:
                fields: { timestamp: "@timestamp", user: user.name, event: event.action }
            """, file: "formats.yaml")
        let format = try #require(LogFormat.named("ecs", in: formats))
        let line = { (event: String, user: String) in
            #"{"@timestamp":"2026-10-10T05:55:36Z","user":{"name":\#(user)},"event":{"action":\#(event)}}"#
        }
        let results = parseLines(
            [
                line(#"["post"]"#, #""m""#), line(#"{"kind":"post"}"#, #""m""#), line("false", #""m""#),
                line(#""post""#, #"["m"]"#), line(#""post""#, #""m""#),
            ], format: format, policy: policy
        ).results
        #expect(
            results == [
                .rejected(.invalidEvent), .rejected(.invalidEvent), .rejected(.invalidEvent), .rejected(.invalidUser),
                .record(millis: t, user: "m", event: "post"),
            ])
        // With no event field, the request names one through `http_events`: the same rule.
        let request = { (value: String) in #"{"@timestamp":"2026-10-10T05:55:36Z","user":{"name":"m"},"request":\#(value)}"# }
        let requests = [request(#"["POST /api/posts HTTP/1.1"]"#), request(#""POST /api/posts HTTP/1.1""#)]
        #expect(
            parseLines(requests, format: format, policy: policy).results == [
                .rejected(.invalidEvent), .record(millis: t, user: "m", event: "post"),
            ])
    }

    /// A lone surrogate is no character: decoded as U+FFFD, `\ud800`, `\udfff` and `\ufffd`
    /// were one user, so one user's verification covered another's publish.
    @Test func loneSurrogatesStayDistinctUsers() {
        var parser = LineParser(policy: policy, format: .jsonl)
        defer { parser.deallocate() }
        let users = [#"\ud800"#, #"\udfff"#, #"\ufffd"#, #"\ud83d\ude00"#].map { escaped -> [UInt8]? in
            let line = Array(#"{"ts":"2026-10-10T05:55:36Z","user":"\#(escaped)","event":"view"}"#.utf8)
            guard case .record(let record) = line.withUnsafeBufferPointer({ parser.parse($0) }) else { return nil }
            return record.user.map { Array($0) }
        }
        // The bytes UTF-8 would give each surrogate (which are not valid UTF-8), and the others.
        #expect(users == [[0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], Array("\u{FFFD}".utf8), Array("😀".utf8)])
    }

    // MARK: times

    /// Microseconds were read as milliseconds (a 2020 record in year 51970, past every window).
    @Test func epochMicrosecondsAndNanosecondsInJSON() {
        let results = parseLines(
            [#"{"ts":1600000000123456,"user":"a"}"#, #"{"ts":1600000000123456789,"user":"a"}"#, #"{"ts":1600000000123,"user":"a"}"#],
            format: .jsonl, policy: policy
        ).results
        #expect(results.map(\.millis) == [1_600_000_000_123, 1_600_000_000_123, 1_600_000_000_123])
    }

    /// Standard input's copy has no modification time to take a year from: RFC 3164 times
    /// are refused, not dated to the year the log was piped in.
    @Test func aYearFromAnUnknownModificationTimeIsRefused() throws {
        let dir = try TemporaryDirectory()
        let line = "<34>Oct 10 13:55:36 mymachine su[12]: user=carol action=comment"
        let path = try dir.write("messages", line + "\n")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: path)
        var parser = LineParser(policy: policy, format: .syslog, path: path)
        defer { parser.deallocate() }
        let outcome = Array(line.utf8).withUnsafeBufferPointer { parser.parse($0) }
        guard case .rejected(let rejection) = outcome else {
            Issue.record("expected a rejection, got \(outcome)")
            return
        }
        #expect(rejection == .yearUnknown)
        // Given a real time, the same line is read.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_791_676_800)], ofItemAtPath: path)
        #expect(parseLines([line], format: .syslog, policy: policy).results.count == 1)
    }

    // MARK: requests and syslog headers

    /// nginx reads `POST  /api/posts` (two spaces) as a request for `/api/posts` and logs the
    /// line as sent: it was an empty target, and the publish no event.
    @Test func spacesBeforeTheRequestTargetAreSkipped() {
        for request in ["POST  /api/posts HTTP/1.1", "POST   /api/posts/7 HTTP/1.1", "PROPFIND  /api/posts HTTP/1.1"] {
            let line = #"10.0.0.1 - alice [10/Oct/2026:13:55:36 +0800] "\#(request)" 200 5 "-" "ua""#
            let expected = request.hasPrefix("POST") ? "post" : "http_request"
            #expect(parseLine(line, format: .combined, policy: policy).event == expected, "\(request)")
        }
    }

    @Test(arguments: [
        ("<191>1 2026-10-10T05:55:36Z h a - - - uid=7", true), ("<0>1 2026-10-10T05:55:36Z h a - - - uid=7", true),
        ("<192>1 2026-10-10T05:55:36Z h a - - - uid=7", false), ("<01>1 2026-10-10T05:55:36Z h a - - - uid=7", false),
        ("<1911>1 2026-10-10T05:55:36Z h a - - - uid=7", false), ("<165>2 2026-10-10T05:55:36Z h a - - - uid=7", false),
    ])
    func syslogPrioritiesAndVersionsOutsideTheRFCAreNoSyslog(line: String, valid: Bool) {
        let parsed = parseLine(line, format: .syslog, policy: policy)
        #expect((parsed.user == "7") == valid)
        if !valid { #expect(parsed == .rejected(.notSyslog)) }
    }

    // MARK: container runtimes

    /// The runtime splits each stream's long lines on its own and writes stdout and stderr
    /// interleaved: a stdout part was joined to the next stderr line.
    @Test func criPartsAreJoinedPerStream() {
        let lines = [
            #"2026-10-10T05:55:36Z stdout P {"ts":"2026-10-10T05:55:36Z","#,
            #"2026-10-10T05:55:36Z stderr F {"user":"e","event":"view"}"#,
            #"2026-10-10T05:55:36Z stderr P {"user":"f","#,
            #"2026-10-10T05:55:36Z stdout F "user":"c","event":"post"}"#,
            #"2026-10-10T05:55:36Z stderr F "event":"comment"}"#,
        ]
        #expect(
            parseLines(lines, format: .cri, policy: policy).results == [
                .skipped, .record(millis: t, user: "e", event: "view"), .skipped, .record(millis: t, user: "c", event: "post"),
                .record(millis: t, user: "f", event: "comment"),
            ])
    }

    /// A partial line no final part completed was held and dropped at the end of the file:
    /// a publish in it went unseen. Now a rejected line, named by its first part, through the
    /// single pass and the one-file scan alike.
    @Test(arguments: [1, 2])
    func aCRIPartNeverCompletedIsARejectedLine(parallelism: Int) async throws {
        let dir = try TemporaryDirectory()
        var lines = [
            #"2026-10-11T04:00:00Z stdout F {"user":"amy","event":"verify_phone"}"#,
            #"2026-10-11T04:00:01Z stdout P {"user":"mallory","#,
        ]
        lines += (0..<50).map { #"2026-10-11T04:00:0\#($0 % 10)Z stderr F {"user":"amy","event":"view"}"# }
        lines.append(#"2026-10-11T04:00:02Z stderr P {"user":"x","#)
        let path = try dir.write("pod.log", lines.joined(separator: "\n") + "\n")
        let policy = try loadPolicy(policyYAML.replacingOccurrences(of: "  minimum_days: 60", with: "  minimum_days: 1"))
        let report = try await runCheck([path], policy: policy, asOf: CivilDay(iso: "2026-10-12")!, parallelism: parallelism)
        let finding = try #require(report.findings.first { $0.rule == .rejectedLines })
        #expect(finding.lines == [2, 53])
        #expect(finding.message.contains(Rejection.unfinishedPartial.cause), "\(finding.message)")
        #expect(!report.compliant)
    }

    /// Docker splits a line over 16 KiB into 16 KiB entries whose `log` lacks the final newline
    /// but the last: the first part was a rejected line and the rest an anonymous record.
    @Test func dockerPartsOfALongLineAreJoinedPerStream() {
        let part = LineParser.dockerPartBytes
        let entry = { (log: String, stream: String) in
            #"{"log":"\#(log)","stream":"\#(stream)","time":"2026-10-10T05:55:36Z"}"#
        }
        // Parts of exactly 16 KiB once decoded (each `\"` is one byte).
        let head = #"{\"user\":\"m\",\"pad\":\""#
        let first = head + String(repeating: "x", count: part - 19)
        let second = String(repeating: "y", count: part - 10) + #"\",\"event\":"#
        let lines = [
            entry(first, "stdout"), entry(#"started\n"#, "stderr"), entry(second, "stdout"), entry(#"\"post\"}\n"#, "stdout"),
            // A short entry without a newline is whole (a process's last output, `echo -n`).
            entry(#"{\"user\":\"n\",\"event\":\"post\"}"#, "stdout"),
        ]
        #expect(
            parseLines(lines, format: .docker, policy: policy).results == [
                .skipped, .record(millis: t, user: nil, event: nil), .skipped, .record(millis: t, user: "m", event: "post"),
                .record(millis: t, user: "n", event: "post"),
            ])
    }

    @Test func aDockerPartNeverCompletedIsARejectedLine() async throws {
        let dir = try TemporaryDirectory()
        let pad = String(repeating: "x", count: LineParser.dockerPartBytes)
        let lines = [
            #"{"log":"{\"user\":\"amy\",\"event\":\"verify_phone\"}\n","stream":"stdout","time":"2026-10-11T04:00:00Z"}"#,
            #"{"log":"{\"user\":\"mallory\",\"pad\":\"\#(pad)","stream":"stdout","time":"2026-10-11T04:00:01Z"}"#,
        ]
        let path = try dir.write("container.log", lines.joined(separator: "\n") + "\n")
        let policy = try loadPolicy(policyYAML.replacingOccurrences(of: "  minimum_days: 60", with: "  minimum_days: 1"))
        let report = try await runCheck([path], policy: policy, asOf: CivilDay(iso: "2026-10-12")!, parallelism: 1)
        let finding = try #require(report.findings.first { $0.rule == .rejectedLines })
        #expect(finding.lines == [2])
        #expect(!report.compliant)
    }

    /// Parts past the line limit were dropped while the rest was joined: the line's middle went
    /// missing and what was left read as another line. Such a line is now rejected as overlong.
    @Test func criPartsPastTheLineLimitAreRejected() {
        let chunk = String(repeating: "a", count: 400 * 1024)
        let lines =
            [#"2026-10-10T05:55:36Z stdout P {"user":"m","x":""# + chunk]
            + (0..<3).map { _ in "2026-10-10T05:55:36Z stdout P " + chunk }
            + [#"2026-10-10T05:55:36Z stdout F ","event":"post"}"#, #"2026-10-10T05:55:36Z stdout F {"user":"k"}"#]
        #expect(
            parseLines(lines, format: .cri, policy: policy).results == [
                .skipped, .skipped, .skipped, .skipped, .rejected(.overlong), .record(millis: t, user: "k", event: nil),
            ])
    }

    /// An empty part, then an empty final part: nothing to read (no crash on the empty text).
    @Test func emptyCRIPartsAreAnEmptyLine() {
        let results = parseLines(["2026-10-10T05:55:36Z stdout P ", "2026-10-10T05:55:36Z stdout F "], format: .cri, policy: policy).results
        #expect(results == [.skipped, .record(millis: t, user: nil, event: nil)])
    }

    @Test func aRejectionFoundLateIsListedInLineOrder() {
        var issues = InputIssues()
        for line in [4, 9, 12, 20, 31] { issues.reject(line: line, cause: "later") }
        issues.rejectEarlier(line: 2, cause: "first")
        #expect(issues.firstRejectedLines == [2, 4, 9, 12, 20])
        #expect(issues.firstRejectionCause == "first")
        issues.rejectEarlier(line: 40, cause: "last")
        #expect(issues.firstRejectedLines == [2, 4, 9, 12, 20])
        #expect(issues.rejectedLines == 7)
        #expect(issues.firstRejectionCause == "first")
    }
}
