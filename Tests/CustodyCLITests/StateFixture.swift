import CustodyCore
import CustodyTesting
import Foundation
import GRDB
import Testing

/// A temporary deployment: a logs directory, a `custody.yaml`, and helpers to run `custody`
/// against it and to read what the state holds.
final class StateFixture {
    let dir: TemporaryDirectory
    let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-apps.yaml").path
    var logs: String { dir.path("logs") }
    var config: String { dir.path("custody.yaml") }
    var state: String { dir.path("state") }

    /// The ledger's signing key (`ledger_key` defaults to `ledger.key` beside the configuration).
    var ledgerKey: String { dir.path("ledger.key") }

    /// With `ledgerKey`, the signing key is created (`custody ledger init`) as an operator would.
    init(extraConfig: String = "", ledgerKey: Bool = true) throws {
        dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("logs"), withIntermediateDirectories: true)
        try dir.write(
            "custody.yaml",
            """
            sources:
              - path: logs
            policy: \(policy)
            state_directory: state
            metrics_file: custody.prom
            \(extraConfig)
            """)
        // Not required to succeed: some tests write a configuration that is meant to fail.
        if ledgerKey { _ = try CustodyProcess.run(["ledger", "init", "--config", config]) }
    }

    /// A state holding the repository's sample logs, ingested once.
    static func withSampleLogs(extraConfig: String = "") throws -> StateFixture {
        let fixture = try StateFixture(extraConfig: extraConfig)
        try FileManager.default.removeItem(atPath: fixture.logs)
        try FileManager.default.copyItem(
            atPath: CustodyProcess.repositoryRoot.appendingPathComponent("SampleLogs/logs").path, toPath: fixture.logs)
        let run = try fixture.custody("run")
        try #require(run.status == 1, "\(run.stderr)")
        return fixture
    }

    /// `custody COMMAND --config … --as-of …` plus arguments.
    func custody(_ command: String, _ arguments: [String] = [], asOf: String = "2026-11-19") throws -> CustodyProcess.Result {
        try CustodyProcess.run([command, "--config", config, "--as-of", asOf] + arguments)
    }

    /// JSON lines for `events`, rendered as the sample generator does.
    static func lines(_ events: [ActivityEvent], from offset: Int = 0) -> String {
        let renderer = LogLineRenderer(format: .jsonl)
        return events.enumerated().map { renderer.line($0.element, sequence: offset + $0.offset) + "\n" }.joined()
    }

    static func events(
        days: Int = 10, users: Int = 30, perDay: Int = 40, seed: UInt64 = 5,
        firstDay: CivilDay = CivilDay(year: 2026, month: 11, day: 1)!
    ) -> [ActivityEvent] {
        ActivityGenerator(
            .init(
                firstDay: firstDay, days: days, users: users,
                eventsPerDay: perDay, seed: seed, lateVerifiers: 2, neverVerified: 1)
        ).events()
    }

    func append(_ text: String, to name: String) throws {
        let path = dir.path("logs/" + name)
        if !FileManager.default.fileExists(atPath: path) { try Data().write(to: URL(fileURLWithPath: path)) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// Runs `body` while another process holds the state directory's lock, the way a running
    /// custody does (`flock` on `state/custody.lock`).
    func whileTheLockIsHeld<T>(_ body: () throws -> T) throws -> T {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [state + "/custody.lock", "sleep", "5"]
        try holder.run()
        defer { holder.terminate() }
        // Wait until the holder really has the lock (`flock -n` fails while it is held).
        for _ in 0..<50 {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            probe.arguments = ["-n", state + "/custody.lock", "true"]
            try probe.run()
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try body()
    }

    /// What the state says, independent of how many runs built it: per-day counts, users and
    /// their verification, files and how far they were read, vault objects.
    func digest() throws -> String {
        let queue = try openState()
        return try queue.read { db in
            var out = ""
            for row in try Row.fetchAll(db, sql: "SELECT day, SUM(records) FROM daily_records GROUP BY day ORDER BY day") {
                out += "day \(row[0] as String) \(row[1] as Int)\n"
            }
            for row in try Row.fetchAll(db, sql: "SELECT user, verified_at_ms FROM users ORDER BY user") {
                out += "user \(row[0] as String) \((row[1] as Int64?).map(String.init) ?? "-")\n"
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT fingerprint, bytes_read, lines_read, records, rejected_lines FROM log_files ORDER BY fingerprint")
            {
                out += "file \(row[0] as String) \(row[1] as Int) \(row[2] as Int) \(row[3] as Int) \(row[4] as Int)\n"
            }
            for sha in try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects ORDER BY sha256") { out += "object \(sha)\n" }
            return out
        }
    }

    /// The state database, waiting for a running `custody` (a daemon's tick) to let go of it
    /// rather than failing at once with "database is locked".
    func openState() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: state + "/state.db", configuration: configuration)
    }

    func totalRecords() throws -> Int {
        let queue = try openState()
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(records), 0) FROM daily_records") ?? 0 }
    }
}
