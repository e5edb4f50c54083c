import Foundation
import Testing

/// The README's "first ten minutes" and its request walkthrough work in order on a fresh clone,
/// after `make demo` (its script run with the debug build): the walkthrough's state is its own,
/// so it does not collide with the requests the demo recorded.
@Suite struct ReadmeWalkthroughTests {
    /// The first ```sh block after `heading` in the README.
    static func shellBlock(after heading: String, in readme: String) throws -> String {
        let section = try #require(readme.range(of: heading), "README has no \(heading)")
        let start = try #require(readme.range(of: "```sh\n", range: section.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        return String(readme[start.upperBound..<end.lowerBound])
    }

    @Test func firstTenMinutesThenTheRequestWalkthrough() throws {
        let root = CustodyProcess.repositoryRoot
        let clone = try TemporaryDirectory()
        for item in ["README.md", "scripts", "SampleLogs", "Policies"] {
            try FileManager.default.copyItem(at: root.appendingPathComponent(item), to: clone.url.appendingPathComponent(item))
        }
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let bin = CustodyProcess.executable.deletingLastPathComponent().path
        // `make demo` is the release build plus this script; the script is what matters here.
        let first = try Self.shellBlock(after: "## The first ten minutes", in: readme)
            .replacingOccurrences(of: "make demo ", with: "BIN=\(CustodyProcess.executable.path) bash scripts/demo.sh > demo.log ")
            .replacingOccurrences(of: "$PWD/.build/release", with: bin)
        let walkthrough = try Self.shellBlock(after: "## Handling a request for user data", in: readme)
        #expect(first.contains("scripts/demo.sh"), "the first ten minutes start with make demo")
        let script = """
            trap 'echo "$? $BASH_COMMAND" >> failures.txt' ERR
            \(first)
            \(walkthrough)
            """
        let result = try CustodyProcess.run(["-c", script], in: clone.url, program: URL(fileURLWithPath: "/bin/bash"))
        #expect(!result.stderr.contains("already exists"), "\(result.stderr)")
        let failures = (try? String(contentsOf: clone.url.appendingPathComponent("failures.txt"), encoding: .utf8)) ?? ""
        for failure in failures.split(separator: "\n") {
            // Exit 1 is a verdict ("not compliant": the sample logs miss a day), not a failure.
            let verdict =
                failure.hasPrefix("1 custody ")
                && ["check", "run", "status", "verify"].contains { failure.contains("custody \($0) ") }
            #expect(verdict, "a README command failed: \(failure)\n\(result.stderr)")
        }
        #expect(result.stdout.contains("recorded REQ-2026-001"), "\(result.stdout)")
        #expect(result.stdout.contains("produced REQ-2026-001"), "\(result.stdout)")
        #expect(FileManager.default.fileExists(atPath: clone.path("out/tour/REQ-2026-001/manifest.json")))
        #expect(FileManager.default.fileExists(atPath: clone.path("out/state/state.db")), "the demo's own state")
    }
}
