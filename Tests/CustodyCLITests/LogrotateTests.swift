import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// A real logrotate renames and compresses the app's log between runs: counts are unchanged by
/// the rotation and every line is counted once.
@Suite struct LogrotateTests {
    static let logrotate: String? = ["/usr/sbin/logrotate", "/usr/bin/logrotate", "/sbin/logrotate"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    func rotate(_ fixture: StateFixture, options: String) throws {
        let conf = try fixture.dir.write(
            "logrotate.conf",
            """
            \(fixture.logs)/app.log {
                rotate 5
                missingok
                \(options)
            }
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.logrotate!)
        process.arguments = ["--force", "--state", fixture.dir.path("logrotate.state"), conf]
        let err = Pipe()
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(process.terminationStatus == 0, "logrotate: \(message)")
    }

    @Test(
        .enabled(if: LogrotateTests.logrotate != nil, "logrotate is not installed: skipped (make test-deps installs it; CI does)"),
        arguments: ["compress", "compress\n    delaycompress", "compress\n    copytruncate"])
    func rotationNeitherLosesNorDoublesLines(options: String) throws {
        let fixture = try StateFixture()
        let events = StateFixture.events(days: 12, users: 50, perDay: 60, seed: 21)
        let lines = StateFixture.lines(events).split(separator: "\n").map { $0 + "\n" }
        let cuts = [0, 200, 320, 500, 610, lines.count]

        try fixture.append(lines[cuts[0]..<cuts[1]].joined(), to: "app.log")
        _ = try fixture.custody("run")
        #expect(try fixture.totalRecords() == cuts[1])
        for round in 1..<(cuts.count - 1) {
            // Lines the app writes after the last run, then rotation, then the new log.
            try fixture.append(lines[cuts[round]..<(cuts[round] + 30)].joined(), to: "app.log")
            try rotate(fixture, options: options)
            try fixture.append(lines[(cuts[round] + 30)..<cuts[round + 1]].joined(), to: "app.log")
            let run = try fixture.custody("run")
            #expect(run.status <= 1, "\(run.stderr)")
            #expect(try fixture.totalRecords() == cuts[round + 1], "after rotation \(round) with \(options)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.logs)
        #expect(names.contains { $0.hasSuffix(".gz") })
        // A run with nothing new changes nothing.
        let before = try fixture.digest()
        _ = try fixture.custody("run")
        #expect(try fixture.digest() == before)
    }
}
