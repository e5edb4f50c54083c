import ArgumentParser
import Testing

@testable import custody

/// `check` and `run` are parsed on their own first (start-up time); the result must be exactly
/// what parsing against the whole command tree gives, and everything else must go that way.
@Suite struct FastParseTests {
    /// Every stored value of the parsed command, nested ones included.
    func describe(_ command: ParsableCommand) -> String {
        var text = ""
        dump(command, to: &text)
        return text
    }

    @Test(arguments: [
        ["check", "logs"],
        ["check", "a.gz", "b.gz", "--as-of", "2026-11-19", "--format", "json"],
        ["check", "--policy", "p.yaml", "--policy", "q.yaml", "--jobs", "3", "--since", "2026-10-01", "-"],
        ["check", "logs", "--input-format", "combined", "--registry", "users.csv"],
        ["check", "--", "--odd-name.log"],
        ["run", "--config", "custody.yaml", "--as-of", "2026-11-19", "--quiet"],
        ["run", "--config", "c.yaml", "--format", "json", "--jobs", "2"],
        ["run"],
    ])
    func sameCommandAsTheWholeTree(arguments: [String]) throws {
        let whole = try Custody.parseAsRoot(arguments)
        let fast = try #require(Main.parsedOnItsOwn(arguments))
        #expect(type(of: fast) == type(of: whole))
        #expect(describe(fast) == describe(whole))
    }

    /// Help, version, mistakes and other commands: the whole tree's answer, error for error.
    @Test(arguments: [
        ["check", "--help"], ["check", "-h"], ["check", "help"], ["help", "check"], ["check"],
        ["check", "--no-such-option"], ["check", "logs", "--jobs", "0"], ["run", "--as-of", "yesterday"],
        ["--version"], ["status", "--config", "c.yaml"], ["check", "--version"],
    ])
    func othersGoTheWholeTreesWay(arguments: [String]) {
        let whole = Result { try Custody.parseAsRoot(arguments) }
        let fast = Result { try Main.parse(arguments) }
        switch (whole, fast) {
        case (.success(let a), .success(let b)):
            #expect(type(of: a) == type(of: b))
            #expect(describe(a) == describe(b))
        case (.failure(let a), .failure(let b)):
            #expect(Custody.message(for: a) == Custody.message(for: b))
            #expect(Custody.exitCode(for: a) == Custody.exitCode(for: b))
            #expect(Custody.fullMessage(for: a) == Custody.fullMessage(for: b))
        default:
            Issue.record("whole tree: \(whole), first try: \(fast)")
        }
    }
}
