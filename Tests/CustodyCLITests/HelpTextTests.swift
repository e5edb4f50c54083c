import ArgumentParser
import Foundation
import Testing

@testable import custody

/// `--help` teaches: defaults as users write them, options only where they mean something, and
/// examples that can be pasted as they are.
@Suite struct HelpTextTests {
    /// Every command and subcommand, with its path (`["request", "add"]`).
    static func commands(_ root: ParsableCommand.Type = Custody.self, path: [String] = []) -> [([String], ParsableCommand.Type)] {
        var all: [([String], ParsableCommand.Type)] = [(path, root)]
        for sub in root.configuration.subcommands {
            let name = sub.configuration.commandName ?? sub._commandName
            all += commands(sub, path: path + [name])
        }
        return all
    }

    static func help(_ command: ParsableCommand.Type) -> String {
        Custody.helpMessage(for: command, columns: 80)
    }

    @Test func defaultsArePrintedAsUsersWriteThem() {
        #expect(Self.help(DaemonCommand.self).contains("(default: 15m)"), "\(Self.help(DaemonCommand.self))")
        for (path, command) in Self.commands() {
            #expect(!Self.help(command).contains("Duration("), "custody \(path.joined(separator: " ")) --help")
        }
        #expect(Duration(argument: "90s")?.description == "90s")
        #expect(Duration(argument: "120")?.description == "2m")
        #expect(Duration(argument: "1d")?.description == "1d")
    }

    /// `--as-of` only where a command judges as of a day.
    @Test func asOfOnlyWhereItMeansSomething() {
        // hold list judges which preservation holds have lapsed as of the day.
        let judging: Set<String> = [
            "check", "run", "daemon", "status", "verify", "purge", "request list", "hold list",
            "report transparency", "report compliance", "report dsa",
        ]
        let notJudging: Set<String> = [
            "request add", "request import", "request show", "request decide", "request produce",
            "request close", "request acknowledge", "registry import", "registry list", "hold extend", "ledger init", "ledger key",
            "ledger checkpoint",
            "ledger export", "report verify", "policy list", "policy show", "policy lint",
        ]
        var seen = Set<String>()
        for (path, command) in Self.commands() where command.configuration.subcommands.isEmpty {
            let name = path.joined(separator: " ")
            seen.insert(name)
            let hasAsOf = Self.help(command).contains("--as-of")
            if judging.contains(name) { #expect(hasAsOf, "custody \(name) should take --as-of") }
            if notJudging.contains(name) { #expect(!hasAsOf, "custody \(name) judges nothing as of a day") }
        }
        #expect(judging.union(notJudging).isSubset(of: seen))
        // And it is refused there, not silently ignored.
        #expect(throws: (any Error).self) { try Custody.parseAsRoot(["ledger", "key", "--as-of", "2026-11-19"]) }
    }

    /// Every example in every `--help` is one line that parses as it stands.
    @Test func examplesPasteAndParse() throws {
        var examples = 0
        for (path, command) in Self.commands() {
            let lines = Self.help(command).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (index, line) in lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard let start = trimmed.range(of: "custody ")?.lowerBound,
                    start == trimmed.startIndex || trimmed[..<start].hasSuffix("| ")
                else { continue }
                let invocation = String(trimmed[start...])
                // Example lines only: indented, right after "Example…:" or another example.
                guard line.hasPrefix("  "), index > 0, lines[index - 1].contains("Example") || lines[index - 1].contains("custody ")
                else { continue }
                #expect(!line.hasSuffix("\\"), "custody \(path.joined(separator: " ")): an example continues on the next line: \(line)")
                // The command itself: up to a redirection or the next command of a pipeline.
                let words = try #require(Self.shellWords(invocation), "unbalanced quotes: \(invocation)")
                    .prefix { $0 != ">" && $0 != "|" && $0 != "<" }
                do {
                    _ = try Custody.parseAsRoot(Array(words.dropFirst()))
                } catch {
                    Issue.record(
                        "custody \(path.joined(separator: " ")) --help example does not parse: \(invocation): \(Custody.message(for: error))"
                    )
                }
                examples += 1
            }
        }
        #expect(examples >= 7, "examples found: \(examples)")
    }

    /// Words as `sh` splits them, for the quoting the examples use ("…" and '…').
    static func shellWords(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                inWord = true
            } else if c == " " {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        guard quote == nil else { return nil }
        if inWord { words.append(current) }
        return words
    }

    @Test func checkReadsStandardInput() throws {
        let dir = try TemporaryDirectory()
        let log = try dir.write("app.jsonl", StateFixture.lines(StateFixture.events()) + "not json\n")
        let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-cac-2016-apps.yaml").path
        let common = ["--policy", policy, "--as-of", "2026-11-19", "--format", "json"]
        let direct = try CustodyProcess.run(["check", log] + common)
        let bin = CustodyProcess.executable.path
        for feed in ["cat app.jsonl", "gzip -c app.jsonl"] {
            let piped = try CustodyProcess.run(
                ["-c", "\(feed) | '\(bin)' check - " + common.map { "'\($0)'" }.joined(separator: " ")],
                in: dir.url, program: URL(fileURLWithPath: "/bin/sh"))
            #expect(piped.status == direct.status, "\(feed): \(piped.stderr)")
            let a = try CustodyProcess.json(piped)
            let b = try CustodyProcess.json(direct)
            for key in ["inputs", "retention", "real_name"] {
                #expect(
                    NSDictionary(dictionary: a[key] as! [String: Any]) == NSDictionary(dictionary: b[key] as! [String: Any]),
                    "\(feed): \(key)")
            }
            // Findings name standard input, not the temporary copy.
            #expect(piped.stdout.contains("\"file\": \"stdin\""), "\(piped.stdout)")
            #expect(!piped.stdout.contains("custody-stdin-"))
        }
        let twice = try CustodyProcess.run(["check", "-", "-"] + common)
        #expect(twice.status == 2)
    }
}

@Suite("check: dates and standard input that would pass unjudged")
struct CheckUnjudgedInputTests {
    /// With `--since` on or after `--as-of` every day of the window was exempt: compliant, unread.
    @Test func sinceAfterAsOfIsAUsageError() throws {
        let dir = try TemporaryDirectory()
        let log = try dir.write("app.jsonl", StateFixture.lines(StateFixture.events()))
        let result = try CustodyProcess.run(["check", log, "--as-of", "2026-11-05", "--since", "2099-01-01"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--since 2099-01-01 is not before --as-of 2026-11-05"), "\(result.stderr)")
        // The window ends the day before --as-of: --since on --as-of exempts all of it too.
        let same = try CustodyProcess.run(["check", log, "--as-of", "2026-11-05", "--since", "2026-11-05"])
        #expect(same.status == 2, "\(same.stderr)")
        let dayBefore = try CustodyProcess.run(["check", log, "--as-of", "2026-11-05", "--since", "2026-11-04", "--format", "json"])
        #expect(dayBefore.status != 2, "\(dayBefore.stderr)")
    }

    /// RFC 3164 times have no year: piped in, their copy's modification time is not the log's,
    /// and taken as now it dated a 2025 log to 2026 (compliant). Now every such line is refused.
    @Test func syslogWithoutAYearFromStandardInputIsRefused() throws {
        let dir = try TemporaryDirectory()
        let lines = (0..<3).map { "<34>Nov 0\($0 + 2) 10:00:00 host app: user=u\($0) event=view" }
        let log = try dir.write("messages", lines.joined(separator: "\n") + "\n")
        let policy = CustodyProcess.repositoryRoot.appendingPathComponent("Policies/cn-cac-2016-apps.yaml").path
        let bin = CustodyProcess.executable.path
        let piped = try CustodyProcess.run(
            ["-c", "cat '\(log)' | '\(bin)' check - --policy '\(policy)' --as-of 2026-11-05 --format json"],
            in: dir.url, program: URL(fileURLWithPath: "/bin/sh"))
        #expect(piped.status == 1, "\(piped.stderr)")
        let inputs = try #require(try CustodyProcess.json(piped)["inputs"] as? [String: Any])
        #expect(inputs["records"] as? Int == 0)
        #expect(inputs["rejected_lines"] as? Int == 3)
        #expect(piped.stdout.contains("modification time"), "\(piped.stdout)")
    }
}
