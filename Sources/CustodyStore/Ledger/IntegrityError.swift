/// Evidence that fails a check — a vault object that no longer hashes to its name, tables that
/// disagree with the ledger — found by a command that must not go on (`request produce`,
/// `report transparency`). One line naming what failed; exit status 1.
public struct IntegrityError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}
