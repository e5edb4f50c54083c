import Foundation
import Testing

@testable import custody

/// `make install` installs a stripped binary, the man pages and shell completions; the man pages
/// in `docs/man/` are what the command definitions generate.
@Suite struct InstallTests {
    static let root = CustodyProcess.repositoryRoot
    static let generateManual = root.appendingPathComponent(".build/debug/generate-manual-tool")

    /// A page per command, named as `man custody-request-add` finds it.
    @Test func everyCommandHasAManPage() {
        for (path, _) in HelpTextTests.commands() {
            let name = (["custody"] + path).joined(separator: "-")
            let page = Self.root.appendingPathComponent("docs/man/\(name).1")
            #expect(FileManager.default.fileExists(atPath: page.path), "docs/man/\(name).1 is missing: run make man")
        }
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: InstallTests.generateManual.path),
            "swift-argument-parser's generate-manual tool is not built yet (make man-check builds it and checks the same)"))
    func committedManPagesAreCurrent() throws {
        let result = try CustodyProcess.run(
            ["scripts/generate-man.sh", CustodyProcess.executable.path, "--check", "docs/man"],
            program: URL(fileURLWithPath: "/bin/bash"))
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func makeInstallInstallsStrippedBinaryManPagesAndCompletions() throws {
        let dir = try TemporaryDirectory()
        let make = [
            "make", "--no-print-directory", "-C", Self.root.path, "CUSTODY=\(CustodyProcess.executable.path)",
            "DESTDIR=\(dir.url.path)", "PREFIX=/usr/local",
        ]
        let install = try CustodyProcess.run(make + ["install-files"], program: URL(fileURLWithPath: "/usr/bin/env"))
        try #require(install.status == 0, "\(install.stdout)\(install.stderr)")

        let prefix = dir.url.appendingPathComponent("usr/local")
        let binary = prefix.appendingPathComponent("bin/custody")
        #expect(FileManager.default.isExecutableFile(atPath: binary.path))
        let sections = try CustodyProcess.run(["readelf", "-S", "-W", binary.path], program: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(sections.status == 0, "\(sections.stderr)")
        #expect(!sections.stdout.contains(".symtab"), "not stripped")
        #expect(!sections.stdout.contains(".debug_info"), "debug information left in")
        let version = try CustodyProcess.run(["--version"], program: binary)
        #expect(version.status == 0 && version.stdout.contains(CustodyVersion.string))
        let installedSize = try #require(try FileManager.default.attributesOfItem(atPath: binary.path)[.size] as? Int)
        let builtSize = try #require(try FileManager.default.attributesOfItem(atPath: CustodyProcess.executable.path)[.size] as? Int)
        #expect(installedSize < builtSize)

        let man = prefix.appendingPathComponent("share/man/man1")
        for page in ["custody.1", "custody-run.1", "custody-check.1", "custody-request-add.1"] {
            #expect(FileManager.default.fileExists(atPath: man.appendingPathComponent(page).path), "\(page)")
        }
        let completions = [
            ("share/bash-completion/completions/custody", "_custody"),
            ("share/zsh/site-functions/_custody", "#compdef custody"),
            ("share/fish/vendor_completions.d/custody.fish", "complete -c 'custody'"),
        ]
        for (file, marker) in completions {
            let text = try String(contentsOf: prefix.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains(marker), "\(file)")
            #expect(text.contains("request"), "\(file) completes subcommands")
        }
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/custody/policies/cn-cac-2016-apps.yaml").path))

        let uninstall = try CustodyProcess.run(make + ["uninstall"], program: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        for leftover in ["bin/custody", "share/man/man1/custody.1", "share/man/man1/custody-run.1", completions[0].0] {
            #expect(
                !FileManager.default.fileExists(atPath: prefix.appendingPathComponent(leftover).path), "\(leftover) left after uninstall")
        }
    }
}
