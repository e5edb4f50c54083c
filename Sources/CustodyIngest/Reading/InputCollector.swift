import CustodyCore
import Foundation

/// Turns the paths a user named into the sorted list of files to read.
///
/// Directories are walked recursively, following symbolic links but never into a directory
/// already walked (so a link to `.` cannot loop); hidden files and directories (name starting
/// with `.`) are skipped, though a path named explicitly is read even if hidden. A file reached
/// under two names (`dir` and `dir/.`, or through a link) is read once, under the name that
/// sorts first. The result is sorted, so file positions (used to break ties between equal
/// timestamps) never depend on the order paths were given or the file system lists them.
///
/// Only regular files are read: FIFOs, sockets and devices (named, found, or reached through a
/// link) are skipped with an `input.special_file` warning, since opening a FIFO blocks forever.
/// A symbolic link found while walking whose target lies outside every root (the paths as named)
/// is not followed (`input.symlink_outside_source`): a link in a log directory must not bring
/// `/etc/shadow` into the vault.
public enum InputCollector {
    public struct MissingInput: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "\(EscapedText.escape(path)): \(reason)" }
    }

    /// The files to read and the warnings about what was skipped.
    public struct Gathered: Sendable {
        public var files: [String]
        public var findings: [Finding]
        /// What `stat` said of each file as it was found, in the order of `files`: `custody run`
        /// plans from it rather than `stat` each file again.
        public var statuses: [FileStatus] = []
    }

    /// A file's inode, size and modification time (nanoseconds since the epoch), as `stat` gave them.
    public struct FileStatus: Sendable, Equatable {
        public var inode: UInt64
        public var size: Int64
        public var modifiedNanoseconds: Int64

        init(_ st: stat) {
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            modifiedNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        }
    }

    private struct Identity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private enum Kind { case regular, directory, special }

    /// The files under `paths`; what was skipped is dropped (see `gather` for the findings).
    public static func collect(_ paths: [String]) throws -> [String] {
        try gather(paths).files
    }

    /// The files under `paths`, and a warning finding for each special file or escaping link
    /// skipped. `roots` bounds where links may lead (default: `paths` themselves).
    public static func gather(_ paths: [String], roots: [String]? = nil) throws -> Gathered {
        var walk = Walk(roots: (roots ?? paths).compactMap(realPath))
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else {
                throw MissingInput(path: path, reason: "no such file or directory")
            }
            // A named path is a root itself, unless `roots` says otherwise (a glob's match).
            if roots != nil, let target = realPath(path), !walk.isInsideRoots(target) {
                walk.skipOutside(path, target: target)
                continue
            }
            let identity = Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            switch kind(st) {
            case .directory: try walk.walk(directory: path, identity: identity)
            case .regular: walk.add(path, identity, st)
            case .special: walk.skipSpecial(path, st)
            }
        }
        let found = walk.files.values.sorted { $0.path < $1.path }
        return Gathered(files: found.map(\.path), findings: walk.findings, statuses: found.map(\.status))
    }

    private static func kind(_ st: stat) -> Kind {
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        default: return .special
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private struct Walk {
        let roots: [String]
        var files: [Identity: (path: String, status: FileStatus)] = [:]
        var walked = Set<Identity>()
        var findings: [Finding] = []

        init(roots: [String]) { self.roots = roots }

        func isInsideRoots(_ target: String) -> Bool {
            roots.contains { root in target == root || target.hasPrefix(root.hasSuffix("/") ? root : root + "/") }
        }

        mutating func add(_ path: String, _ identity: Identity, _ st: stat) {
            if let existing = files[identity], existing.path <= path { return }
            files[identity] = (path, FileStatus(st))
        }

        mutating func skipSpecial(_ path: String, _ st: stat) {
            let what: String
            switch st.st_mode & S_IFMT {
            case S_IFIFO: what = "a FIFO"
            case S_IFSOCK: what = "a socket"
            case S_IFCHR: what = "a character device"
            case S_IFBLK: what = "a block device"
            default: what = "not a regular file"
            }
            findings.append(
                Finding(
                    rule: .specialFile, severity: .warning,
                    message: "\(EscapedText.escape(path)): skipped: \(what), not a log file", file: path))
        }

        mutating func skipOutside(_ path: String, target: String) {
            findings.append(
                Finding(
                    rule: .symlinkOutsideSource, severity: .warning,
                    message:
                        "\(EscapedText.escape(path)): not followed: a symbolic link to \(EscapedText.escape(target)), outside the sources",
                    file: path))
        }

        mutating func walk(directory: String, identity: Identity) throws {
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
                var link = stat()
                guard lstat(path, &link) == 0 else { continue }
                if link.st_mode & S_IFMT == S_IFLNK {
                    guard let target = InputCollector.realPath(path) else { continue }  // dangling link
                    if !isInsideRoots(target) {
                        skipOutside(path, target: target)
                        continue
                    }
                }
                // Only a link needs a second look (at its target): otherwise `lstat` said it all.
                var st = link
                guard link.st_mode & S_IFMT != S_IFLNK || stat(path, &st) == 0 else { continue }
                let child = Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                switch InputCollector.kind(st) {
                case .directory: try walk(directory: path, identity: child)
                case .regular: add(path, child, st)
                case .special: skipSpecial(path, st)
                }
            }
        }
    }
}
