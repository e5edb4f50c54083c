import CustodyCore
import Foundation
import Testing

/// The check report's JSON written one finding at a time must be the very text of the whole
/// value rendered at once.
@Suite("Streamed report JSON")
struct StreamedJSONTests {
    func pieces(_ pairs: [(String, JSONValue)], streaming key: String, items: [[(String, JSONValue)]], chunk: Int) -> [String] {
        var pieces: [String] = []
        JSONValue.writePretty(object: pairs, streaming: key, count: items.count, item: { items[$0] }, chunk: chunk) { pieces.append($0) }
        return pieces
    }

    @Test(arguments: [0, 1, 2, 5])
    func sameTextAsRenderedWhole(count: Int) {
        let items: [[(String, JSONValue)]] = (0..<count).map { i in
            [
                ("rule", .string("r\(i)")), ("message", .string("a \"quoted\"\nline")), ("lines", .array([.int(i), .int(i + 1)])),
                ("nested", .object([("x", .array([.object([("y", .null)])]))])),
            ]
        }
        let head: [(String, JSONValue)] = [
            ("schema", .string("s")), ("days", .array([.string("d1"), .string("d2")])), ("empty", .object([])),
        ]
        let tail: [(String, JSONValue)] = [("compliant", .bool(count == 0))]
        let whole = JSONValue.object(head + [("findings", .array(items.map { .object($0) }))] + tail).rendered()
        for chunk in [1, 7, 1 << 16] {
            let parts = pieces(head + [("findings", .array([]))] + tail, streaming: "findings", items: items, chunk: chunk)
            #expect(parts.joined() == whole)
            // Small chunks hand the text over as it is made, not all at the end.
            if chunk == 1 && count > 1 { #expect(parts.count > count) }
        }
    }

    @Test func findingsLastOrAlone() {
        let items: [[(String, JSONValue)]] = [[("a", .int(1))], [("b", .int(2))]]
        #expect(
            pieces([("findings", .array([]))], streaming: "findings", items: items, chunk: 1).joined()
                == JSONValue.object([("findings", .array(items.map { .object($0) }))]).rendered())
        #expect(pieces([], streaming: "findings", items: [], chunk: 1).joined() == JSONValue.object([]).rendered())
    }

    @Test func checkReportWrittenInPieces() throws {
        let policy = try loadPolicy()
        let asOf = CivilDay(iso: "2026-11-26")!
        let rule = RetentionRule(minimumDays: 60, asOf: asOf, since: nil)
        var registry = RealNameRegistry()
        let t = TimestampParser.parse("2026-10-31T15:20:00Z")!
        var activities: [UserFileActivity] = []
        for i in 0..<50 {
            var pending = PendingPublishes()
            pending.add(t + Int64(i))
            activities.append(
                UserFileActivity(
                    user: "u\(i)\u{1}", verifiedAt: i % 3 == 0 ? t + 10_000 : nil, pending: pending,
                    firstPending: EventLocation(millis: t + Int64(i), file: 0, line: i + 1)))
        }
        registry.merge(fileIndex: 0, activities: activities)
        let report = CheckReport.build(
            policy: policy, rule: rule, files: [CheckReport.FileOutcome(path: "logs/a.jsonl", issues: InputIssues())],
            records: 100, retention: rule.evaluate(daysWithRecords: []), realName: registry.result())
        #expect(report.findings.count > 50)
        let (text, pieces) = report.writtenJSON()
        #expect(text == report.json.rendered())
        #expect(pieces >= 1)
    }
}
