import CustodyCore
import CustodyStore
import CustodyTesting
import Foundation
import GRDB
import Testing

/// Crash safety is tested by killing the process: `kill -9` a real `custody run` at many points,
/// run again, and the state must equal a clean run's.
@Suite(.serialized) struct CrashSafetyTests {
    /// Enough data that a run takes a while: several gzip files and a plain one.
    func writeLogs(into fixture: StateFixture) throws {
        let events = StateFixture.events(days: 30, users: 400, perDay: 1500, seed: 9)
        let chunk = events.count / 6
        for part in 0..<5 {
            let writer = try GzipWriter(path: fixture.dir.path("logs/app-\(part).jsonl.gz"))
            try writer.write(StateFixture.lines(Array(events[(part * chunk)..<((part + 1) * chunk)]), from: part * chunk))
            try writer.close()
        }
        try fixture.append(StateFixture.lines(Array(events[(5 * chunk)...]), from: 5 * chunk), to: "app.log")
    }

    func startRun(_ fixture: StateFixture) throws -> Process {
        let process = Process()
        process.executableURL = CustodyProcess.executable
        process.arguments = ["run", "--config", fixture.config, "--as-of", "2026-12-01", "--quiet", "--jobs", "2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Names of the objects in the fixture's vault, loose or packed.
    func storedObjects(_ fixture: StateFixture) -> [String] {
        (try? Vault(directory: fixture.state + "/vault", create: false))?.storedObjects() ?? []
    }

    /// Loose objects (`vault_pack_limit: 0`): each is in the vault from the moment its file is
    /// read, so kills find objects no committed group names yet. (Packed objects appear only
    /// just before their group commits; kills over packs: `BatchedCommitCrashTests`.)
    @Test func killedRunsThenOneMoreRunEqualACleanRun() throws {
        let clean = try StateFixture(extraConfig: "vault_pack_limit: 0")
        try writeLogs(into: clean)
        let started = Date()
        let cleanRun = try clean.custody("run", ["--quiet"], asOf: "2026-12-01")
        let cleanDuration = Date().timeIntervalSince(started)
        #expect(cleanRun.status == 1)
        let expected = try clean.digest()

        let crashed = try StateFixture(extraConfig: "vault_pack_limit: 0")
        try writeLogs(into: crashed)
        // Kill points spread over the length of a clean run, each continuing the previous state.
        var kills = 0
        var completedEarly = 0
        var partialStates = 0
        // Kills between writing vault objects and committing the group that names them.
        var uncommittedObjects = 0
        // If a run finishes before its kill (other tests may have slowed the clean run), the
        // remaining kill points move earlier, so kills keep landing inside runs.
        var span = cleanDuration
        for step in 1...12 {
            let process = try startRun(crashed)
            Thread.sleep(forTimeInterval: span * Double(step) / 14)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            } else {
                completedEarly += 1
                span /= 2
            }
            process.waitUntilExit()
            // A kill before the first migration leaves an empty state.db: no tables yet, nothing to compare.
            if let records = try? crashed.totalRecords(), records > 0, try crashed.digest() != expected {
                partialStates += 1
            }
            if let listed = try? crashed.openState().read({ db in Set(try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects")) }),
                storedObjects(crashed).contains(where: { !listed.contains($0) })
            {
                uncommittedObjects += 1
            }
        }
        #expect(kills > 0)
        // Some kills landed mid-ingestion: the state held part of the data, not all, or objects
        // were in the vault that no committed group names yet (files are committed in groups,
        // and these six files are often one group).
        #expect(
            partialStates + uncommittedObjects > 0,
            "kills: \(kills), runs completed before the kill: \(completedEarly)")
        let final = try crashed.custody("run", ["--quiet"], asOf: "2026-12-01")
        #expect(final.status == 1, "\(final.stderr)")
        #expect(try crashed.digest() == expected)
        // No half-written vault object survives.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: crashed.state + "/vault").filter { $0.hasPrefix(".incoming") }
        #expect(leftovers.isEmpty)
        let verify = try crashed.custody("verify", [], asOf: "2026-12-01")
        #expect(!verify.stdout.contains("vault.object"), "\(verify.stdout)")
    }
}
