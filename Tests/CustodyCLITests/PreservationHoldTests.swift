import CustodyCore
import Foundation
import Testing

/// 18 U.S.C. § 2703(f): a US preservation hold lasts 90 days, extendable once by 90.
@Suite struct PreservationHoldTests {
    func preserve(_ fixture: StateFixture, id: String, jurisdiction: String, received: String, from: String, to: String) throws {
        let added = try fixture.sub([
            "request", "add", "--id", id, "--received", received, "--authority", "FBI Field Office",
            "--jurisdiction", jurisdiction, "--legal-basis", "18 U.S.C. 2703(f) letter", "--process-type", "preservation",
            "--user", "u00001", "--from", from, "--to", to,
        ])
        try #require(added.status == 0, "\(added.stderr)")
    }

    @Test func aUSPreservationHoldExpiresAndExtendsOnce() throws {
        let fixture = try StateFixture.withSampleLogs()
        try preserve(fixture, id: "US-P-1", jurisdiction: "US", received: "2026-11-20T09:00:00+08:00", from: "2026-10-25", to: "2026-11-05")
        let list = try fixture.sub(["hold", "list"], asOf: "2026-11-19")
        #expect(list.stdout.contains("expires 2027-02-18T01:00:00Z"), "\(list.stdout)")
        let extended = try fixture.sub(["hold", "extend", "US-P-1"])
        #expect(extended.status == 0, "\(extended.stderr)")
        #expect(extended.stdout.contains("2027-05-19T01:00:00Z"))
        #expect(try fixture.sub(["hold", "list"], asOf: "2026-11-19").stdout.contains("expires 2027-05-19T01:00:00Z"))
        let again = try fixture.sub(["hold", "extend", "US-P-1"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("one 90-day extension"))
        // A preservation request of another jurisdiction does not lapse.
        try preserve(fixture, id: "CN-P-1", jurisdiction: "CN", received: "2026-11-20T09:00:00+08:00", from: "2026-10-25", to: "2026-11-05")
        let cn = try fixture.sub(["hold", "extend", "CN-P-1"])
        #expect(cn.status == 2)
        #expect(try fixture.custody("verify").status == 1)
    }

    @Test func aLapsedHoldNoLongerKeepsObjectsFromPurge() throws {
        for (jurisdiction, kept) in [("US", false), ("CN", true)] {
            let fixture = try StateFixture()
            try fixture.append(
                StateFixture.lines(StateFixture.events(days: 5, firstDay: CivilDay(year: 2025, month: 3, day: 1)!)), to: "old.jsonl")
            _ = try fixture.custody("run", asOf: "2025-03-10")
            try preserve(
                fixture, id: "P-1", jurisdiction: jurisdiction, received: "2025-03-12T09:00:00Z", from: "2025-03-01", to: "2025-03-05")
            #expect(
                try fixture.sub(["hold", "list"], asOf: "2026-11-19").stdout.contains(
                    jurisdiction == "US" ? "LAPSED 2025-06-10T09:00:00Z" : "since"))
            let purge = try fixture.custody("purge", ["--apply"], asOf: "2026-11-19")
            #expect(purge.status == 0, "\(purge.stderr)")
            #expect(purge.stdout.contains("HELD by P-1") == kept, "\(jurisdiction): \(purge.stdout)")
            #expect(purge.stdout.contains("deleted") == !kept, "\(jurisdiction): \(purge.stdout)")
        }
    }
}
