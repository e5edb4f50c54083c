import CustodyCore

/// One format described in a formats file (`formats.NAME`): how to split a line into fields,
/// which fields hold the time, the user and the event, and how to read the time.
public struct FormatDefinition: Sendable, Equatable {
    /// How a line is split into named fields.
    public enum Layout: Sendable, Hashable {
        /// Dissect-style: `%{name}`, `%{?skip}`, `%{+name}` (append), `%{name->}` (padding).
        case pattern(String)
        /// An nginx `log_format`: every `$variable` is a field.
        case nginx(String)
        /// A regular expression with named groups `(?P<name>…)`.
        case regex(String)
        /// No layout key: the built-in formats, sniffed per file, with this entry's fields and times.
        case sniffed
    }

    /// Where a year comes from for times that carry none.
    public enum YearRule: Sendable, Hashable {
        /// The year of the file's modification time (a time that would lie more than a day after
        /// it belongs to the year before).
        case fileModified
        case fixed(Int)
    }

    /// Field references in order of preference (the first present wins); nil keeps the default.
    public struct Fields: Sendable, Equatable {
        public var timestamp: [String]?
        public var user: [String]?
        public var event: [String]?

        public init(timestamp: [String]? = nil, user: [String]? = nil, event: [String]? = nil) {
            self.timestamp = timestamp
            self.user = user
            self.event = event
        }
    }

    public var name: String
    public var layout: Layout
    public var timeFormat: String?
    /// IANA zone for times written without one.
    public var timezone: String?
    public var year: YearRule?
    public var fields: Fields
    /// nil: the policy's `http_events`.
    public var httpEvents: [HTTPEventRule]?
    /// Where the format was described, for messages (`file:line`).
    public var origin: String

    public init(
        name: String, layout: Layout, timeFormat: String? = nil, timezone: String? = nil, year: YearRule? = nil,
        fields: Fields = Fields(), httpEvents: [HTTPEventRule]? = nil, origin: String = ""
    ) {
        self.name = name
        self.layout = layout
        self.timeFormat = timeFormat
        self.timezone = timezone
        self.year = year
        self.fields = fields
        self.httpEvents = httpEvents
        self.origin = origin
    }
}
