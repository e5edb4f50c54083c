import CustodyCore
import Foundation
import Testing

@Suite("Policy provenance and status")
struct PolicyProvenanceTests {
    let withStatus =
        basePolicyYAML + """

            status: repealed
            effective_from: 2016-08-01
            repealed_on: 2022-08-01
            superseded_by: cn-apps
            confidence: medium
            notes: read in a translation
            sources:
              - title: The Provisions
                article: art. 7(6)
                document_number: No. 1
                language: zh
                supports: [retention.minimum_days, real_name]
            preservation:
              hold_days: 90
              renewal_days: 90
              renewals: 1
            """

    @Test func loadsStatusSourcesAndPreservation() throws {
        let policy = try loadPolicy(withStatus)
        let p = policy.provenance
        #expect(p.status == .repealed)
        #expect(p.effectiveFrom == CivilDay(year: 2016, month: 8, day: 1))
        #expect(p.repealedOn == CivilDay(year: 2022, month: 8, day: 1))
        #expect(p.supersededBy == "cn-apps")
        #expect(p.confidence == .medium)
        #expect(p.notes == "read in a translation")
        #expect(
            p.sources == [
                Policy.Source(
                    title: "The Provisions", article: "art. 7(6)", documentNumber: "No. 1",
                    language: "zh", supports: ["retention.minimum_days", "real_name"])
            ])
        #expect(policy.preservation == Policy.Preservation(holdDays: 90, renewalDays: 90, renewals: 1))
        #expect(policy.preservation?.longestDays == 180)
    }

    @Test func retentionBases() throws {
        let text = replacingLine(
            lineNumber(of: "maximum_days:"),
            with: [
                "  maximum_days: 180", "  maximum_days_basis: custody_default", "  minimum_days_basis: law",
                "  minimum_period: two months", "  storage_location: in China",
            ])
        let r = try loadPolicy(text).retention
        #expect(r.minimumBasis == .law)
        #expect(r.maximumBasis == .custodyDefault)
        #expect(r.minimumPeriod == "two months")
        #expect(r.storageLocation == "in China")
    }

    @Test func zeroMinimumMeansNoMinimum() throws {
        let policy = try loadPolicy(replacingLine(lineNumber(of: "minimum_days:"), with: ["  minimum_days: 0"]))
        #expect(policy.retention.minimumDays == 0)
        let error = try #require(policyError(replacingLine(lineNumber(of: "minimum_days:"), with: ["  minimum_days: -1"])))
        #expect(error.key == "retention.minimum_days")
    }

    @Test func unknownSourceKeyNamesFileLineAndDottedKey() throws {
        let text = withStatus.replacingOccurrences(of: "    article: art. 7(6)", with: "    artcle: art. 7(6)")
        let error = try #require(policyError(text))
        #expect(error.file == "bad.yaml")
        #expect(error.key == "sources[0].artcle")
        #expect(error.line == lineNumber(of: "artcle:", in: text))
    }

    @Test(arguments: [
        ("status: repealed", "status: gone", "status"),
        ("effective_from: 2016-08-01", "effective_from: 2016-8-1", "effective_from"),
        ("repealed_on: 2022-08-01", "repealed_on: 2015-01-01", "repealed_on"),
        ("repealed_on: 2022-08-01", "", "status"),
        ("confidence: medium", "confidence: certain", "confidence"),
        ("supports: [retention.minimum_days, real_name]", "supports: [everything]", "sources[0].supports"),
        ("  hold_days: 90", "  hold_days: 0", "preservation.hold_days"),
        ("  renewals: 1", "  renewals: 1\n  expires: never", "preservation.expires"),
    ])
    func badValuesAreErrorsNamingTheKey(original: String, replacement: String, key: String) throws {
        let text = withStatus.replacingOccurrences(of: original, with: replacement)
        let error = try #require(policyError(text))
        #expect(error.key == key, "\(error)")
        #expect(error.line != nil)
    }

    @Test func basisOfAMissingMaximumIsAnError() throws {
        let text = replacingLine(lineNumber(of: "maximum_days:"), with: ["  maximum_days_basis: law"])
        let error = try #require(policyError(text))
        #expect(error.key == "retention.maximum_days_basis")
        let unknown = try #require(
            policyError(replacingLine(lineNumber(of: "maximum_days:"), with: ["  maximum_days: 180", "  maximum_days_basis: vibes"])))
        #expect(unknown.key == "retention.maximum_days_basis")
    }

    @Test func inForceBoundaries() throws {
        let p = try loadPolicy(withStatus).provenance
        let day = { (y: Int, m: Int, d: Int) in CivilDay(year: y, month: m, day: d)! }
        #expect(!p.isInForce(on: day(2016, 7, 31)))
        #expect(p.isInForce(on: day(2016, 8, 1)))
        #expect(p.isInForce(on: day(2022, 7, 31)))
        #expect(!p.isInForce(on: day(2022, 8, 1)))
        #expect(p.isInForce(onAnyDayFrom: day(2022, 7, 31), through: day(2022, 9, 1)))
        #expect(!p.isInForce(onAnyDayFrom: day(2022, 8, 1), through: day(2022, 9, 1)))
        #expect(!p.isInForce(onAnyDayFrom: day(2016, 6, 1), through: day(2016, 7, 31)))
        #expect(p.isInForce(onAnyDayFrom: day(2016, 6, 1), through: day(2016, 8, 1)))
        let proposed = Policy.Provenance(status: .proposed)
        #expect(!proposed.isInForce(onAnyDayFrom: day(2000, 1, 1), through: day(2030, 1, 1)))
        #expect(Policy.Provenance().isInForce(on: day(1990, 1, 1)))
    }

    @Test func notInForceFindingOnlyWhenNoDayOfTheWindowIsCovered() throws {
        let policy = try loadPolicy(withStatus)
        // Window 2022-07-31 … 2022-09-28: in force on its first day.
        let before = RetentionRule(minimumDays: 60, asOf: CivilDay(year: 2022, month: 9, day: 29)!, since: nil)
        #expect(PolicyFindings.notInForce(policy: policy, rule: before) == nil)
        let after = RetentionRule(minimumDays: 60, asOf: CivilDay(year: 2022, month: 9, day: 30)!, since: nil)
        let finding = try #require(PolicyFindings.notInForce(policy: policy, rule: after))
        #expect(finding.rule == .policyNotInForce)
        #expect(finding.severity == .warning)
        #expect(
            finding.message
                == "policy test-policy was not in force on any day of the window 2022-08-01 … 2022-09-29 (repealed on 2022-08-01; superseded by cn-apps)"
        )
    }

    @Test func overRetentionIsAnErrorOnlyForAStatedMaximum() throws {
        let asOf = CivilDay(year: 2026, month: 11, day: 20)!
        let cutoff = asOf.adding(days: -180)
        let days: [Int32: Int] = [cutoff.daysSinceEpoch - 2: 5, cutoff.daysSinceEpoch - 1: 7, cutoff.daysSinceEpoch: 100]
        var policy = try loadPolicy()
        let unstated = try #require(PolicyFindings.overRetained(policy: policy, asOf: asOf, recordsPerDay: days))
        #expect(unstated.severity == .warning)
        #expect(unstated.count == 12)
        #expect(unstated.day == cutoff.adding(days: -2))
        policy.retention.maximumBasis = .provider
        #expect(PolicyFindings.overRetained(policy: policy, asOf: asOf, recordsPerDay: days)?.severity == .error)
        policy.retention.maximumBasis = .law
        #expect(PolicyFindings.overRetained(policy: policy, asOf: asOf, recordsPerDay: days)?.severity == .error)
        policy.retention.maximumBasis = .custodyDefault
        #expect(PolicyFindings.overRetained(policy: policy, asOf: asOf, recordsPerDay: days)?.severity == .warning)
        #expect(PolicyFindings.overRetained(policy: policy, asOf: asOf, recordsPerDay: [cutoff.daysSinceEpoch: 1]) == nil)
        policy.retention.maximumDays = nil
        #expect(PolicyFindings.overRetained(policy: policy, asOf: asOf, recordsPerDay: days) == nil)
    }

    @Test func lintWarnsWhereProvenanceIsMissing() throws {
        #expect(PolicyLint.warnings(try loadPolicy()).count == 5)  // sources, status, effective_from, both bases
        var policy = try loadPolicy(withStatus)
        policy.retention.minimumBasis = .law
        policy.retention.maximumBasis = .custodyDefault
        #expect(PolicyLint.warnings(policy).isEmpty)
        policy.provenance.sources[0].documentNumber = nil
        #expect(PolicyLint.warnings(policy) == ["sources[0]: neither url nor document_number; say where the text can be found"])
    }

    @Test func everyShippedPolicyLoadsAndCitesItsSources() throws {
        let directory = repositoryRoot.appendingPathComponent("Policies")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 8)
        for name in names {
            let policy = try PolicyLoader.load(path: directory.appendingPathComponent(name).path)
            #expect(name == "\(policy.id).yaml", "file name and id differ: \(name)")
            #expect(PolicyLint.warnings(policy).isEmpty, "\(name): \(PolicyLint.warnings(policy))")
            #expect(policy.provenance.confidence != nil, "\(name) states no confidence")
            #expect(policy.provenance.sources.contains { !$0.supports.isEmpty }, "\(name): no source supports a rule")
        }
    }

    @Test func describesRulesInPlainWords() throws {
        let path = repositoryRoot.appendingPathComponent("Policies/cn-cac-2016-apps.yaml").path
        let text = PolicyDescription.text(try PolicyLoader.load(path: path))
        #expect(text.contains("status        REPEALED on 2022-08-01; in force from 2016-08-01; superseded by cn-apps"))
        #expect(text.contains("every calendar day of the last 60 days holds records — set by law"))
        #expect(
            text.contains(
                "records older than 180 days are over-retained (a warning; custody purge proposes deleting them) — Custody's default, not set by law"
            ))
        #expect(text.contains("cites 移动互联网应用程序信息服务管理规定 (2016)"))
    }
}
