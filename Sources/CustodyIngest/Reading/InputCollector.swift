import Foundation

/// Turns the paths a user named into the sorted list of files to read.
///
/// Directories are walked recursively, following symbolic links but never into a directory
/// already walked (so a link to `.` cannot loop); hidden files and directories (name starting
/// with `.`) are skipped, though a path named explicitly is read even if hidden. A file reached
/// under two names (`dir` and `dir/.`, or through a link) is read once, under the name that
/// sorts first. The result is sorted, so file positions (used to break ties between equal
/// timestamps) never depend on the order paths were given or the file system lists them.
public enum InputCollector {
    public struct MissingInput: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    private struct Identity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    public static func collect(_ paths: [String]) throws -> [String] {
        var files: [Identity: String] = [:]
        var walked = Set<Identity>()
        for path in paths {
            guard let (identity, isDirectory) = identify(path) else {
                throw MissingInput(path: path, reason: "no such file or directory")
            }
            if isDirectory {
                try walk(directory: path, identity: identity, into: &files, walked: &walked)
            } else {
                add(path, identity, to: &files)
            }
        }
        return files.values.sorted()
    }

    private static func add(_ path: String, _ identity: Identity, to files: inout [Identity: String]) {
        if let existing = files[identity], existing <= path { return }
        files[identity] = path
    }

    private static func identify(_ path: String) -> (Identity, Bool)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)), (st.st_mode & S_IFMT) == S_IFDIR)
    }

    private static func walk(directory: String, identity: Identity, into files: inout [Identity: String],
                             walked: inout Set<Identity>) throws {
        guard walked.insert(identity).inserted else { return }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MissingInput(path: directory, reason: "cannot list the directory")
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = base + name
            guard let (child, isDirectory) = identify(path) else { continue } // dangling link
            if isDirectory {
                try walk(directory: path, identity: child, into: &files, walked: &walked)
            } else {
                add(path, child, to: &files)
            }
        }
    }
}
