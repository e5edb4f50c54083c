import CustodyCore
import Foundation
import GRDB
import Testing

/// The state's `users` rows across runs: appended by key in the order users are first seen,
/// updated in place when a later file moves a verification or an uncovered publish earlier, and
/// a state written with the earlier name-keyed table is migrated and carried on.
@Suite struct StateUserRowsTests {
    private static func line(_ time: String, _ user: String, _ event: String) -> String {
        #"{"ts":"2026-11-10T\#(time):00Z","user":"\#(user)","event":"\#(event)"}"# + "\n"
    }

    /// `p` publishes unverified, then verifies earlier in a later file; `v` verifies again earlier;
    /// `n` is new in the second file; `w` verifies in the first file and is seen again later; `q`
    /// publishes before verifying, then a later file's earlier verification covers that publish.
    private static let first =
        line("10:00", "p", "post") + line("09:00", "v", "verify_phone") + line("12:00", "v", "post")
        + line("09:30", "w", "verify_phone") + line("06:00", "q", "post") + line("09:00", "q", "verify_phone")
    private static let second =
        line("08:00", "p", "verify_phone") + line("07:00", "v", "verify_phone")
        + line("11:00", "n", "post") + line("11:30", "w", "verify_phone") + line("05:00", "q", "verify_phone")

    private static func spans(_ fixture: StateFixture, of user: String) throws -> Int {
        try fixture.openState().read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_publishes WHERE user = ?", arguments: [user]) ?? 0
        }
    }

    private static func millis(_ time: String) -> Int64 {
        TimestampParser.parse("2026-11-10T\(time):00Z")!
    }

    /// The rows: key, and by name its verification and first uncovered publish time.
    private static func rows(_ fixture: StateFixture) throws -> (keys: [String: Int64], values: [String: String]) {
        try fixture.openState().read { db in
            var keys: [String: Int64] = [:]
            var values: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, user, verified_at_ms, first_unverified_publish_ms FROM users") {
                let name: String = row[1]
                #expect(keys[name] == nil, "\(name) stored twice")
                keys[name] = row[0]
                values[name] = "\((row[2] as Int64?).map(String.init) ?? "-") \((row[3] as Int64?).map(String.init) ?? "-")"
            }
            return (keys, values)
        }
    }

    private static func realName(_ result: CustodyProcess.Result) throws -> NSDictionary {
        NSDictionary(dictionary: try #require(try CustodyProcess.json(result)["real_name"] as? [String: Any], "\(result.stderr)"))
    }

    @Test func laterFilesUpdateRowsInPlaceAndAppendNewUsers() throws {
        let fixture = try StateFixture()
        try fixture.append(Self.first, to: "a.jsonl")
        _ = try fixture.custody("run")
        let before = try Self.rows(fixture)
        #expect(Set(before.keys.values) == [1, 2, 3, 4])
        #expect(
            before.values == [
                "p": "- \(Self.millis("10:00"))", "v": "\(Self.millis("09:00")) -", "w": "\(Self.millis("09:30")) -",
                "q": "\(Self.millis("09:00")) \(Self.millis("06:00"))",
            ])
        #expect(try Self.spans(fixture, of: "q") == 1)
        #expect(try Self.spans(fixture, of: "p") == 1)

        try fixture.append(Self.second, to: "b.jsonl")
        let run = try fixture.custody("run", ["--format", "json"])
        let after = try Self.rows(fixture)
        // Known users keep their keys; the new one is appended.
        #expect(after.keys == before.keys.merging(["n": 5]) { old, _ in old })
        #expect(
            after.values == [
                // p's first uncovered publish stays recorded: the audit settles it against the verification.
                "p": "\(Self.millis("08:00")) \(Self.millis("10:00"))", "v": "\(Self.millis("07:00")) -",
                "w": "\(Self.millis("09:30")) -", "n": "- \(Self.millis("11:00"))",
                "q": "\(Self.millis("05:00")) \(Self.millis("06:00"))",
            ])
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", "2026-11-19", "--format", "json"])
        let name = try Self.realName(run)
        #expect(name == (try Self.realName(check)))
        #expect(name["violating_users"] as? Int == 1)  // n only
        // The earlier verification covers q's stored span; p's stays for the audit to settle.
        #expect(try Self.spans(fixture, of: "q") == 0)
        #expect(try Self.spans(fixture, of: "p") == 1)
    }

    /// No index keeps names unique any more: a user stored twice (a state changed by hand) stops
    /// the run before it reads anything, rather than merging into misaligned rows.
    @Test func aUserStoredTwiceStopsTheRun() throws {
        let fixture = try StateFixture()
        try fixture.append(Self.first, to: "a.jsonl")
        _ = try fixture.custody("run")
        try fixture.openState().write { db in
            try db.execute(sql: "INSERT INTO users (user, verified_at_ms) VALUES ('p', 1)")
        }
        try fixture.append(Self.second, to: "b.jsonl")
        let run = try fixture.custody("run")
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("holds a user twice"))
        let files = try fixture.openState().read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM log_files") }
        #expect(files == 1)
    }

    /// A state from before the integer key: its users keep their values, get keys in the order
    /// they were stored, and the next run updates and appends as on a new state.
    @Test func nameKeyedUsersTableIsMigratedAndCarriedOn() throws {
        let fixture = try StateFixture()
        try fixture.append(Self.first, to: "a.jsonl")
        _ = try fixture.custody("run")
        let original = try Self.rows(fixture)
        try fixture.openState().write { db in
            // The table as the earlier migrations left it, rows stored in the reverse order.
            try db.execute(
                sql: """
                    CREATE TABLE users_by_name (
                      user TEXT PRIMARY KEY, verified_at_ms INTEGER, first_unverified_publish_ms INTEGER,
                      first_unverified_publish_segment INTEGER, first_unverified_publish_line INTEGER
                    );
                    INSERT INTO users_by_name SELECT user, verified_at_ms, first_unverified_publish_ms,
                      first_unverified_publish_segment, first_unverified_publish_line FROM users ORDER BY id DESC;
                    DROP TABLE users;
                    ALTER TABLE users_by_name RENAME TO users;
                    DELETE FROM grdb_migrations WHERE identifier = '2026-11-29 users by integer id';
                    """)
        }
        try fixture.append(Self.second, to: "b.jsonl")
        let run = try fixture.custody("run", ["--format", "json"])
        #expect(run.status == 1, "\(run.stderr)")
        let migrated = try Self.rows(fixture)
        #expect(migrated.keys == original.keys.mapValues { 5 - $0 }.merging(["n": 5]) { old, _ in old })
        #expect(
            migrated.values == [
                "p": "\(Self.millis("08:00")) \(Self.millis("10:00"))", "v": "\(Self.millis("07:00")) -",
                "w": "\(Self.millis("09:30")) -", "n": "- \(Self.millis("11:00"))",
                "q": "\(Self.millis("05:00")) \(Self.millis("06:00"))",
            ])
        let check = try CustodyProcess.run(["check", fixture.logs, "--policy", fixture.policy, "--as-of", "2026-11-19", "--format", "json"])
        #expect(try Self.realName(run) == (try Self.realName(check)))
        #expect(try Self.spans(fixture, of: "q") == 0)
    }
}
