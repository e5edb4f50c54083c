import Foundation
import Testing

/// `custody daemon`: runs on its interval, reloads on SIGHUP, exits 0 on SIGTERM.
@Suite struct DaemonTests {
    @Test func daemonRunsReloadsAndStopsCleanly() throws {
        let fixture = try StateFixture()
        try fixture.append(StateFixture.lines(StateFixture.events()), to: "app.log")
        let process = Process()
        process.executableURL = CustodyProcess.executable
        process.arguments = ["daemon", "--config", fixture.config, "--as-of", "2026-11-19", "--interval", "1s"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        func waitFor(_ condition: () throws -> Bool) rethrows -> Bool {
            for _ in 0..<100 {
                if try condition() { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }
        #expect(waitFor { FileManager.default.fileExists(atPath: fixture.state + "/state.db") && (try? fixture.totalRecords()) ?? 0 > 0 })
        // New lines are picked up on a later tick.
        try fixture.append(StateFixture.lines(Array(StateFixture.events(seed: 99).prefix(10)), from: 10_000), to: "app.log")
        // `try?`: the daemon may hold the database's write lock at the moment the test reads it.
        #expect(waitFor { (try? fixture.totalRecords()) == StateFixture.events().count + 10 })

        // SIGHUP re-reads custody.yaml: a source added to it is read on the next tick.
        try FileManager.default.createDirectory(atPath: fixture.dir.path("extra"), withIntermediateDirectories: true)
        try fixture.append(StateFixture.lines(Array(StateFixture.events(seed: 7).prefix(25)), from: 20_000), to: "../extra/extra.log")
        var config = try String(contentsOfFile: fixture.config, encoding: .utf8)
        config = config.replacingOccurrences(of: "  - path: logs\n", with: "  - path: logs\n  - path: extra\n")
        try config.write(toFile: fixture.config, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        #expect(waitFor { (try? fixture.totalRecords()) == StateFixture.events().count + 10 + 25 })
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("configuration reloaded"))
        #expect(log.contains("daemon stopping"))
    }
}
