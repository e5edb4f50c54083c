import Foundation

/// One run at a time per state directory: an exclusive `flock` on `custody.lock`, released by the
/// kernel when the process ends, however it ends (so a killed run never leaves a stale lock).
public final class RunLock {
    private let fd: Int32
    public let path: String

    /// Takes the lock or throws `StoreError.busy` at once.
    public init(stateDirectory: String) throws {
        try? FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        path = stateDirectory + "/custody.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw StoreError.busy(lockFile: path, holder: holder?.isEmpty == false ? holder : nil)
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
