import Foundation
import Testing

/// `custody` installed under a prefix (`make install`) and run by name through `PATH`, from a
/// directory without `Policies/`: the default policy is the copy installed beside it.
@Suite struct InstalledLayoutTests {
    @Test func defaultPolicyIsFoundBesideAnExecutableRunThroughPath() throws {
        let dir = try TemporaryDirectory()
        let fm = FileManager.default
        let bin = dir.url.appendingPathComponent("prefix/bin")
        let policies = dir.url.appendingPathComponent("prefix/share/custody/policies")
        let work = dir.url.appendingPathComponent("work")
        for folder in [bin, policies, work] { try fm.createDirectory(at: folder, withIntermediateDirectories: true) }
        try fm.copyItem(at: CustodyProcess.executable, to: bin.appendingPathComponent("custody"))
        try fm.copyItem(
            at: CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-apps.yaml"),
            to: policies.appendingPathComponent("cn-apps.yaml"))
        try "{\"ts\":\"2026-11-01T00:00:00Z\",\"user\":\"u1\",\"event\":\"view\"}\n"
            .write(to: work.appendingPathComponent("app.log"), atomically: true, encoding: .utf8)

        // Through env, so that the program's argv[0] is the bare name PATH resolved.
        let result = try CustodyProcess.run(
            [
                "PATH=\(bin.path):/usr/bin:/bin", "custody", "check", "app.log", "--as-of", "2026-11-20",
                "--format", "json",
            ],
            in: work, program: URL(fileURLWithPath: "/usr/bin/env"))

        // Not compliant (one day of records), but checked: exit 1, not a usage error.
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("\"policy\": \"cn-apps\""), "\(result.stdout)")
    }
}
