import ArgumentParser
import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation

/// Development tool: writes the repository's sample logs and the benchmark's inputs.
@main
struct LogGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody-loggen",
        abstract: "Generate deterministic app activity logs (sample logs, benchmark inputs).",
        subcommands: [Sample.self, Bench.self, BenchEntropy.self, ParseTiming.self, ScanTiming.self])

    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the SampleLogs/logs tree.")

        @Option(help: "Directory to write (created if needed).")
        var out: String = "SampleLogs/logs"

        func run() throws {
            try SampleLogsWriter.write(to: out)
            let events = SampleLogsWriter.events()
            let policy = try PolicyLoader.load(path: "Policies/cn-apps.yaml")
            let truth = ReferenceAudit(events: events, policy: policy)
            print(
                "wrote \(out): \(truth.records) records, \(truth.usersSeen) users, \(truth.verifiedUsers) verified, violating: \(truth.violations.sorted { $0.key < $1.key })"
            )
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write gzip JSON-lines files for the benchmark.")

        @Option(help: "Directory to write (created if needed).")
        var out: String

        @Option(help: "Files to write.")
        var files: Int = 1

        @Option(help: "Lines per file (approximately).")
        var lines: Int = 2_000_000

        @Option(help: "Distinct users.")
        var users: Int = 50_000

        @Option(help: "Days covered by each file.")
        var days: Int = 60

        @Option(help: "Random seed.")
        var seed: UInt64 = 7

        @Option(help: "Format: jsonl, combined or logfmt.")
        var format: String = "jsonl"

        func run() throws {
            guard let format = LogLineRenderer.Format(rawValue: format) else { throw ValidationError("unknown format \(format)") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let renderer = LogLineRenderer(format: format)
            for index in 0..<files {
                let scenario = ActivityGenerator.Scenario(
                    firstDay: CivilDay(year: 2026, month: 9, day: 20)!, days: days, users: users,
                    eventsPerDay: max(1, (lines - users * 2) / days), seed: seed &+ UInt64(index),
                    lateVerifiers: users / 200, neverVerified: users / 200)
                let events = ActivityGenerator(scenario).events()
                let path = "\(out)/app-\(index + 1).\(format.rawValue).gz"
                let writer = try GzipWriter(path: path, level: 6)
                var batch = ""
                for (i, e) in events.enumerated() {
                    batch += renderer.line(e, sequence: i)
                    batch += "\n"
                    if batch.utf8.count > 1 << 20 {
                        try writer.write(batch)
                        batch = ""
                    }
                }
                try writer.write(batch)
                try writer.close()
                print("wrote \(path): \(events.count) lines")
            }
        }
    }

    struct ParseTiming: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "parse-timing",
            abstract: "Time the line parser alone on a file's lines, decoded into memory first.",
            discussion: "For profiling the parser without inflate and file I/O in the way. Prints nanoseconds per line.")

        @Argument(help: "A log file (gzip or plain).")
        var file: String

        @Option(help: "Policy giving the field names.")
        var policy: String = "Policies/cn-apps.yaml"

        @Option(help: "Passes over the lines; the best is printed.")
        var passes: Int = 5

        @Option(help: "Formats file describing --input-format.")
        var formats: String?

        @Option(name: .customLong("input-format"), help: "Log format: auto, a built-in, or a name from --formats.")
        var inputFormat: String = "auto"

        func run() throws {
            let policy = try PolicyLoader.load(path: policy)
            guard let format = LogFormat.named(inputFormat, in: try formats.map(FormatsFile.load) ?? [:]) else {
                throw ValidationError("no format named \(inputFormat)")
            }
            var text: [UInt8] = []
            var lines: [Range<Int>] = []
            let source = try DecodedSources.open(path: file)
            LineReader.forEachLine(in: source) { event in
                if case .line(let bytes, _) = event {
                    lines.append(text.count..<(text.count + bytes.count))
                    text.append(contentsOf: bytes)
                }
            }
            var best = Double.infinity
            var records = 0
            text.withUnsafeBufferPointer { all in
                for _ in 0..<passes {
                    var parser = LineParser(policy: policy, format: format)
                    defer { parser.deallocate() }
                    records = 0
                    var elapsed: UInt64 = 0
                    // In `check` a line is parsed right after inflate wrote it, from cache: each
                    // window of lines is read once untimed, then parsed and timed.
                    for window in stride(from: 0, to: lines.count, by: 2048) {
                        let end = min(window + 2048, lines.count)
                        var touched = 0
                        for range in lines[window..<end] {
                            for k in stride(from: range.lowerBound, to: range.upperBound, by: 32) { touched &+= Int(all[k]) }
                        }
                        if touched == -1 { print("") }
                        let start = DispatchTime.now().uptimeNanoseconds
                        for range in lines[window..<end] {
                            if case .record = parser.parse(UnsafeBufferPointer(rebasing: all[range])) { records += 1 }
                        }
                        elapsed += DispatchTime.now().uptimeNanoseconds - start
                    }
                    best = min(best, Double(elapsed) / Double(max(lines.count, 1)))
                }
            }
            print(String(format: "%d lines, %d records, best of %d passes: %.1f ns per line", lines.count, records, passes, best))
        }
    }

    struct ScanTiming: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scan-timing",
            abstract: "Time the single pass (inflate, lines, records, tally) over one file, on this thread.",
            discussion: """
                The path `custody check` takes for each file when there are at least as many files as \
                --jobs, without the command's start-up and report: for instruction counts (callgrind \
                runs this where it cannot run `custody check`) and profiles. Prints milliseconds per pass.
                """)

        @Argument(help: "A log file (gzip or plain).")
        var file: String

        @Option(help: "Policy giving the field names.")
        var policy: String = "Policies/cn-apps.yaml"

        @Option(help: "Passes over the file; each is printed.")
        var passes: Int = 1

        func run() throws {
            let policy = try PolicyLoader.load(path: policy)
            for _ in 0..<passes {
                let start = DispatchTime.now().uptimeNanoseconds
                let audit = FileAudit.scan(path: file, index: 0, policy: policy, format: .auto)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                print(String(format: "%d records, %d users: %.1f ms", audit.records, audit.users.count, elapsed))
            }
        }
    }
}
