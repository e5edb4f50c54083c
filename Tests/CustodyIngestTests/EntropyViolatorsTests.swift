import CustodyTesting
import Foundation
import Testing

/// `custody-loggen bench-entropy --violating-percent`: the share of users whose first event is a
/// post (a real-name violation) is the one asked for; one in a hundred by default.
@Suite("Benchmark generator: users who publish before verifying")
struct EntropyViolatorsTests {
    func firstEvents(percent: Int) throws -> (users: Int, posts: Int) {
        var first: [String: String] = [:]
        try EntropyLogGenerator(users: 4_000, lines: 40_000, seed: 9, violatingPercent: percent).forEachLine { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            let user = try #require(object["user"])
            if first[user] == nil { first[user] = object["event"] }
        }
        return (first.count, first.values.filter { $0 == "post" }.count)
    }

    @Test(arguments: [0, 1, 40, 100])
    func shareOfUsersWhoPostFirst(percent: Int) throws {
        let (users, posts) = try firstEvents(percent: percent)
        #expect(users > 2_000)
        let share = Double(posts) / Double(users) * 100
        #expect(abs(share - Double(percent)) < 3, "\(posts) of \(users) users posted first")
    }
}
