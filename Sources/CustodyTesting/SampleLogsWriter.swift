import CustodyCore
import Foundation

/// Writes the repository's `SampleLogs/logs` tree: 70 days of activity for 300 users in every
/// supported shape (gzip single- and multi-member, plain JSON lines, nginx combined plain and
/// gzip, logfmt) with planted violations. `SampleLogs/README.md` documents the expected result.
public enum SampleLogsWriter {
    public static let firstDay = CivilDay(year: 2026, month: 9, day: 10)!
    public static let days = 70
    public static let asOf = CivilDay(year: 2026, month: 11, day: 19)!
    public static let silentDay = CivilDay(year: 2026, month: 10, day: 3)!

    public static var scenario: ActivityGenerator.Scenario {
        ActivityGenerator.Scenario(
            firstDay: firstDay, days: days, users: 300, eventsPerDay: 200, seed: 2016,
            lateVerifiers: 3, neverVerified: 4, silentDays: [silentDay])
    }

    /// A user who posts late on 31 October (in the October file) and verifies the next morning
    /// (in the November file): the verification sits in a later file than the violation.
    public static var plantedEvents: [ActivityEvent] {
        func at(_ text: String) -> Int64 { TimestampParser.parse(text)! }
        return [
            ActivityEvent(millis: at("2026-10-31T22:40:00+08:00"), user: "u09001", event: "register"),
            ActivityEvent(millis: at("2026-10-31T23:20:00+08:00"), user: "u09001", event: "post"),
            ActivityEvent(millis: at("2026-10-31T23:45:00+08:00"), user: "u09001", event: "comment"),
            ActivityEvent(millis: at("2026-11-01T09:05:00+08:00"), user: "u09001", event: "verify_phone"),
        ]
    }

    /// Every event the sample holds, in time order (the oracle's input).
    public static func events() -> [ActivityEvent] {
        (ActivityGenerator(scenario).events() + plantedEvents).enumerated()
            .sorted { ($0.element.millis, $0.offset) < ($1.element.millis, $1.offset) }.map(\.element)
    }

    /// The lines planted as bad input: (file relative to the logs directory, line number, text).
    public static let badLines: [(file: String, line: Int, text: String)] = [
        ("app/2026-11-early.jsonl", 120, "{\"ts\":\"2026-11-03T10:00:00+08:00\",\"user\":\"u00042\",\"event\":\"po"),
        ("nginx/access.log", 57, "GET /health 200"),
        ("worker/messages.logfmt", 30, "ts=2026-09-20T10:00:00 user=u00007 event=message msg=\"no zone\""),
    ]

    /// Writes the tree under `directory` (created if needed).
    public static func write(to directory: String) throws {
        let fm = FileManager.default
        for sub in ["app", "nginx", "worker"] {
            try fm.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        let offset = 8 * 3600 * 1000
        func localDay(_ e: ActivityEvent) -> CivilDay {
            CivilDay(daysSinceEpoch: Int32((e.millis + Int64(offset)).floorDiv(86_400_000)))
        }
        let all = events()
        let messages = all.filter { $0.event == "message" }
        let rest = all.filter { $0.event != "message" }
        let oct1 = CivilDay(year: 2026, month: 10, day: 1)!
        let nov1 = CivilDay(year: 2026, month: 11, day: 1)!
        let nov10 = CivilDay(year: 2026, month: 11, day: 10)!
        let nov15 = CivilDay(year: 2026, month: 11, day: 15)!

        let jsonl = LogLineRenderer(format: .jsonl)
        let combined = LogLineRenderer(format: .combined)
        let logfmt = LogLineRenderer(format: .logfmt)

        func lines(_ events: [ActivityEvent], _ renderer: LogLineRenderer, file: String) -> [String] {
            var out = events.enumerated().map { renderer.line($0.element, sequence: $0.offset) }
            for bad in badLines where bad.file == file { out.insert(bad.text, at: bad.line - 1) }
            return out
        }

        let september = rest.filter { localDay($0) < oct1 }
        try writeGzip(lines(september, jsonl, file: "app/2026-09.jsonl.gz"), to: directory + "/app/2026-09.jsonl.gz", membersEvery: nil)
        let october = rest.filter { localDay($0) >= oct1 && localDay($0) < nov1 }
        // One member per week, as a log shipper appending compressed batches would write.
        try writeGzip(
            lines(october, jsonl, file: "app/2026-10.jsonl.gz"), to: directory + "/app/2026-10.jsonl.gz",
            membersEvery: october.count / 4 + 1)
        let novEarly = rest.filter { localDay($0) >= nov1 && localDay($0) < nov10 }
        try writePlain(lines(novEarly, jsonl, file: "app/2026-11-early.jsonl"), to: directory + "/app/2026-11-early.jsonl")
        let nginxOld = rest.filter { localDay($0) >= nov10 && localDay($0) < nov15 }
        try writeGzip(lines(nginxOld, combined, file: "nginx/access.log.1.gz"), to: directory + "/nginx/access.log.1.gz", membersEvery: nil)
        let nginxNew = rest.filter { localDay($0) >= nov15 }
        try writePlain(lines(nginxNew, combined, file: "nginx/access.log"), to: directory + "/nginx/access.log")
        try writePlain(lines(messages, logfmt, file: "worker/messages.logfmt"), to: directory + "/worker/messages.logfmt")
    }

    static func writePlain(_ lines: [String], to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func writeGzip(_ lines: [String], to path: String, membersEvery: Int?) throws {
        let writer = try GzipWriter(path: path, level: 9)
        for (i, line) in lines.enumerated() {
            if let every = membersEvery, i > 0, i % every == 0 { try writer.finishMember() }
            try writer.write(line + "\n")
        }
        try writer.close()
    }
}
