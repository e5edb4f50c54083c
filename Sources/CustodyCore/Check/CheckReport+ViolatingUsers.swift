import Foundation

extension CheckReport {
    /// Below this many users who published before verifying per thread, their findings are
    /// built (and written, `writeJSON`) on the calling thread.
    static let violatingUsersPerThread = 8_192

    /// Threads for `count` findings: one per `violatingUsersPerThread`, at most one per core.
    static func findingThreads(_ count: Int) -> Int {
        max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / violatingUsersPerThread))
    }

    /// `leading`, then one finding for each user who published before verifying, in the order
    /// of `users`. `path(file)` names the file of an event location's file index; it is called
    /// once for each file, on the calling thread (it may read the state). (The findings are
    /// made in place after the leading ones: appending them from an array of their own copied
    /// each one and destroyed the original, ~20 ms with 70,000 of them, perf.)
    ///
    /// This runs after a check's last file was read, alone, with the other cores idle: with
    /// many such users (logs whose users mostly never verify) it was a fifth of a check's time
    /// on one file (perf). So the findings are built on several threads, each into its own
    /// slice of the result.
    static func violatingUserFindings(after leading: [Finding], _ users: [ViolatingUser], path: (Int32) -> String) -> [Finding] {
        // Each file's name and its name as shown, once per file rather than once per user.
        var names: [Int32: FileNames] = [:]
        for user in users where names[user.first.file] == nil {
            let name = path(user.first.file)
            names[user.first.file] = FileNames(path: name, shown: shown(name))
        }
        let threads = findingThreads(users.count)
        return [Finding](unsafeUninitializedCapacity: leading.count + users.count) { buffer, initialized in
            _ = buffer.initialize(from: leading)
            // Each index is initialized by one thread only, and read after they all finished.
            nonisolated(unsafe) let rest = buffer.baseAddress! + leading.count
            let names = names
            @Sendable func fill(_ range: Range<Int>) {
                for i in range {
                    let user = users[i]
                    let file = names[user.first.file] ?? FileNames(path: "?", shown: "?")
                    (rest + i).initialize(to: finding(for: user, in: file))
                }
            }
            if threads == 1 {
                fill(users.indices)
            } else {
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    fill((users.count * t / threads)..<(users.count * (t + 1) / threads))
                }
            }
            initialized = leading.count + users.count
        }
    }

    /// A file's name as given and as shown in a message.
    struct FileNames: Sendable {
        var path: String
        var shown: String
    }

    /// The finding for one user who published before verifying.
    static func finding(for user: ViolatingUser, in file: FileNames) -> Finding {
        let time = TimestampParser.formatUTC(user.first.millis)
        let status = user.verifiedAt.map { "verified at \(TimestampParser.formatUTC($0))" } ?? "never verified"
        return Finding(
            rule: .violatingUser, severity: .error,
            message:
                "user \(user.user) published \(user.events) time\(user.events == 1 ? "" : "s") before verifying (\(status)); first at \(file.shown):\(user.first.line), \(time)",
            user: user.user, file: file.path, line: user.first.line, time: time, count: user.events)
    }
}
