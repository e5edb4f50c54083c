/// One generated activity event: what a log line records.
public struct ActivityEvent: Sendable, Equatable {
    public var millis: Int64
    /// nil for anonymous activity.
    public var user: String?
    public var event: String

    public init(millis: Int64, user: String?, event: String) {
        self.millis = millis
        self.user = user
        self.event = event
    }
}
