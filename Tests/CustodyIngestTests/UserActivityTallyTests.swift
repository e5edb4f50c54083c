import CustodyCore
import Testing

@testable import CustodyIngest

/// `finish()` gives every user's entry in first-seen order, whether it builds them on the
/// calling thread or, with many users, in two halves on two threads.
@Suite("UserActivityTally finish")
struct UserActivityTallyTests {
    /// User `i` publishes before verifying (i % 3 == 0), verifies before publishing (1), or is
    /// only seen (2); each user's records come before the next user's, so user `i` has id `i`.
    func tally(users: Int) -> UserActivityTally {
        let tally = UserActivityTally(file: 3)
        var line = 0
        func add(_ name: String, _ role: EventRole?, _ millis: Int64) {
            line += 1
            var bytes = Array(name.utf8)
            bytes.withUnsafeMutableBufferPointer { buffer in
                let user = UnsafeBufferPointer(buffer)
                tally.add(user: user, prefix: KeyHash.prefixWord(user), role: role, millis: millis, line: line)
            }
        }
        for i in 0..<users {
            let name = "user-\(i)"
            switch i % 3 {
            case 0:
                add(name, .publish, Int64(i))
                add(name, .acceptedVerification, 1_000_000 + Int64(i))
            case 1:
                add(name, .acceptedVerification, Int64(i))
                add(name, .publish, 1_000_000 + Int64(i))
            default:
                add(name, .other, Int64(i))
            }
        }
        return tally
    }

    @Test(arguments: [10, 2 * UserActivityTally.usersPerFinishThread + 5])
    func everyUserInFirstSeenOrder(users: Int) {
        let tally = tally(users: users)
        let activities = tally.finish()
        #expect(activities.count == users)
        var wrong = 0
        for (i, activity) in activities.enumerated() {
            var right = activity.user == "user-\(i)"
            switch i % 3 {
            case 0:
                right = right && activity.verifiedAt == 1_000_000 + Int64(i) && activity.pending.count == 1
                right = right && activity.pending.exact == [Int64(i)]
                right = right && activity.firstPending == EventLocation(millis: Int64(i), file: 3, line: 5 * (i / 3) + 1)
            case 1:
                right = right && activity.verifiedAt == Int64(i) && activity.isOnlySeen == false && activity.pending.isEmpty
            default:
                right = right && activity.isOnlySeen
            }
            if !right { wrong += 1 }
        }
        #expect(wrong == 0)
        // The exact times of pending publishes, kept for settling spans, for the publishers only.
        #expect(tally.pendingTimes.count == (users + 2) / 3)
        #expect(tally.pendingTimes["user-0"] == [0])
        #expect(tally.pendingTimes["user-1"] == nil)
        // In first-seen order, whichever thread collected them.
        #expect(tally.pendingTimes.names == stride(from: 0, to: users, by: 3).map { "user-\($0)" })
        #expect(tally.pendingTimes.times == stride(from: 0, to: users, by: 3).map { [Int64($0)] })
    }
}
