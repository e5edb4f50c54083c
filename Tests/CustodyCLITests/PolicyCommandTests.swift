import Foundation
import Testing

/// `custody policy list|show|lint`.
@Suite struct PolicyCommandTests {
    @Test func listShowsEveryShippedPolicyWithStatusAndDays() throws {
        let result = try CustodyProcess.run(["policy", "list"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func row(_ id: String) -> [String] {
            (lines.first { $0.hasPrefix(id + " ") } ?? "").split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        #expect(Array(row("cn-apps").prefix(5)) == ["cn-apps", "in_force", "CN", "60", "180*"])
        #expect(Array(row("cn-cac-2016-apps").prefix(5)) == ["cn-cac-2016-apps", "repealed", "CN", "60", "180*"])
        #expect(Array(row("cn-csl-2017-network-logs").prefix(5)) == ["cn-csl-2017-network-logs", "in_force", "CN", "184", "-"])
        #expect(Array(row("in-certin-2022-logs").prefix(5)) == ["in-certin-2022-logs", "in_force", "IN", "180", "-"])
        #expect(Array(row("vn-decree53-2022-logs").prefix(5)) == ["vn-decree53-2022-logs", "in_force", "VN", "366", "-"])
        #expect(Array(row("ru-149fz-ori-metadata").prefix(5)) == ["ru-149fz-ori-metadata", "in_force", "RU", "366", "-"])
        #expect(Array(row("eu-gdpr-storage-limitation").prefix(5)) == ["eu-gdpr-storage-limitation", "in_force", "EU", "-", "90"])
        #expect(Array(row("us-2703f-preservation").prefix(5)) == ["us-2703f-preservation", "in_force", "US", "-", "-"])
        #expect(result.stdout.contains("* Custody's default, not set by law"))
    }

    @Test func listInADirectoryReportsABrokenFileAndExitsTwo() throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.yaml", "id: good\njurisdiction: XX\ntimezone: UTC\nstatus: proposed\nretention:\n  minimum_days: 7\n")
        try dir.write("bad.yaml", "id: bad\njurisdiction: XX\ntimezone: UTC\nretention:\n  minimum_dayz: 7\n")
        let result = try CustodyProcess.run(["policy", "list", "--dir", dir.url.path])
        #expect(result.status == 2)
        #expect(result.stdout.contains("good"))
        #expect(result.stdout.contains("proposed"))
        #expect(result.stderr.contains("bad.yaml:5"), "\(result.stderr)")
        #expect(result.stderr.contains("retention.minimum_dayz"), "\(result.stderr)")
    }

    @Test func showByIdExplainsRulesCitationsAndStatus() throws {
        let result = try CustodyProcess.run(["policy", "show", "cn-apps"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("status        in force since 2022-08-01"))
        #expect(result.stdout.contains("every calendar day of the last 60 days holds records — set by law"))
        #expect(
            result.stdout.contains(
                "180 days are over-retained (a warning; custody purge proposes deleting them) — Custody's default, not set by law"))
        #expect(result.stdout.contains("cites 移动互联网应用程序信息服务管理规定 (2022年修订)"))
        #expect(result.stdout.contains("art. 6"))
    }

    @Test func showTheUSPreservationPolicy() throws {
        let result = try CustodyProcess.run(["policy", "show", "Policies/us-2703f-preservation.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("a preservation request holds records 90 days, renewable once for 90 days (at most 180 days)"))
        #expect(result.stdout.contains("§ 2703(f)(1)-(2)"))
        #expect(result.stdout.contains("retention   no minimum"))
    }

    @Test func showUnknownIdExitsTwo() throws {
        let result = try CustodyProcess.run(["policy", "show", "xx-nothing"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no policy with id 'xx-nothing'"), "\(result.stderr)")
    }

    @Test func lintExitStatuses() throws {
        let shipped = try FileManager.default.contentsOfDirectory(
            atPath: CustodyProcess.repositoryRoot.appendingPathComponent("Policies").path
        )
        .filter { $0.hasSuffix(".yaml") }.map { "Policies/" + $0 }
        let clean = try CustodyProcess.run(["policy", "lint"] + shipped)
        #expect(clean.status == 0, "\(clean.stdout + clean.stderr)")
        #expect(clean.stdout.split(separator: "\n").allSatisfy { $0.hasSuffix(": ok") })

        let dir = try TemporaryDirectory()
        let bare = try dir.write("bare.yaml", "id: bare\njurisdiction: XX\ntimezone: UTC\nretention:\n  minimum_days: 7\n")
        let warned = try CustodyProcess.run(["policy", "lint", bare])
        #expect(warned.status == 1)
        #expect(warned.stdout.contains("warning: sources: none given"), "\(warned.stdout)")

        let broken = try dir.write(
            "broken.yaml", "id: broken\njurisdiction: XX\ntimezone: UTC\nstatus: maybe\nretention:\n  minimum_days: 7\n")
        let failed = try CustodyProcess.run(["policy", "lint", broken])
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("broken.yaml:4"), "\(failed.stderr)")
        #expect(failed.stderr.contains("status"), "\(failed.stderr)")
    }
}
