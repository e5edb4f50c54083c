import CustodyCore
import CustodyIngest
import Foundation
import Testing

/// Real public logs (loghub's samples, first 200 lines each, `LICENSE.loghub`; elastic/beats'
/// nginx ingress-controller test log, `LICENSE.beats-Apache-2.0`) and a CRI and an nginx log
/// shaped like real ones (no real sample with a licence was found: Fixtures/README.md): exact
/// records, days and users for each.
@Suite("Real log samples")
struct RealLogSampleTests {
    let policy = try! loadPolicy()

    struct Tally: Equatable {
        var records = 0
        var rejected = 0
        var days: [String] = []
        var users: [String] = []
    }

    func tally(_ path: String, _ format: LogFormat) -> Tally {
        var calendar = DayCalendar(timeZone: policy.timeZone)
        var days = Set<String>()
        var users = Set<String>()
        let outcome = RecordReader.read(path: path, policy: policy, format: format) { record, _ in
            days.insert(CivilDay(daysSinceEpoch: calendar.day(ofMillis: record.millis)).description)
            if let user = record.user { users.insert(String(decoding: user, as: UTF8.self)) }
        }
        return Tally(records: outcome.records, rejected: outcome.issues.rejectedLines, days: days.sorted(), users: users.sorted())
    }

    func described(_ yaml: String) throws -> LogFormat {
        let formats = try FormatsFile.parse(yaml, file: "formats.yaml")
        return try #require(LogFormat.named(formats.keys.first!, in: formats))
    }

    @Test func androidLogcatPattern() throws {
        let format = try described(
            """
            formats:
              logcat:
                pattern: '%{ts} %{+ts->} %{pid->} %{tid->} %{level} %{tag}: %{message}'
                time_format: '%m-%d %H:%M:%S.%f'
                timezone: Asia/Shanghai
                year: 2017
                fields: { timestamp: ts, user: message.uid, event: tag }
            """)
        #expect(
            tally(try fixture("loghub_Android_200.log"), format)
                == Tally(records: 200, days: ["2017-03-17"], users: ["1000", "1001", "10037", "1041"]))
    }

    @Test func healthAppPattern() throws {
        let format = try described(
            """
            formats:
              healthapp:
                pattern: '%{ts}|%{component}|%{pid}|%{message}'
                time_format: '%Y%m%d-%H:%M:%S:%f'
                timezone: Asia/Shanghai
                fields: { timestamp: ts, user: uid, event: component }
            """.replacingOccurrences(of: "user: uid, ", with: ""))
        #expect(tally(try fixture("loghub_HealthApp_200.log"), format) == Tally(records: 200, days: ["2017-12-23"]))
    }

    @Test func linuxSyslogBuiltInWithTheFilesYear() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("messages")
        try FileManager.default.copyItem(atPath: try fixture("loghub_Linux_200.log"), toPath: path)
        // Last written on 2005-12-31: the June lines are from 2005.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_136_000_000)], ofItemAtPath: path)
        let days = (14...22).map { "2005-06-\($0)" }
        #expect(tally(path, .auto) == Tally(records: 200, days: days, users: ["0", "guest", "root"]))
        #expect(tally(path, .syslog) == Tally(records: 200, days: days, users: ["0", "guest", "root"]))
    }

    @Test func openSSHRegex() throws {
        let format = try described(
            #"""
            formats:
              sshd:
                regex: '^(?P<ts>\w{3} +\d+ \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: (?:.*?[Ii]nvalid user (?P<user>\S+))?'
                time_format: '%b %e %H:%M:%S'
                timezone: Asia/Shanghai
                year: 2017
            """#)
        #expect(
            tally(try fixture("loghub_OpenSSH_200.log"), format)
                == Tally(
                    records: 200, days: ["2017-12-10"],
                    users: ["0", "1234", "chen", "inspur", "pgadmin", "support", "test", "test9", "utsims", "webmaster"]))
    }

    /// elastic/beats' `auth.log` test file (Apache-2.0): sshd lines read by a regex, the other
    /// programs' lines rejected as not matching. Counts computed with Python's `re`.
    @Test func openSSHRegexOnAnApacheLicensedAuthLog() throws {
        let format = try described(
            #"""
            formats:
              sshd:
                regex: '^(?P<ts>\w{3} +\d+ \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: (?:.*?(?:[Ii]nvalid user|for) (?P<user>\S+))?'
                time_format: '%b %e %H:%M:%S'
                timezone: Asia/Shanghai
                year: 2017
            """#)
        #expect(
            tally(try fixture("beats_system_auth.log"), format)
                == Tally(
                    records: 5, rejected: 5, days: ["2017-02-19", "2017-02-20", "2017-02-21", "2017-02-23"],
                    users: ["root", "test", "vagrant"]))
    }

    @Test func apacheErrorLogPattern() throws {
        let format = try described(
            """
            formats:
              apache_error:
                pattern: '[%{ts}] [%{level}] %{message}'
                time_format: '%a %b %d %H:%M:%S %Y'
                timezone: UTC
            """)
        #expect(tally(try fixture("loghub_Apache_200.log"), format) == Tally(records: 200, days: ["2005-12-04"]))
    }

    /// A real nginx log in a custom `log_format` (ingress-nginx's `upstreaminfo`, from
    /// elastic/beats' test data, Apache-2.0), the directive pasted as nginx.conf has it. Records,
    /// days and users computed with Python (see Fixtures/README.md), not by Custody.
    @Test func nginxIngressControllerLog() throws {
        let format = try described(
            #"""
            formats:
              ingress:
                nginx: >-
                  log_format upstreaminfo
                      '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                      '$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr '
                      '$upstream_response_length $upstream_response_time $upstream_status $req_id';
            """#)
        let path = try fixture("beats_nginx_ingress_controller.log")
        // Times are UTC; days are the policy's (Asia/Shanghai): 2022-08-24 18:05Z is the 25th.
        #expect(
            tally(path, format)
                == Tally(records: 29, days: ["2020-02-07", "2022-08-25"], users: ["remote_monitoring_user"]))
        // The user taken from the request's query instead (`?address=delhi+technological+university`).
        let byQuery = try described(
            #"""
            formats:
              ingress:
                nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id'
                fields: { user: query.address }
            """#)
        #expect(
            tally(path, byQuery)
                == Tally(records: 29, days: ["2020-02-07", "2022-08-25"], users: ["delhi technological university"]))
    }

    @Test func criContainerLog() throws {
        let dir = try TemporaryDirectory()
        var lines: [String] = []
        for k in 0..<30 {
            let time = String(format: "2026-11-%02dT%02d:00:00.123456789Z", 1 + k % 3, k % 24)
            switch k % 3 {
            case 0: lines.append(#"\#(time) stdout F {"ts":"\#(time)","user":"u\#(k % 4)","event":"post"}"#)
            case 1: lines.append("\(time) stderr F GET /healthz 200")
            default:
                lines.append(#"\#(time) stdout P {"user":"u\#(k % 5)","#)
                lines.append(#"\#(time) stdout F "event":"view"}"#)
            }
        }
        let path = try dir.write("pod.log", lines.joined(separator: "\n") + "\n")
        // 30 records (the partial lines join their final parts); times are UTC, days Shanghai's.
        #expect(
            tally(path, .auto)
                == Tally(
                    records: 30, days: ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"],
                    users: ["u0", "u1", "u2", "u3", "u4"]))
    }

    @Test func nginxWithUserHeader() throws {
        let dir = try TemporaryDirectory()
        var lines: [String] = []
        for k in 0..<50 {
            let user = k % 7 == 0 ? "-" : "app-\(k % 6)"
            let request = k % 2 == 0 ? "POST /api/posts?draft=0 HTTP/2.0" : "GET /api/feed HTTP/2.0"
            lines.append(
                #"203.0.113.\#(k) - - [\#(String(format: "%02d", 1 + k % 5))/Nov/2026:08:\#(String(format: "%02d", k)):00 +0800] "\#(request)" 200 \#(k * 10) "https://example.com/" "Mozilla/5.0" "\#(user)""#
            )
        }
        let path = try dir.write("access.log", lines.joined(separator: "\n") + "\n")
        let format = try described(
            """
            formats:
              web:
                nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_user_id"'
                fields: { user: http_x_user_id }
            """)
        #expect(
            tally(path, format)
                == Tally(
                    records: 50, days: (1...5).map { "2026-11-0\($0)" },
                    users: (0..<6).map { "app-\($0)" }))
        // As plain combined, the same lines carry no user at all (the issue's real Apache log).
        #expect(tally(path, .combined).users.isEmpty)
    }
}
