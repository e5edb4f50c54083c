import ArgumentParser
import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation

extension LogGen {
    /// `custody-loggen bench-entropy`: the benchmark's second data set (`EntropyLogGenerator`).
    struct BenchEntropy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-entropy",
            abstract: "Write gzip logs with random session ids and addresses and many users, for the benchmark.")

        @Option(help: "Directory to write (created if needed).")
        var out: String

        @Option(help: "Files to write.")
        var files: Int = 1

        @Option(help: "Lines per file.")
        var lines: Int = 2_000_000

        @Option(help: "Users (nearly all appear in each 2M-line file).")
        var users: Int = 200_000

        @Option(help: "Random seed.")
        var seed: UInt64 = 11

        @Option(help: "Format: jsonl, combined or logfmt.")
        var format: String = "jsonl"

        @Flag(help: "JSON lines in four shapes (keys in changing order, nested objects, blanks, escapes, UUID users).")
        var varied = false

        @Option(help: "Users in a hundred whose first event is a post, not a verification (real-name violations).")
        var violatingPercent: Int = 1

        func run() throws {
            guard (0...100).contains(violatingPercent) else { throw ValidationError("--violating-percent must be 0...100") }
            guard let format = LogLineRenderer.Format(rawValue: format) else { throw ValidationError("unknown format \(format)") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for index in 0..<files {
                let generator = EntropyLogGenerator(
                    users: users, lines: lines, seed: seed &+ UInt64(index) &* 1_000_003, format: format, varied: varied,
                    violatingPercent: violatingPercent)
                let path = "\(out)/\(varied ? "varied" : "entropy")-\(index + 1).\(format.rawValue).gz"
                let writer = try GzipWriter(path: path, level: 6)
                var batch = ""
                try generator.forEachLine { line in
                    batch += line
                    batch += "\n"
                    if batch.utf8.count > 1 << 20 {
                        try writer.write(batch)
                        batch = ""
                    }
                }
                try writer.write(batch)
                try writer.close()
                print("wrote \(path): \(lines) lines")
            }
        }
    }
}
