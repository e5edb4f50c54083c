import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The benchmark's varied JSON file (`custody-loggen bench-entropy --varied`): four shapes of
/// line as apps behind one gateway write them. Every line is a record, whichever walk reads it,
/// and each shape is there.
@Suite("JSON lines parser: the varied benchmark lines")
struct VariedJSONLinesTests {
    @Test func everyLineIsARecordWithEitherWalk() throws {
        let walks = try WalkComparison(policy: try loadPolicy())
        var lines: [String] = []
        EntropyLogGenerator(users: 2_000, lines: 8_000, seed: 3, varied: true).forEachLine { lines.append($0) }
        var users = Set<String>()
        for line in lines {
            guard case .record(_, let user?, let event?) = walks.compare(Array(line.utf8)).verdict else {
                Issue.record("not a record with a user and an event: \(line)")
                continue
            }
            users.insert(user)
            #expect(!event.isEmpty)
        }
        #expect(walks.disagreements.prefix(3) == [])
        #expect(users.count > 1_000)
        #expect(users.contains { $0.count == 36 } && users.contains { $0.count < 12 })
        #expect(lines.contains { $0.hasPrefix(#"{"ts": "#) && $0.contains(#""client": {"#) })
        #expect(lines.contains { $0.hasPrefix(#"{"@timestamp":"#) && $0.contains(#""tags":["#) })
        #expect(lines.contains { $0.contains(#"\"hi\""#) })
        #expect(lines.contains { !$0.hasPrefix(#"{"ts""#) && !$0.hasPrefix(#"{"@timestamp""#) })
    }
}
