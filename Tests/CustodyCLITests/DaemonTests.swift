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
        #expect(try waitFor { try fixture.totalRecords() == StateFixture.events().count + 10 })

        kill(process.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("configuration reloaded"))
        #expect(log.contains("daemon stopping"))
    }
}
