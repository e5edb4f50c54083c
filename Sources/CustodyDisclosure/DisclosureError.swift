/// Bad input to the disclosure workflow: one clear line for the user (exit status 2).
public struct DisclosureError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
