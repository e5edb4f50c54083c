import ArgumentParser
import Foundation
import Testing

@testable import custody

/// The documentation in `docs/` stands alone and keeps up with the code.
@Suite struct DocumentationTests {
    static let root = CustodyProcess.repositoryRoot

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func allDocs() throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
        return try names.filter { $0.hasSuffix(".md") }.sorted().map { try read("docs/" + $0) }.joined(separator: "\n")
    }

    @Test func indexLinksEveryDocument() throws {
        let index = try Self.read("docs/README.md")
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path)
        for name in names where name.hasSuffix(".md") && name != "README.md" {
            #expect(index.contains("](\(name))"), "docs/README.md does not link \(name)")
        }
        #expect(try Self.read("README.md").contains("docs/README.md"))
    }

    /// The README is for users of this repository: nothing it cites lies outside it.
    @Test func readmeStandsAlone() throws {
        let readme = try Self.read("README.md")
        #expect(!readme.contains("../"), "the README points outside the repository")
        #expect(!readme.lowercased().contains("contract"))
        // Every relative link resolves in the repository.
        let link = try NSRegularExpression(pattern: #"\]\(([^)#:]+)(#[^)]*)?\)"#)
        for match in link.matches(in: readme, range: NSRange(readme.startIndex..., in: readme)) {
            let target = String(readme[Range(match.range(at: 1), in: readme)!])
            #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(target).path), "README links \(target)")
        }
    }

    @Test func everySchemaIsDocumented() throws {
        let docs = try Self.read("docs/schemas.md")
        let pattern = try NSRegularExpression(pattern: #""(custody\.[a-z_]+\.v[0-9]+)""#)
        var found = Set<String>()
        let walker = try #require(
            FileManager.default.enumerator(at: Self.root.appendingPathComponent("Sources"), includingPropertiesForKeys: nil))
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                found.insert(String(text[Range(m.range(at: 1), in: text)!]))
            }
        }
        #expect(found.contains("custody.check.v1"))
        for schema in found.sorted() { #expect(docs.contains("`\(schema)`"), "docs/schemas.md does not document \(schema)") }
    }

    /// Every field of a real `custody.check.v1` document is in the table of docs/schemas.md.
    @Test func everyCheckFieldIsDocumented() throws {
        let docs = try Self.read("docs/schemas.md")
        let result = try CustodyProcess.run([
            "check", "SampleLogs/logs", "--policy", "Policies/cn-cac-2016-apps.yaml",
            "--as-of", "2026-11-19", "--format", "json",
        ])
        let json = try CustodyProcess.json(result)
        var paths = Set<String>()
        func walk(_ value: Any, _ path: String) {
            if let object = value as? [String: Any] {
                for (key, child) in object {
                    let name = path.isEmpty ? key : "\(path).\(key)"
                    paths.insert(name)
                    walk(child, name)
                }
            } else if let array = value as? [Any] {
                for element in array { walk(element, path + "[]") }
            }
        }
        walk(json, "")
        for path in paths.sorted() {
            #expect(docs.contains("`\(path)`"), "docs/schemas.md does not document custody.check.v1 field \(path)")
        }
    }

    /// Every command has its section in docs/commands.md and every option is documented.
    @Test func everyCommandAndOptionIsDocumented() throws {
        let commands = try Self.read("docs/commands.md")
        let docs = try Self.allDocs()
        let option = try NSRegularExpression(pattern: #"(?<![\w-])--[a-z][a-z0-9-]*"#)
        let ignored: Set<String> = ["--help", "--version", "--experimental-dump-help", "--generate-completion-script"]
        for (path, command) in HelpTextTests.commands() where !path.isEmpty {
            let name = "custody " + path.joined(separator: " ")
            #expect(commands.contains("## \(name)\n"), "docs/commands.md has no section for \(name)")
            let help = HelpTextTests.help(command)
            for m in option.matches(in: help, range: NSRange(help.startIndex..., in: help)) {
                let flag = String(help[Range(m.range, in: help)!])
                guard !ignored.contains(flag) else { continue }
                #expect(
                    docs.contains("`\(flag)") || docs.contains(" \(flag) ") || docs.contains("[\(flag)"),
                    "\(name) \(flag) is documented nowhere in docs/")
            }
        }
    }
}
