import Dispatch

/// Frees large values on another thread. After a check's last file is read, the merged audit
/// (every user's name, times and spans) and the last file's audit were freed on the thread that
/// then builds and writes the report, with the other core idle: ~20 ms with 100,000 users
/// (perf, `malloc`'s `free` and Swift's deinit of dictionaries and arrays).
enum BackgroundRelease {
    /// A value whose last reference is dropped on `queue`.
    private final class Box<Value>: @unchecked Sendable {
        // Read and written once each: set at creation, cleared on the queue.
        var value: Value?
        init(_ value: consuming Value) { self.value = value }
    }

    private static let queue = DispatchQueue(label: "custody.background-release", qos: .utility)

    /// Drops `value` on a background queue. The caller must hold no other reference to what
    /// `value` holds (pass it with `consume`), or the caller's last release frees it instead.
    static func release<Value>(_ value: consuming Value) {
        let box = Box(value)
        queue.async { box.value = nil }
    }
}
