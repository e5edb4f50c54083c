import Foundation

/// Standard input copied to a private temporary file, so that `custody check -` reads it like
/// any other file: gzip is still detected by content, and a file can be read a second time
/// (a publish span straddling a verification is recounted from its file). Removed on release.
final class StandardInputSpool {
    /// How findings name it.
    static let displayName = "stdin"

    let directory: String
    var path: String { directory + "/stdin" }

    init() throws {
        var base = NSTemporaryDirectory()
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/custody-stdin-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CommandFailure("cannot create a temporary directory for standard input: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        guard FileManager.default.createFile(atPath: directory + "/stdin", contents: nil, attributes: [.posixPermissions: 0o600]),
            let out = FileHandle(forWritingAtPath: directory + "/stdin")
        else {
            try? FileManager.default.removeItem(atPath: directory)
            throw CommandFailure("cannot write standard input to \(directory)")
        }
        defer { try? out.close() }
        do {
            while let chunk = try FileHandle.standardInput.read(upToCount: 1 << 20), !chunk.isEmpty {
                try out.write(contentsOf: chunk)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw CommandFailure("reading standard input: \(error.localizedDescription)")
        }
        // The copy's modification time says nothing of the log's: set to 0, which the readers
        // of times without a year (`year: file_mtime`, RFC 3164 syslog) take as unknown, and
        // refuse, rather than date an old log piped in to the year it was piped.
        do {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw CommandFailure("cannot reset the modification time of \(path): \(error.localizedDescription)")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}
