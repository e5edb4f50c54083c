import Crypto
import CustodyCore
import CustodyTesting
import Foundation
import GRDB
import Testing

/// A fresh run over many small files commits them in groups (vault objects made durable
/// together, then one transaction). Killed with SIGKILL at any moment, the state is as before
/// some group; the next run reads the rest, and every file is ingested exactly once.
@Suite(.serialized) struct BatchedCommitCrashTests {
    static let files = 800
    static let asOf = "2026-12-01"

    /// `files` small gzip files of ~30 lines each, in two directories; returns the events.
    @discardableResult
    func writeLogs(into fixture: StateFixture) throws -> [ActivityEvent] {
        let events = StateFixture.events(days: 30, users: 300, perDay: 400, seed: 21)
        let chunk = events.count / Self.files
        for part in 0..<Self.files {
            let slice = part == Self.files - 1 ? Array(events[(part * chunk)...]) : Array(events[(part * chunk)..<((part + 1) * chunk)])
            let directory = fixture.dir.path("logs/d\(part % 2)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let writer = try GzipWriter(path: directory + "/app-\(part).jsonl.gz")
            try writer.write(StateFixture.lines(slice, from: part * chunk))
            try writer.close()
        }
        return events
    }

    func startRun(_ fixture: StateFixture) throws -> Process {
        let process = Process()
        process.executableURL = CustodyProcess.executable
        process.arguments = ["run", "--config", fixture.config, "--as-of", Self.asOf, "--quiet", "--jobs", "2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Records per day as the state holds them.
    func stateDays(_ fixture: StateFixture) throws -> [String: Int] {
        try fixture.openState().read { db in
            var days: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT day, SUM(records) FROM daily_records GROUP BY day") {
                days[row[0]] = row[1]
            }
            return days
        }
    }

    /// Runs `custody` with its output in files: a run over hundreds of files logs more than a
    /// pipe holds, and reading stdout to its end first would wait on it forever.
    static func logged(_ fixture: StateFixture, _ arguments: [String]) throws -> (process: Process, stdout: String, stderr: String) {
        let name = UUID().uuidString
        let out = fixture.dir.path("\(name).out")
        let err = fixture.dir.path("\(name).err")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = CustodyProcess.executable
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        return (process, try String(contentsOfFile: out, encoding: .utf8), try String(contentsOfFile: err, encoding: .utf8))
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Packed (the default: the small files' objects go into one pack per group, so kills land
    /// while packs are written) and loose (`vault_pack_limit: 0`, one file per object).
    @Test(arguments: ["", "vault_pack_limit: 0"])
    func killedRunsThenOneMoreRunIngestEveryFileExactlyOnce(packing: String) throws {
        // A clean run over the same files: its duration spreads the kills, its state is the goal.
        let clean = try StateFixture(extraConfig: packing)
        try writeLogs(into: clean)
        let started = Date()
        let cleanRun = try clean.custody("run", ["--quiet"], asOf: Self.asOf)
        let cleanDuration = Date().timeIntervalSince(started)
        #expect(cleanRun.status == 1, "\(cleanRun.stderr)")
        let expected = try clean.digest()

        let crashed = try StateFixture(extraConfig: packing)
        let events = try writeLogs(into: crashed)
        var kills = 0
        var partialStates = 0
        var span = cleanDuration
        // Eight runs killed, and up to eight more while none was killed between two groups: the
        // second group commits right after the first (tens of ms with faster commits), and a
        // kill aimed there can still land after both.
        var step = 0
        while step < 8 || (partialStates == 0 && step < 16) {
            step += 1
            let before = (try? crashed.totalRecords()) ?? 0
            let process = try startRun(crashed)
            if step % 2 == 0 {
                // Right after a group commits: the state then holds some files, not all.
                let until = Date().addingTimeInterval(2 * span)
                while Date() < until, process.isRunning, ((try? crashed.totalRecords()) ?? 0) <= before {
                    Thread.sleep(forTimeInterval: 0.005)
                }
            } else {
                Thread.sleep(forTimeInterval: span * Double(step) / 10)
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            } else {
                span /= 2
            }
            process.waitUntilExit()
            if let records = try? crashed.totalRecords(), records > 0, records < events.count { partialStates += 1 }
            // Never more than once: whatever was committed is counted once.
            if let records = try? crashed.totalRecords() { #expect(records <= events.count) }
        }
        #expect(kills > 0)
        #expect(partialStates > 0, "kills: \(kills)")
        let final = try crashed.custody("run", ["--quiet"], asOf: Self.asOf)
        #expect(final.status == 1, "\(final.stderr)")

        // Exactly once: records per day as the events fall in the policy's zone, and as `check`
        // of the same files counts them.
        var calendar = DayCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        var eventDays: [String: Int] = [:]
        for event in events { eventDays[CivilDay(daysSinceEpoch: calendar.day(ofMillis: event.millis)).description, default: 0] += 1 }
        #expect(try stateDays(crashed) == eventDays)
        let check = try CustodyProcess.run(["check", crashed.logs, "--as-of", Self.asOf, "--format", "json"])
        let inputs = try #require(try json(check.stdout)["inputs"] as? [String: Any])
        #expect(inputs["records"] as? Int == events.count)
        #expect(inputs["files"] as? Int == Self.files)
        #expect(try crashed.totalRecords() == events.count)
        // The same state as the clean run's: files, how far they were read, users, objects.
        #expect(try crashed.digest() == expected, "kills: \(kills), partial states: \(partialStates)")

        let leftovers = try FileManager.default.contentsOfDirectory(atPath: crashed.state + "/vault").filter { $0.hasPrefix(".incoming") }
        #expect(leftovers.isEmpty)
        let packs = (try? FileManager.default.contentsOfDirectory(atPath: crashed.state + "/vault/packs")) ?? []
        #expect(!packs.contains { $0.hasPrefix(".incoming") }, "\(packs)")
        // Packed when packing, loose otherwise.
        #expect(packs.contains { $0.hasSuffix(".pack") } == packing.isEmpty, "\(packs)")
        // Objects written by a killed run before its group committed were named again by the
        // next run: none is an orphan.
        let verify = try crashed.custody("verify", [], asOf: Self.asOf)
        #expect(verify.status == 0 || verify.status == 1, "\(verify.stdout)")
        #expect(!verify.stdout.contains("vault.orphan_object"), "\(verify.stdout)")
        #expect(!verify.stdout.contains("state.vault_mismatch"), "\(verify.stdout)")
        #expect(!verify.stdout.contains("vault.object_missing"), "\(verify.stdout)")
        #expect(!verify.stdout.contains("vault.object_altered"), "\(verify.stdout)")
    }

    /// Users meet across files of one group: a later part sees what an earlier one changed, so a
    /// grouped run judges real names as `check` does.
    @Test func aGroupedRunJudgesAsCheckDoes() throws {
        let fixture = try StateFixture()
        try writeLogs(into: fixture)
        let run = try Self.logged(fixture, ["run", "--config", fixture.config, "--as-of", Self.asOf, "--format", "json", "--jobs", "2"])
        // Committed in groups, not file by file: a group closes after 256 files or one second,
        // so even on a slow machine the 400 files take far fewer than 400.
        let groups = try #require(run.stderr.firstMatch(of: /(\d+) files committed in (\d+) groups/), "\(run.stderr)")
        #expect(Int(groups.1) == Self.files)
        #expect(try #require(Int(groups.2)) <= Self.files / 10)
        let check = try CustodyProcess.run(["check", fixture.logs, "--as-of", Self.asOf, "--format", "json"])
        let ran = try #require(try json(run.stdout)["real_name"] as? [String: Any])
        let checked = try #require(try json(check.stdout)["real_name"] as? [String: Any])
        for key in ["users_seen", "verified_users", "violating_users", "violating_events"] {
            #expect(ran[key] as? Int == checked[key] as? Int, "\(key)")
        }
        #expect((checked["violating_users"] as? Int ?? 0) > 0)
        #expect((checked["verified_users"] as? Int ?? 0) > 0)
    }
}

/// SIGTERM during a daemon's run stops it between groups: the files being read are finished and
/// committed with their group, nothing read is lost, and the next run reads only the rest.
@Suite(.serialized) struct BatchedCommitStopTests {
    @Test func sigtermCommitsWhatWasReadAndTheNextRunTheRest() throws {
        let fixture = try StateFixture()
        let events = try BatchedCommitCrashTests().writeLogs(into: fixture)
        let process = Process()
        process.executableURL = CustodyProcess.executable
        process.arguments = [
            "daemon", "--config", fixture.config, "--as-of", BatchedCommitCrashTests.asOf, "--interval", "1h", "--jobs", "2",
        ]
        // A file, not a pipe: the daemon logs a line per file, more than a pipe holds.
        let errPath = fixture.dir.path("daemon.err")
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Stop once the first group is committed: the run is reading the rest.
        for _ in 0..<1000 {
            if let records = try? fixture.totalRecords(), records > 0 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let log = try String(contentsOfFile: errPath, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(log)")
        // Every file the run read was committed: as many as the log says, with all their records.
        let committed = try #require(log.firstMatch(of: /(\d+) files committed in \d+ groups/), "\(log)")
        let filesRead = try #require(Int(committed.1))
        #expect(filesRead > 0)
        let (files, records) = try fixture.openState().read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log_files WHERE bytes_read > 0") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(records), 0) FROM log_files") ?? 0
            )
        }
        #expect(files == filesRead)
        #expect(try fixture.totalRecords() == records)
        if filesRead < BatchedCommitCrashTests.files { #expect(log.contains("stop requested"), "\(log)") }

        let next = try BatchedCommitCrashTests.logged(
            fixture, ["run", "--config", fixture.config, "--as-of", BatchedCommitCrashTests.asOf])
        #expect(next.process.terminationStatus == 1, "\(next.stderr)")
        // No line when the stopped run had read everything.
        var rest = 0
        if let match = next.stderr.firstMatch(of: /(\d+) files committed in \d+ groups/) { rest = try #require(Int(match.1)) }
        #expect(filesRead + rest == BatchedCommitCrashTests.files)
        #expect(try fixture.totalRecords() == events.count)
    }
}

/// A file whose read fails does not take the files read beside it down with it: they are
/// committed before the run stops with the error, and a later run does not read them again.
@Suite struct FailingFileInAGroupTests {
    @Test func filesReadBesideAFailingOneAreCommitted() throws {
        // Loose objects: storing z fails where its shard directory must go.
        let fixture = try StateFixture(extraConfig: "vault_pack_limit: 0")
        let events = StateFixture.events(days: 3, users: 20, perDay: 30, seed: 4)
        for (index, name) in ["a", "b", "c", "z"].enumerated() {
            let writer = try GzipWriter(path: fixture.dir.path("logs/\(name).jsonl.gz"))
            try writer.write(StateFixture.lines(Array(events[(index * 20)..<(index * 20 + 20)]), from: index * 20))
            try writer.close()
        }
        // An adopted gzip file is named by the SHA-256 of its bytes; a plain file where z's
        // shard directory must go makes storing z fail, and only z.
        let hex = { (path: String) in
            SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path))).map { String(format: "%02x", $0) }.joined()
        }
        let blocked = try String(hex(fixture.dir.path("logs/z.jsonl.gz")).prefix(2))
        for name in ["a", "b", "c"] { try #require(!(try hex(fixture.dir.path("logs/\(name).jsonl.gz"))).hasPrefix(blocked)) }
        try FileManager.default.createDirectory(atPath: fixture.state + "/vault", withIntermediateDirectories: true)
        try fixture.dir.write("state/vault/\(blocked)", "not a directory\n")

        let failed = try fixture.custody("run", ["--jobs", "1", "--quiet"], asOf: "2026-11-05")
        #expect(failed.status != 0 && failed.status != 1, "\(failed.stderr)")
        let read = try fixture.openState().read { db in try String.fetchAll(db, sql: "SELECT first_path FROM log_files ORDER BY first_path")
        }
        #expect(read.map { ($0 as NSString).lastPathComponent } == ["a.jsonl.gz", "b.jsonl.gz", "c.jsonl.gz"])

        try FileManager.default.removeItem(atPath: fixture.state + "/vault/\(blocked)")
        let again = try fixture.custody("run", ["--format", "json"], asOf: "2026-11-05")
        #expect(again.stderr.contains("1 with something new"), "\(again.stderr)")
        let records = try fixture.openState().read { db in try Int.fetchOne(db, sql: "SELECT SUM(records) FROM log_files") }
        #expect(records == 80)
    }
}
