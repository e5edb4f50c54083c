import ArgumentParser
import CustodyCore
import CustodyIngest
import Foundation

/// Options shared by the commands that read a policy.
struct PolicyOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Policy YAML file; repeat to audit under several policies at once.",
            discussion: "Default: Policies/\(PolicyLocator.defaultName) in the current directory, else the copy installed with custody.",
            valueName: "file"))
    var policy: [String] = []

    /// The named policies in order, or the default one.
    func loadAll() throws -> [Policy] {
        if policy.isEmpty { return [try PolicyLoader.load(path: try PolicyLocator.resolve(nil))] }
        return try policy.map { try PolicyLoader.load(path: $0) }
    }
}

/// Finds the shipped default policy when none is named.
enum PolicyLocator {
    static let defaultName = "cn-apps.yaml"

    static func resolve(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        var candidates = ["Policies/\(defaultName)"]
        if let installed = installedPath(executable: executablePath()) { candidates.append(installed) }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw CommandFailure(
            "no policy given and the default \(defaultName) was not found (looked in \(candidates.joined(separator: ", "))); pass --policy FILE"
        )
    }

    /// `<prefix>/share/custody/policies/<default>` for an executable at `<prefix>/bin/custody`.
    static func installedPath(executable: String?) -> String? {
        guard let executable, executable.hasPrefix("/") else { return nil }
        let bin = executable[..<(executable.lastIndex(of: "/") ?? executable.startIndex)]
        let prefix = bin[..<(bin.lastIndex(of: "/") ?? bin.startIndex)]
        return "\(prefix)/share/custody/policies/\(defaultName)"
    }

    /// This process's executable, symbolic links resolved. Not `CommandLine.arguments[0]`: run
    /// through `PATH` that is a bare `custody`, which named a directory under the current one.
    static func executablePath() -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 { return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #endif
        return Bundle.main.executableURL?.resolvingSymlinksInPath().path
    }
}

extension CivilDay: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso: argument) }
    public static var defaultCompletionKind: CompletionKind { .default }
}

/// `text` for people, `json` for machines.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// Today's date in a time zone.
func today(in zone: TimeZone) -> CivilDay {
    var calendar = DayCalendar(timeZone: zone)
    return calendar.day(of: Date())
}

/// Writes a status line to stderr, only when stderr is a terminal.
final class TerminalProgress: Sendable {
    let enabled = isatty(2) == 1

    func update(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
