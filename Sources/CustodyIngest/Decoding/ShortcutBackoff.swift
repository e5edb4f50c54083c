/// When to stop trying a shortcut that keeps failing: after `limit` failures in a row, the next
/// `pauseLength` chances to try it are skipped, then it is tried again. The JSON parser's
/// structural walk (refused on every line of a file of escaped lines) and its key predictions
/// (missed on every line of a file whose keys change order) each back off this way, so such a
/// file does not pay for the shortcut on top of the general path on every line.
struct ShortcutBackoff {
    let limit: Int
    let pauseLength: Int
    private var failures = 0
    /// Chances still to skip.
    private(set) var paused = 0

    init(limit: Int = 16, pauseLength: Int = 1024) {
        self.limit = limit
        self.pauseLength = pauseLength
    }

    /// Whether the shortcut is to be skipped now (see `skipped`).
    @inline(__always)
    var isPaused: Bool { paused > 0 }

    /// One chance skipped while paused.
    @inline(__always)
    mutating func skipped() { paused &-= 1 }

    @inline(__always)
    mutating func succeeded() { failures = 0 }

    mutating func failed() {
        failures &+= 1
        if failures >= limit {
            failures = 0
            paused = pauseLength
        }
    }
}
