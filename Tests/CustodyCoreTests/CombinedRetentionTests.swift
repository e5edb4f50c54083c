import CustodyCore
import Testing

@Suite("Combined policies")
struct CombinedRetentionTests {
    func policy(_ id: String, minimum: Int, maximum: Int?) -> Policy {
        Policy(
            id: id, title: id, jurisdiction: "XX", timeZoneIdentifier: "UTC",
            retention: .init(minimumDays: minimum, maximumDays: maximum), realName: .init())
    }

    @Test func longestMinimumAndStrictestMaximum() {
        let bounds = CombinedRetention([
            policy("a", minimum: 60, maximum: 180), policy("b", minimum: 184, maximum: nil),
            policy("c", minimum: 0, maximum: 365),
        ])
        #expect(bounds.minimumDays == 184)
        #expect(bounds.minimumPolicy == "b")
        #expect(bounds.maximumDays == 180)
        #expect(bounds.maximumPolicy == "a")
        #expect(bounds.conflicting)
        // Purge never deletes what a minimum still requires.
        #expect(bounds.purgeAfterDays == 184)
    }

    @Test func noMaximumMeansNoPurge() {
        let bounds = CombinedRetention([policy("a", minimum: 60, maximum: nil), policy("b", minimum: 30, maximum: nil)])
        #expect(bounds.maximumDays == nil)
        #expect(bounds.purgeAfterDays == nil)
        #expect(!bounds.conflicting)
        #expect(bounds.minimumPolicy == "a")
    }

    @Test func compatiblePoliciesPurgeAtTheStrictestMaximum() {
        let bounds = CombinedRetention([policy("gdpr", minimum: 0, maximum: 90), policy("cn", minimum: 60, maximum: 180)])
        #expect(bounds.purgeAfterDays == 90)
        #expect(!bounds.conflicting)
    }
}
