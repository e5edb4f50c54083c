import CustodyCore
import CustodyStore
import Foundation
import Testing

/// `docs/configuration.md` cannot fall behind the loader: every key the strict loader of
/// `custody.yaml` accepts, at the top level and in a source, is documented there.
@Suite struct ConfigurationDocumentationTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return url
    }()

    /// The keys the loader lists when it refuses an unknown one ("known keys here: a, b").
    static func knownKeys(refusing yaml: String) throws -> [String] {
        do {
            _ = try CustodyConfiguration.parse(yaml, file: "/tmp/custody.yaml")
        } catch let error as ConfigurationError {
            let text = error.description
            let marker = try #require(text.range(of: "known keys here: "), "\(text)")
            let list = text[marker.upperBound...].prefix { $0 != ")" }
            return list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        Issue.record("the loader accepted an unknown key")
        return []
    }

    @Test func everyAcceptedKeyIsDocumented() throws {
        let docs = try String(contentsOf: Self.root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let top = try Self.knownKeys(refusing: "no_such_key: 1\n")
        let source = try Self.knownKeys(refusing: "sources:\n  - path: logs\n    no_such_key: 1\npolicy: p.yaml\nstate_directory: s\n")
        #expect(top.contains("sources") && top.contains("state_directory"), "\(top)")
        #expect(source.contains("path"), "\(source)")
        for key in top { #expect(docs.contains("`\(key)`"), "docs/configuration.md does not document \(key)") }
        for key in source { #expect(docs.contains("`sources[].\(key)`"), "docs/configuration.md does not document sources[].\(key)") }
    }
}
