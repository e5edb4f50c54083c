import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// The report is byte-identical whichever library inflates (ISA-L, or zlib with
/// CUSTODY_INFLATE=zlib) and however many files are read at once, faulty files included.
@Suite struct InflaterOutputTests {
    @Test func reportIsTheSameForEveryInflaterAndJobs() throws {
        let dir = try TemporaryDirectory()
        let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-cac-2016-apps.yaml").path
        var rng = SplitMix64(seed: 15)
        for (index, format) in LogLineRenderer.Format.allCases.enumerated() {
            let generator = EntropyLogGenerator(users: 3_000, lines: 40_000, seed: UInt64(index), format: format)
            let writer = try GzipWriter(path: dir.path("\(format.rawValue).gz"))
            var batch = ""
            var n = 0
            generator.forEachLine { line in
                batch += line + "\n"
                n += 1
                // Members of varied size, as concatenated rotations make them.
                if n % Int(1 + rng.next() % 9_000) == 0 {
                    try? writer.write(batch)
                    try? writer.finishMember()
                    batch = ""
                }
            }
            try writer.write(batch)
            try writer.close()
        }
        // Two faulty copies: a CRC-32 mismatch in the middle, and a cut inside the last member.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("jsonl.gz"))))
        let cut = Array(bytes[0..<(bytes.count - 1_000)])
        try Data(cut).write(to: URL(fileURLWithPath: dir.path("cut.gz")))
        bytes[bytes.count - 8] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path("bad-crc.gz")))

        let common = [
            CustodyProcess.executable.path, "check", dir.url.path, "--policy", policy, "--as-of", "2026-11-19", "--format", "json",
        ]
        let env = URL(fileURLWithPath: "/usr/bin/env")
        let reference = try CustodyProcess.run(common + ["--jobs", "1"], program: env)
        #expect(reference.stdout.contains("unreadable at byte"), "the faulty files are in the report")
        for (inflater, jobs) in [("isal", "2"), ("isal", "4"), ("zlib", "1"), ("zlib", "3")] {
            let other = try CustodyProcess.run(["CUSTODY_INFLATE=\(inflater)"] + common + ["--jobs", jobs], program: env)
            #expect(other.stdout == reference.stdout, "CUSTODY_INFLATE=\(inflater) --jobs \(jobs)")
            #expect(other.status == reference.status)
        }
    }
}
