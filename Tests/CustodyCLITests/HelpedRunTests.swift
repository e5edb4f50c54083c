import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import GRDB
import Logging
import Testing

@testable import CustodyStore

/// `run` hands the rest of a big file's inflating to a read thread with nothing left to read
/// (`DecodeHelpers`): what the state, the vault and the report hold must be what one thread's
/// read leaves.
@Suite(.timeLimit(.minutes(2))) struct HelpedRunTests {
    /// A gzip log over 1 MiB (read on a thread of its own, so it takes help): random session ids.
    func writeBigLog(_ fixture: StateFixture) throws {
        var rng = SplitMix64(seed: 9)
        var text = ""
        for i in 0..<90_000 {
            let user = "u\(rng.next() % 3_000)"
            let event = i % 7 == 0 ? "post" : i % 11 == 0 ? "verify_phone" : "view"
            let day = 1 + i * 9 / 90_000
            let session = String(rng.next(), radix: 16)
            text += #"{"ts":"2026-10-0\#(day)T10:00:00+08:00","user":"\#(user)","event":"\#(event)","session":"\#(session)"}"#
            text += "\n"
        }
        try Data(GzipWriter.compress(Array(text.utf8))).write(to: URL(fileURLWithPath: fixture.dir.path("logs/big.log.gz")))
    }

    func writeSmallLog(_ fixture: StateFixture, _ name: String) throws {
        let text = (0..<5).map { #"{"ts":"2026-10-0\#(1 + $0)T10:00:00+08:00","user":"s\#($0)","event":"view"}"# + "\n" }
        try Data(GzipWriter.compress(Array(text.joined().utf8))).write(to: URL(fileURLWithPath: fixture.dir.path("logs/\(name)")))
    }

    /// The state directory's rows that name what was stored and read.
    func stored(_ state: String) throws -> [String] {
        let database = try StateDatabase(directory: state)
        return try database.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT v.sha256 || '|' || v.size || '|' || v.records || '|' || s.start_offset || '|' || s.end_offset
                    FROM segments s JOIN vault_objects v ON v.sha256 = s.vault_object ORDER BY v.sha256
                    """)
                // The checksum of the decoded bytes as the read passed them on, in order (an adopted
                // gzip file's object is the file itself, whatever order its bytes were seen in).
                + String.fetchAll(db, sql: "SELECT content_checksum FROM log_files ORDER BY first_path")
                + String.fetchAll(db, sql: "SELECT day || '|' || records FROM daily_records ORDER BY day")
        }
    }

    @Test func aHelpedReadStoresAndReportsAsOneThread() async throws {
        let fixture = try StateFixture()
        try writeBigLog(fixture)
        try writeSmallLog(fixture, "a-small.log.gz")
        let size = try FileManager.default.attributesOfItem(atPath: fixture.dir.path("logs/big.log.gz"))[.size] as! Int
        #expect(size > Int(Ingestion.inlineCopyLimit))
        let policy = try PolicyLoader.load(path: fixture.policy)
        let asOf = CivilDay(iso: "2026-11-19")!
        // Two states over the same logs, so that the reports name the same paths.
        func run(state: String, jobs: Int, board: DecodeHelpers, helper: Bool) async throws -> RunSummary {
            let file = fixture.dir.path("custody-\(state).yaml")
            try fixture.dir.write(
                "custody-\(state).yaml", "sources:\n  - path: logs\npolicy: \(fixture.policy)\nstate_directory: \(state)\n")
            let configuration = try CustodyConfiguration.load(path: file)
            let stop = ManagedFlag()
            let ended = DispatchSemaphore(value: 0)
            if helper {
                Thread {
                    while !stop.isSet && !board.helpOne() { usleep(100) }
                    ended.signal()
                }
                .start()
            }
            defer {
                stop.set()
                if helper { ended.wait() }
            }
            return try await IngestionRun.run(
                configuration: configuration, policy: policy, asOf: asOf, jobs: jobs, logger: Logger(label: "test"),
                shouldStop: { false }, helpers: board)
        }
        let alone = DecodeHelpers()
        let expected = try await run(state: "alone", jobs: 1, board: alone, helper: false)
        #expect(alone.handOffs == 0)
        #expect(expected.recordsAdded == 90_005)

        let board = DecodeHelpers()
        let helped = try await run(state: "helped", jobs: 1, board: board, helper: true)
        #expect(board.handOffs == 1)
        #expect(helped.report.json.rendered() == expected.report.json.rendered())
        #expect(try stored(fixture.dir.path("helped")) == stored(fixture.dir.path("alone")))

        // Two jobs: once the small file is read (inline, on the run's own loop) the run starts a
        // helper for the big one. Whether it takes the file over depends on the big read not
        // having ended by then, so only the offer is required here; the hand-off itself is
        // required with one job above.
        let two = DecodeHelpers()
        let both = try await run(state: "two", jobs: 2, board: two, helper: false)
        #expect(two.offers >= 1)
        #expect(both.report.json.rendered() == expected.report.json.rendered())
        #expect(try stored(fixture.dir.path("two")) == stored(fixture.dir.path("alone")))
    }
}

/// A set-once flag for the test's helper thread.
private final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
