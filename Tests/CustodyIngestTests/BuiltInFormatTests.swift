import CustodyCore
import CustodyIngest
import Foundation
import Testing

/// syslog, CSV/TSV, CRI and Docker: read by name and found by sniffing.
@Suite("Built-in formats beyond JSON lines, combined and logfmt")
struct BuiltInFormatTests {
    let policy = try! loadPolicy()
    let t = ms("2026-10-10T05:55:36Z")

    @Test func syslogRFC5424() {
        let lines = [
            #"<165>1 2026-10-10T13:55:36.000+08:00 web01 app 1234 ID47 [meta user="x"] user=alice event=post"#,
            "<165>1 2026-10-10T13:55:36.000+08:00 web01 app - - - user=bob",
            "<165>1 not-a-time web01 app - - - user=bob",
        ]
        let (results, format) = parseLines(lines, format: .auto, policy: policy)
        #expect(format == .syslog)
        #expect(
            results == [
                .record(millis: t, user: "alice", event: "post"), .record(millis: t, user: "bob", event: nil),
                .rejected(.formatTimestamp),
            ])
    }

    @Test func syslogRFC3164TakesItsYearFromTheFile() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("messages", "")
        // Written 2026-10-11: an October 10 line is from 2026.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_791_676_800)], ofItemAtPath: path)
        var parser = LineParser(policy: policy, format: .syslog, path: path)
        defer { parser.deallocate() }
        var results: [Parsed] = []
        for line in ["<34>Oct 10 13:55:36 mymachine su[12]: user=carol action=comment", "Oct 10 13:55:36 host sshd: no pairs"] {
            let bytes = Array(line.utf8)
            if case .record(let r) = bytes.withUnsafeBufferPointer({ parser.parse($0) }) {
                results.append(
                    .record(
                        millis: r.millis, user: r.user.map { String(decoding: $0, as: UTF8.self) },
                        event: r.event.map { String(decoding: $0, as: UTF8.self) }))
            }
        }
        // Zone-less RFC 3164 times are in the policy's zone (Asia/Shanghai).
        #expect(results == [.record(millis: t, user: "carol", event: "comment"), .record(millis: t, user: nil, event: nil)])
    }

    /// rsyslog's file format, the default of Debian 12 and Ubuntu 24.04 (`/var/log/auth.log`):
    /// RFC 3164 with an RFC 3339 time, which carries its year and zone. These files were
    /// unrecognised (an error, even with `--input-format syslog`).
    @Test func syslogWithRFC3339TimesAsRsyslogWritesThem() {
        let lines = [
            "2026-10-10T13:55:36.123456+08:00 web01 sshd[4242]: Accepted publickey for deploy from 10.0.0.9 port 52144 ssh2",
            "2026-10-10T13:55:36.000000+08:00 web01 app: user=alice event=post",
            "2026-10-10T05:55:36Z web01 CRON[77]: (root) CMD (run-parts /etc/cron.hourly) user=bob",
            "2026-10-10T13:55:36 web01 app: user=carol",
        ]
        let (results, format) = parseLines(lines, format: .auto, policy: policy)
        #expect(format == .syslog)
        #expect(
            results == [
                .record(millis: t + 123, user: nil, event: nil), .record(millis: t, user: "alice", event: "post"),
                .record(millis: t, user: "bob", event: nil), .rejected(.notSyslog),
            ])
    }

    /// Lines that start with such a time but lack the host and `tag:` stay what they were.
    @Test func anRFC3339TimeAloneIsNoSyslog() {
        #expect(parseLines(["2026-10-10T05:55:36Z level=info user=a event=post"], format: .auto, policy: policy).format == .logfmt)
        #expect(parseLines([#"2026-10-10T05:55:36Z stdout F {"user":"a"}"#], format: .auto, policy: policy).format == .cri)
    }

    @Test func csvHeaderNamesTheFields() {
        let lines = [
            "ts,user,event,note", #"2026-10-10T05:55:36Z,alice,post,"a, ""quoted"" note""#,
            #"2026-10-10T05:55:36Z,"bo""b",verify_phone,x"#, "2026-10-10T05:55:36Z,carol", #"2026-10-10T05:55:36Z,"open,post,x"#,
        ]
        let (results, format) = parseLines(lines, format: .auto, policy: policy)
        #expect(format == .csv)
        #expect(
            results == [
                .skipped, .record(millis: t, user: "alice", event: "post"),
                .record(millis: t, user: "bo\"b", event: "verify_phone"), .rejected(.invalidCSV), .rejected(.invalidCSV),
            ])
    }

    @Test func tsv() {
        let (results, format) = parseLines(["time\tuid\taction", "2026-10-10T05:55:36Z\tu1\tpost"], format: .auto, policy: policy)
        #expect(format == .tsv)
        #expect(results == [.skipped, .record(millis: t, user: "u1", event: "post")])
    }

    @Test func criJSONTextAndPartialLines() {
        let lines = [
            #"2026-10-10T05:55:36.123456789Z stdout F {"ts":"2026-10-10T05:55:36Z","user":"a","event":"post"}"#,
            #"2026-10-10T05:55:36.000000000+00:00 stderr F {"user":"b","event":"comment"}"#,
            "2026-10-10T05:55:36.000000000Z stdout F plain text from the app",
            #"2026-10-10T05:55:36Z stdout P {"ts":"2026-10-10T05:55:36Z","#,
            #"2026-10-10T05:55:37Z stdout F "user":"c","event":"post"}"#,
            "2026-10-10 05:55:36 stdout F x",
        ]
        let (results, format) = parseLines(lines, format: .auto, policy: policy)
        #expect(format == .cri)
        #expect(
            results == [
                .record(millis: t, user: "a", event: "post"), .record(millis: t, user: "b", event: "comment"),
                .record(millis: t, user: nil, event: nil), .skipped, .record(millis: t, user: "c", event: "post"),
                .rejected(.notCRI),
            ])
    }

    @Test func dockerJSONFile() {
        let lines = [
            #"{"log":"{\"ts\":\"2026-10-10T05:55:36Z\",\"user\":\"a\",\"event\":\"post\"}\n","stream":"stdout","time":"2026-10-10T05:55:37.5Z"}"#,
            #"{"log":"{\"user\":\"b\"}\n","stream":"stdout","time":"2026-10-10T05:55:36Z"}"#,
            #"{"log":"started\n","stream":"stderr","time":"2026-10-10T05:55:36Z"}"#,
            #"{"log":"x","log":"y","stream":"stdout","time":"2026-10-10T05:55:36Z"}"#,
        ]
        let (results, format) = parseLines(lines, format: .auto, policy: policy)
        #expect(format == .docker)
        #expect(
            results == [
                .record(millis: t, user: "a", event: "post"), .record(millis: t, user: "b", event: nil),
                .record(millis: t, user: nil, event: nil), .rejected(.notDocker),
            ])
    }

    @Test func namedFormatsParseWithoutSniffing() {
        #expect(parseLine("<165>1 2026-10-10T05:55:36Z h a - - - uid=7", format: .syslog, policy: policy).user == "7")
        #expect(parseLine(#"{"ts":"2026-10-10T05:55:36Z"}"#, format: .syslog, policy: policy) == .rejected(.notSyslog))
        #expect(parseLine("x", format: .cri, policy: policy) == .rejected(.notCRI))
        #expect(parseLine("x", format: .docker, policy: policy) == .rejected(.notDocker))
    }
}
