import Foundation

/// Turns the paths a user named into the sorted list of files to read.
///
/// Directories are walked recursively; hidden files and directories (name starting with `.`)
/// are skipped. A path named explicitly is read even if hidden. The result is sorted and free of
/// duplicates, so file positions (used to break ties between equal timestamps) never depend on
/// the order paths were given or the order the file system lists them.
public enum InputCollector {
    public struct MissingInput: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static func collect(_ paths: [String]) throws -> [String] {
        var files = Set<String>()
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw MissingInput(path: path, reason: "no such file or directory")
            }
            if isDirectory.boolValue {
                try walk(directory: path, into: &files)
            } else {
                files.insert(path)
            }
        }
        return files.sorted()
    }

    private static func walk(directory: String, into files: inout Set<String>) throws {
        let fm = FileManager.default
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory)
        } catch {
            throw MissingInput(path: directory, reason: "cannot list the directory")
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        for name in names where !name.hasPrefix(".") {
            let path = base + name
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { continue } // dangling link
            if isDirectory.boolValue {
                try walk(directory: path, into: &files)
            } else {
                files.insert(path)
            }
        }
    }
}
