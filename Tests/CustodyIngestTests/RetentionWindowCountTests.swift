import CustodyCore
import CustodyIngest
import Foundation
import Testing

/// Violations counted on the days of the retention window, beside those in all records read,
/// including publish spans that cross the window's edge (settled by re-reading the file).
@Suite("Violations in the retention window")
struct RetentionWindowCountTests {
    func post(_ user: String, day: Int, minute: Int) -> String {
        #"{"ts":"2026-10-\#(String(format: "%02d", day))T12:\#(String(format: "%02d", minute)):00+08:00","user":"\#(user)","event":"post"}"#
    }

    @Test(arguments: [1, 2])
    func spansAcrossTheWindowStartAreRecounted(parallelism: Int) async throws {
        let dir = try TemporaryDirectory()
        // Window for --as-of 2026-10-12 with 2 days: 10-10 … 10-11.
        var a: [String] = []
        for minute in 0..<20 { a.append(post("many", day: 9, minute: minute)) }  // before the window
        for minute in 0..<25 { a.append(post("many", day: 10, minute: minute)) }  // in it
        for minute in 0..<3 { a.append(post("few", day: 9, minute: minute)) }
        a.append(post("few", day: 11, minute: 0))
        for minute in 0..<30 { a.append(post("old", day: 8, minute: minute)) }  // never in the window
        a.append(#"{"ts":"2026-10-11T12:00:00+08:00","user":"v","event":"verify_phone"}"#)
        try dir.write("a.jsonl", a.joined(separator: "\n") + "\n")
        // A second file: "many" verifies in the middle of the window's second day's posts.
        var b: [String] = []
        for minute in 0..<20 { b.append(post("many", day: 11, minute: minute)) }
        b.append(#"{"ts":"2026-10-11T12:10:00+08:00","user":"many","event":"verify_phone"}"#)
        try dir.write("b.jsonl", b.joined(separator: "\n") + "\n")
        let policy = try loadPolicy(minimumDays: 2)
        let report = try await runCheck([dir.path], policy: policy, asOf: CivilDay(iso: "2026-10-12")!, parallelism: parallelism)
        // All records: many 20 + 25 + 10 (b, before 12:10), few 4, old 30.
        #expect(report.realName.violatingUsers.map(\.user) == ["few", "many", "old"])
        #expect(report.realName.violatingEvents == 55 + 4 + 30)
        // In the window: many 25 + 10, few 1.
        #expect(report.realName.inRetentionWindow == ViolationCount(users: 2, events: 36))
        #expect(report.json["real_name"]?["in_retention_window"]?["violating_events"] == .int(36))
    }
}
