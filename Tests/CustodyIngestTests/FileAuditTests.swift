import CustodyCore
import CustodyIngest
import CustodyTesting
import Testing

@Suite("FileAudit")
struct FileAuditTests {
    let policy = try! loadPolicy()

    func jsonl(_ ts: String, _ user: String?, _ event: String) -> String {
        let u = user.map { #","user":"\#($0)""# } ?? ""
        return #"{"ts":"\#(ts)"\#(u),"event":"\#(event)"}"#
    }

    @Test func daysAreCountedInThePolicyZone() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write(
            "d.jsonl",
            [
                jsonl("2026-10-02T15:59:59Z", nil, "view"),
                jsonl("2026-10-02T16:00:00Z", nil, "view"),
                jsonl("2026-10-03T00:00:00+08:00", "a", "view"),
                jsonl("2026-10-01T00:00:00Z", "a", "view"),
            ].joined(separator: "\n"))
        let audit = FileAudit.scan(path: path, index: 3, policy: policy, format: .auto)
        let oct2 = CivilDay(iso: "2026-10-02")!.daysSinceEpoch
        #expect(audit.index == 3)
        #expect(audit.records == 4)
        #expect(audit.dayCounts == [oct2 - 1: 1, oct2: 1, oct2 + 1: 2])
        #expect(audit.timeRange == ms("2026-10-01T00:00:00Z")...ms("2026-10-02T16:00:00Z"))
        #expect(audit.users.map(\.user) == ["a"])
    }

    @Test func userActivityWithinOneFile() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write(
            "u.jsonl",
            [
                jsonl("2026-10-10T10:00:00Z", "a", "post"),  // before a's verification: pending
                jsonl("2026-10-10T12:00:00Z", "a", "verify_phone"),
                jsonl("2026-10-10T11:00:00Z", "a", "comment"),  // earlier than the verification line's time: pending
                jsonl("2026-10-10T12:00:00Z", "a", "post"),  // exactly at verification: covered
                jsonl("2026-10-10T13:00:00Z", "a", "upload"),  // after: covered
                jsonl("2026-10-10T09:00:00Z", "b", "verify_email"),  // a method the policy does not accept
                jsonl("2026-10-10T10:00:00Z", "b", "post"),
                jsonl("2026-10-10T10:00:00Z", "c", "register"),
                jsonl("2026-10-10T08:00:00Z", "d", "verify_id"),
                jsonl("2026-10-10T07:00:00Z", "d", "verify_phone"),
            ].joined(separator: "\n"))
        let audit = FileAudit.scan(path: path, index: 0, policy: policy, format: .jsonl)
        let byUser = Dictionary(uniqueKeysWithValues: audit.users.map { ($0.user, $0) })
        #expect(byUser.keys.sorted() == ["a", "b", "c", "d"])

        let a = try #require(byUser["a"])
        #expect(a.verifiedAt == ms("2026-10-10T12:00:00Z"))
        #expect(a.pending.count == 2)
        #expect(a.pending.exact.sorted() == [ms("2026-10-10T10:00:00Z"), ms("2026-10-10T11:00:00Z")])
        #expect(a.firstPending == EventLocation(millis: ms("2026-10-10T10:00:00Z"), file: 0, line: 1))

        let b = try #require(byUser["b"])
        #expect(b.verifiedAt == nil)
        #expect(b.pending.count == 1)
        #expect(b.firstPending?.line == 7)

        #expect(byUser["c"]?.verifiedAt == nil)
        #expect(byUser["c"]?.pending.isEmpty == true)
        // The earliest accepted verification counts.
        #expect(byUser["d"]?.verifiedAt == ms("2026-10-10T07:00:00Z"))
    }

    @Test func recountCountsPublishesStrictlyBeforeTheGivenTime() throws {
        let dir = try TemporaryDirectory()
        var lines: [String] = []
        for minute in 0..<30 {
            lines.append(jsonl("2026-10-10T10:\(minute < 10 ? "0" : "")\(minute):00Z", "a", minute % 2 == 0 ? "post" : "view"))
            lines.append(jsonl("2026-10-10T10:\(minute < 10 ? "0" : "")\(minute):00Z", "b", "comment"))
        }
        let path = try dir.write("r.jsonl", lines.joined(separator: "\n"))
        let counts = FileAudit.recount(
            path: path, policy: policy, format: .auto,
            verifiedAt: [
                "a": ms("2026-10-10T10:10:00Z"),  // posts at minutes 0, 2, 4, 6, 8
                "b": ms("2026-10-10T10:20:00Z"),  // comments at minutes 0 … 19
                "zed": ms("2026-10-10T11:00:00Z"),
            ])
        #expect(counts == ["a": 5, "b": 20, "zed": 0])
    }

    @Test func manyPublishesFallBackToASpan() throws {
        let dir = try TemporaryDirectory()
        let lines = (10..<30).map { jsonl("2026-10-10T10:\($0):00Z", "a", "post") }
        let audit = FileAudit.scan(path: try dir.write("s.jsonl", lines.joined(separator: "\n")), index: 1, policy: policy, format: .auto)
        let a = try #require(audit.users.first)
        #expect(a.pending.count == 20)
        #expect(!a.pending.isExact)
        #expect(a.pending.earliest == ms("2026-10-10T10:10:00Z"))
        #expect(a.pending.latest == ms("2026-10-10T10:29:00Z"))
    }
}
