/// Failures of the state directory and the vault, each naming the path at fault.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// A file operation failed.
    case io(path: String, reason: String)
    /// Another run holds the state directory's lock.
    case busy(lockFile: String, holder: String?)
    /// The state database cannot be used.
    case database(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .busy(lockFile, holder):
            return
                "another custody run is using this state directory (\(lockFile)\(holder.map { ", held by pid \($0)" } ?? "")); try again when it finishes"
        case let .database(path, reason):
            // SQLite errors can quote whole statements: one line is enough for the user.
            let first = reason.split(separator: "\n").first.map(String.init) ?? reason
            return "\(path): \(first.count > 200 ? first.prefix(200) + "…" : first)"
        }
    }
}
