import CustodyCore
import CustodyStore
import Foundation
import Testing

/// `StateAudit` merges the state's users into the registry a batch at a time (for memory): the
/// report must not depend on where the batches end.
@Suite struct StateAuditBatchTests {
    @Test func reportIsTheSameForEveryBatchSize() throws {
        let fixture = try StateFixture.withSampleLogs()
        let database = try StateDatabase(directory: fixture.state, create: false)
        let vault = try Vault(directory: fixture.state + "/vault", create: false)
        let policy = try PolicyLoader.load(path: fixture.policy)
        let asOf = CivilDay(iso: "2026-11-19")!
        let whole = try StateAudit.report(database: database, vault: vault, policy: policy, asOf: asOf, since: nil)
        // Enough users and violators that small batches cut between them.
        #expect(whole.realName.usersSeen > 7)
        #expect(!whole.realName.violatingUsers.isEmpty)
        for batch in [1, 2, 7, whole.realName.usersSeen, whole.realName.usersSeen + 1] {
            let report = try StateAudit.report(database: database, vault: vault, policy: policy, asOf: asOf, since: nil, userBatch: batch)
            #expect(report.json.rendered() == whole.json.rendered(), "batch \(batch)")
        }
    }
}
