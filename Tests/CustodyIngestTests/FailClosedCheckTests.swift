import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// Input Custody did not understand never passes as compliant.
@Suite("Fail closed: check")
struct FailClosedCheckTests {
    let asOf = CivilDay(iso: "2026-10-12")!

    func policy(minimumDays: Int = 1, extra: String = "") throws -> Policy {
        try loadPolicy(policyYAML.replacingOccurrences(of: "  minimum_days: 60", with: "  minimum_days: \(minimumDays)") + extra)
    }

    func jsonl(_ user: String, _ event: String, hour: Int = 12) -> String {
        #"{"ts":"2026-10-11T\#(String(format: "%02d", hour)):00:00+08:00","user":"\#(user)","event":"\#(event)"}"#
    }

    /// A file with verified users and no publishes: compliant by itself.
    func goodLines(_ count: Int) -> [String] {
        (0..<count).map { jsonl("u\($0)", $0 % 2 == 0 ? "verify_phone" : "view") }
    }

    @Test func fileWithEveryLineRejectedIsUnrecognised() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.jsonl", goodLines(10).joined(separator: "\n") + "\n")
        let bad = try dir.write("bad.log", "hello world\nthis is not a log\nat all\n")
        let report = try await runCheck([dir.path], policy: try policy(), asOf: asOf, parallelism: 1)
        let finding = try #require(report.findings.first { $0.rule == .unrecognisedFile })
        #expect(finding.severity == .error)
        #expect(finding.file == bad)
        #expect(!report.compliant)
    }

    @Test func gzipWithDamagedMagicIsUnrecognisedNotPlainText() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.jsonl", goodLines(10).joined(separator: "\n") + "\n")
        let lines = (0..<2_000).map { jsonl("u\($0 % 97)", "view") + #","pad":"\#(randomHexLines(count: 1, seed: UInt64($0))[0])"# }
        var bytes = try fileBytes(try dir.writeGzip("src/whole.gz", lines: lines))
        try FileManager.default.removeItem(atPath: dir.path("src"))
        bytes[0] = 0x00  // magic 1f 8b → 00 8b
        let damaged = try dir.write("app.jsonl.gz", bytes)
        let report = try await runCheck([dir.path], policy: try policy(), asOf: asOf, parallelism: 1)
        let finding = try #require(report.findings.first { $0.rule == .unrecognisedFile })
        #expect(finding.file == damaged)
        #expect(finding.severity == .error)
        #expect(!report.compliant)
    }

    /// A log compressed with another tool is an unreadable file that names the compressor, not
    /// a file of rejected lines; a text file that merely starts like bzip2's "BZh9" is still text.
    @Test(arguments: [
        ("zstd", [0x28, 0xB5, 0x2F, 0xFD, 0x04, 0x58] as [UInt8]), ("bzip2", Array("BZh91AY&SY".utf8)),
        ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00]), ("lz4", [0x04, 0x22, 0x4D, 0x18, 0x64]),
        ("zip", [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00]),
    ])
    func otherCompressorsAreNamed(_ name: String, _ magic: [UInt8]) async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.jsonl", goodLines(10).joined(separator: "\n") + "\n")
        var generator = SplitMix64(seed: 3)
        let path = try dir.write("app.log.\(name)", magic + (0..<512).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        let report = try await runCheck([dir.path], policy: try policy(), asOf: asOf, parallelism: 1)
        let finding = try #require(report.findings.first { $0.rule == .unreadableFile && $0.file == path })
        #expect(finding.severity == .error)
        #expect(finding.message.contains("compressed with \(name)"), "\(finding.message)")
        #expect(!report.findings.contains { $0.rule == .rejectedLines && $0.file == path })
        #expect(!report.compliant)
    }

    @Test func textStartingLikeAMagicIsStillText() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.jsonl", goodLines(10).joined(separator: "\n") + "\n")
        let path = try dir.write("bz.log", "BZh9 " + goodLines(3).joined(separator: "\n") + "\n")
        let report = try await runCheck([dir.path], policy: try policy(), asOf: asOf, parallelism: 1)
        #expect(!report.findings.contains { $0.rule == .unreadableFile && $0.file == path })
    }

    @Test func mostlyBinaryFileWithARecordIsStillUnrecognised() async throws {
        let dir = try TemporaryDirectory()
        var generator = SplitMix64(seed: 9)
        var bytes = Array((jsonl("u1", "verify_phone") + "\n").utf8)
        for _ in 0..<4_000 { bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
        let path = try dir.write("blob.log", bytes)
        let report = try await runCheck(
            [path], policy: try policy(extra: "\ninput:\n  max_rejected_share: 1\n"), asOf: asOf, parallelism: 1)
        #expect(report.inputs.records >= 1)
        #expect(report.findings.contains { $0.rule == .unrecognisedFile && $0.severity == .error })
        #expect(!report.compliant)
    }

    @Test func rejectedShareAboveThePolicysIsAnErrorBelowAWarning() async throws {
        let dir = try TemporaryDirectory()
        var lines = goodLines(999)
        lines.append("broken")
        let path = try dir.write("a.jsonl", lines.joined(separator: "\n") + "\n")
        // 1 of 1000 lines = 0.001: not above the default share.
        let atLimit = try await runCheck([path], policy: try policy(), asOf: asOf, parallelism: 1)
        #expect(atLimit.findings.first { $0.rule == .rejectedLines }?.severity == .warning)
        #expect(atLimit.compliant)

        lines.append("broken again")
        try dir.write("a.jsonl", lines.joined(separator: "\n") + "\n")
        let above = try await runCheck([path], policy: try policy(), asOf: asOf, parallelism: 1)
        let finding = try #require(above.findings.first { $0.rule == .rejectedLines })
        #expect(finding.severity == .error)
        #expect(finding.message.contains("input.max_rejected_share"))
        #expect(!above.compliant)

        let lenient = try await runCheck(
            [path], policy: try policy(extra: "\ninput:\n  max_rejected_share: 0.01\n"), asOf: asOf, parallelism: 1)
        #expect(lenient.findings.first { $0.rule == .rejectedLines }?.severity == .warning)
        #expect(lenient.compliant)
    }

    @Test func recordsWithoutAnyUserAreNotEvaluable() async throws {
        let dir = try TemporaryDirectory()
        // An Apache log: every record anonymous, nothing published.
        let lines = (0..<200).map { i in
            #"10.0.0.\#(i % 250) - - [11/Oct/2026:12:00:\#(String(format: "%02d", i % 60)) +0800] "GET /index.html HTTP/1.1" 200 512 "-" "curl""#
        }
        let path = try dir.write("access.log", lines.joined(separator: "\n") + "\n")
        let report = try await runCheck([path], policy: try policy(), asOf: asOf, parallelism: 1)
        #expect(report.inputs.records == 200)
        #expect(report.retention.compliant)
        #expect(!report.realName.compliant)
        let finding = try #require(report.findings.first { $0.rule == .notEvaluable })
        #expect(finding.severity == .error)
        #expect(finding.message.contains("carries a user"))
        #expect(report.json["real_name"]?["compliant"] == .bool(false))
        #expect(!report.compliant)
    }

    /// A log-retention law names no publish events: it has no real-name rule, so records
    /// without users leave nothing unjudged (an access log is what such a law is about).
    @Test func aPolicyWithoutPublishEventsHasNoRealNameRuleToJudge() async throws {
        let dir = try TemporaryDirectory()
        let lines = (0..<50).map { i in
            #"10.0.0.\#(i) - - [11/Oct/2026:12:00:\#(String(format: "%02d", i)) +0800] "GET / HTTP/1.1" 200 512 "-" "curl""#
        }
        let path = try dir.write("access.log", lines.joined(separator: "\n") + "\n")
        let retentionOnly = try policy().withPublishEvents([])
        let report = try await runCheck([path], policy: retentionOnly, asOf: asOf, parallelism: 1)
        #expect(report.inputs.records == 50)
        #expect(!report.findings.contains { $0.rule == .notEvaluable })
        #expect(report.compliant)
    }

    @Test func publishesWithoutAnyVerificationAreNotEvaluable() async throws {
        let dir = try TemporaryDirectory()
        let lines = (0..<20).map { jsonl("u\($0)", $0 % 2 == 0 ? "post" : "view") }
        let path = try dir.write("a.jsonl", lines.joined(separator: "\n") + "\n")
        let report = try await runCheck([path], policy: try policy(), asOf: asOf, parallelism: 1)
        let finding = try #require(report.findings.first { $0.rule == .notEvaluable })
        #expect(finding.message.contains("verification"))
        #expect(report.realName.notEvaluable != nil)
        #expect(!report.realName.compliant)
    }

    @Test func anonymousPublishesAreViolationsCountedPerFile() async throws {
        let dir = try TemporaryDirectory()
        var json = goodLines(4)
        json += [
            #"{"ts":"2026-10-11T13:00:00+08:00","event":"post"}"#,
            #"{"ts":"2026-10-11T13:00:01+08:00","user":null,"event":"comment"}"#,
            #"{"ts":"2026-10-11T13:00:02+08:00","user":"","event":"post"}"#,
            #"{"ts":"2026-10-11T13:00:03+08:00","event":"view"}"#,  // anonymous but not a publish
        ]
        let a = try dir.write("a.jsonl", json.joined(separator: "\n") + "\n")
        let combined = [
            #"10.0.0.1 - u0 [11/Oct/2026:12:00:00 +0800] "POST /api/verify/phone HTTP/1.1" 200 5 "-" "app""#,
            #"10.0.0.1 - - [11/Oct/2026:12:00:01 +0800] "POST /api/posts HTTP/1.1" 201 5 "-" "app""#,
        ]
        let b = try dir.write("b.log", combined.joined(separator: "\n") + "\n")
        let logfmt = [#"ts=2026-10-11T12:00:00+08:00 user=u2 event=verify_phone"#, #"ts=2026-10-11T12:00:00+08:00 user= event=upload"#]
        let c = try dir.write("c.logfmt", logfmt.joined(separator: "\n") + "\n")
        let report = try await runCheck([dir.path], policy: try policy(), asOf: asOf, parallelism: 2)
        let findings = report.findings.filter { $0.rule == .anonymousPublish }
        #expect(findings.count == 3)
        let inA = try #require(findings.first { $0.file == a })
        #expect(inA.count == 3)
        #expect(inA.lines == [5, 6, 7])
        #expect(inA.severity == .error)
        #expect(findings.first { $0.file == b }?.lines == [2])
        #expect(findings.first { $0.file == c }?.lines == [2])
        #expect(report.realName.anonymousPublishes == 5)
        #expect(report.realName.notEvaluable == nil)
        #expect(!report.realName.compliant)
        #expect(!report.compliant)
    }

    @Test func nothingToAudit() async throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("empty"), withIntermediateDirectories: true)
        await #expect(throws: NothingToAudit.self) {
            try await runCheck([dir.path("empty")], policy: try policy(), asOf: asOf, parallelism: 1)
        }
        try dir.write("hidden/.app.log", jsonl("u1", "view") + "\n")
        await #expect(throws: NothingToAudit.self) {
            try await runCheck([dir.path("hidden")], policy: try policy(), asOf: asOf, parallelism: 1)
        }
    }

    @Test func idsDifferingOnlyInInvalidUTF8AreTwoUsers() async throws {
        let dir = try TemporaryDirectory()
        var bytes: [UInt8] = []
        // \xff x verifies; \xfe x publishes without ever verifying: a violation of its own.
        bytes += Array(#"{"ts":"2026-10-11T12:00:00+08:00","user":""#.utf8) + [0xFF] + Array(#" x","event":"verify_phone"}"#.utf8) + [0x0A]
        bytes += Array(#"{"ts":"2026-10-11T12:00:01+08:00","user":""#.utf8) + [0xFE] + Array(#" x","event":"post"}"#.utf8) + [0x0A]
        let path = try dir.write("a.jsonl", bytes)
        let report = try await runCheck([path], policy: try policy(), asOf: asOf, parallelism: 1)
        #expect(report.realName.usersSeen == 2)
        #expect(report.realName.verifiedUsers == 1)
        #expect(report.realName.violatingUsers.map(\.user) == ["\\xfe x"])
        let finding = try #require(report.findings.first { $0.rule == .violatingUser })
        #expect(finding.message.contains("user \\xfe x published"))
    }

    @Test func specialFilesAndLinksOutOfTheTreeAreSkippedWithWarnings() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("logs/a.jsonl", goodLines(4).joined(separator: "\n") + "\n")
        let outside = try dir.write("secret/shadow", jsonl("root", "view") + "\n")
        let fifo = dir.path("logs/pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let link = dir.path("logs/shadow")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: dir.path("logs/pipe-link"), withDestinationPath: fifo)
        let report = try await runCheck([dir.path("logs")], policy: try policy(), asOf: asOf, parallelism: 1)
        #expect(report.inputs.files == 1)
        #expect(report.realName.usersSeen == 4)
        #expect(Set(report.findings.filter { $0.rule == .specialFile }.compactMap(\.file)) == [fifo, dir.path("logs/pipe-link")])
        #expect(report.findings.first { $0.rule == .symlinkOutsideSource }?.file == link)
        #expect(
            report.findings.filter { $0.rule == .specialFile || $0.rule == .symlinkOutsideSource }.allSatisfy { $0.severity == .warning })
        #expect(report.compliant)
        // Named explicitly, a FIFO is skipped too, never opened.
        let named = try await runCheck([dir.path("logs/a.jsonl"), fifo], policy: try policy(), asOf: asOf, parallelism: 1)
        #expect(named.findings.contains { $0.rule == .specialFile && $0.file == fifo })
    }

    @Test func fileNamesAreEscapedInMessages() async throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("evil\nno records on 2026-10-11\u{1B}[2J.log", "not a log\n")
        let report = try await runCheck([dir.path], policy: try policy(), asOf: asOf, parallelism: 1)
        let text = report.text()
        #expect(!text.contains("\u{1B}"))
        #expect(!text.contains("\nno records on 2026-10-11"))
        #expect(text.contains("evil\\x0ano records on 2026-10-11\\x1b[2J.log"))
        #expect(report.findings.first { $0.rule == .unrecognisedFile }?.file == path)
    }
}

extension Policy {
    /// The same policy with other publish events (none: a log-retention law).
    fileprivate func withPublishEvents(_ events: [String]) -> Policy {
        var copy = self
        copy.realName.publishEvents = events
        return copy
    }
}
