import CustodyCore
import Foundation
import Testing

/// `docs/findings.md` cannot fall behind the code: every rule id a finding can carry is in it.
@Suite struct FindingDocumentationTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return url
    }()

    /// Rule ids written in the sources: `rule: "a.b"` arguments, and raw values `case name = "a.b"`
    /// in a rule family (`input.`, `retention.`, …), wherever they are, so that a rule declared
    /// outside `Finding.Rule` is found too (and a ledger entry kind such as `hold.placed` is not).
    static func ruleIDsInSources() throws -> Set<String> {
        let families = Set(Finding.Rule.allCases.map { $0.rawValue.prefix { $0 != "." } })
        let pattern = try NSRegularExpression(pattern: #"(?:\bcase\s+`?\w+`?\s*=\s*|\brule:\s*)"([a-z][a-z_]*\.[a-z][a-z_]*)""#)
        var ids = Set<String>()
        let sources = root.appendingPathComponent("Sources")
        let walker = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let id = String(text[Range(match.range(at: 1), in: text)!])
                let isArgument = text[Range(match.range, in: text)!].hasPrefix("rule:")
                if isArgument || families.contains(id.prefix { $0 != "." }) { ids.insert(id) }
            }
        }
        return ids
    }

    @Test func everyRuleIdIsDocumented() throws {
        let docs = try String(contentsOf: Self.root.appendingPathComponent("docs/findings.md"), encoding: .utf8)
        let scanned = try Self.ruleIDsInSources()
        let declared = Set(Finding.Rule.allCases.map(\.rawValue))
        // The scan must see what the enum declares, or it would miss rules declared elsewhere too.
        #expect(declared.isSubset(of: scanned), "scan missed \(declared.subtracting(scanned).sorted())")
        for id in declared.union(scanned).sorted() {
            #expect(docs.contains("`\(id)`"), "docs/findings.md does not document the rule \(id)")
        }
    }
}
