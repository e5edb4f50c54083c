import CustodyCore
import Foundation

/// The directory of shipped policies, and looking policies up in it.
enum PolicyLibrary {
    enum Entry {
        case loaded(path: String, policy: Policy)
        case failed(path: String, error: String)
    }

    /// `--dir`, else `Policies/` in the current directory, else the installed policies: the
    /// same places, in the same order, as the default policy is looked for.
    static func directory(explicit: String?) throws -> String {
        if let explicit {
            guard isDirectory(explicit) else { throw CommandFailure("--dir \(explicit): no such directory") }
            return explicit
        }
        var candidates = ["Policies"]
        if let installed = PolicyLocator.installedPath(executable: PolicyLocator.executablePath()) {
            candidates.append(String(installed[..<(installed.lastIndex(of: "/") ?? installed.startIndex)]))
        }
        guard let found = candidates.first(where: isDirectory) else {
            throw CommandFailure("no policy directory found (looked in \(candidates.joined(separator: ", "))); pass --dir DIR")
        }
        return found
    }

    /// Every `.yaml`/`.yml` file of `directory`, by name, loaded strictly.
    static func entries(in directory: String) throws -> [Entry] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
        return names.map { name in
            let path = directory.hasSuffix("/") ? directory + name : "\(directory)/\(name)"
            do {
                return .loaded(path: path, policy: try PolicyLoader.load(path: path))
            } catch {
                return .failed(path: path, error: CommandFailure.from(error).message)
            }
        }
    }

    /// A policy file named directly, or the policy of that id in the policy directory.
    static func find(_ idOrFile: String, explicitDirectory: String?) throws -> (String, Policy) {
        let looksLikeFile = idOrFile.contains("/") || idOrFile.hasSuffix(".yaml") || idOrFile.hasSuffix(".yml")
        if looksLikeFile || (explicitDirectory == nil && FileManager.default.fileExists(atPath: idOrFile) && !isDirectory(idOrFile)) {
            return (idOrFile, try PolicyLoader.load(path: idOrFile))
        }
        let directory = try directory(explicit: explicitDirectory)
        for case .loaded(let path, let policy) in try entries(in: directory) where policy.id == idOrFile {
            return (path, policy)
        }
        throw CommandFailure("no policy with id '\(idOrFile)' in \(directory) (custody policy list shows the ids)")
    }

    /// Left-aligned columns, two spaces apart; the last column is not padded.
    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == columns - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    private static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}
