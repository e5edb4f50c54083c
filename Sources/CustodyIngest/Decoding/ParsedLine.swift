/// The fields Custody needs from one log line. `user` and `event` point into the line or into the
/// parser's scratch space: valid only until the parser is used again.
public struct ParsedLine {
    public var millis: Int64
    /// nil for anonymous records.
    public var user: UnsafeBufferPointer<UInt8>?
    public var event: UnsafeBufferPointer<UInt8>?
    /// The first eight bytes of `user` and `event` as little-endian integers, zero-padded (0
    /// when absent): with most user ids and event names eight bytes or shorter, these are the
    /// whole key for the per-record table lookups, and parsers get them for one load.
    public var userPrefix: UInt64
    public var eventPrefix: UInt64

    public init(millis: Int64, user: UnsafeBufferPointer<UInt8>?, event: UnsafeBufferPointer<UInt8>?) {
        self.init(millis: millis, user: user, userPrefix: ByteScan.prefixWord(user), event: event, eventPrefix: ByteScan.prefixWord(event))
    }

    init(millis: Int64, user: UnsafeBufferPointer<UInt8>?, userPrefix: UInt64, event: UnsafeBufferPointer<UInt8>?, eventPrefix: UInt64) {
        self.millis = millis
        self.user = user
        self.event = event
        self.userPrefix = userPrefix
        self.eventPrefix = eventPrefix
    }
}

/// Why a line is not a record. A switch returning literals keeps this cheap on the hot path.
public enum Rejection: UInt8, Sendable {
    case notJSONObject
    case invalidJSON
    case missingTimestamp
    case invalidTimestamp
    case invalidUser
    case notCombined
    case notLogfmt
    case unrecognisedFormat
    case overlong
    case cutOffByFault
    case ambiguousField
    case patternMismatch
    case formatTimestamp
    case invalidCSV
    case notSyslog
    case notCRI
    case notDocker
    case utf16Text
    case invalidEvent
    case unfinishedPartial
    case yearUnknown

    public var cause: String {
        switch self {
        case .notJSONObject: return "not a JSON object"
        case .invalidJSON: return "invalid JSON"
        case .missingTimestamp: return "no timestamp field"
        case .invalidTimestamp: return "timestamp is not RFC 3339 with a zone, or a Unix epoch number"
        case .invalidUser: return "user is not a string or an integer"
        case .notCombined: return "not in the combined log format"
        case .notLogfmt: return "not logfmt key=value pairs"
        case .unrecognisedFormat: return "format not recognised (JSON lines, combined, logfmt, syslog, CSV/TSV, CRI or Docker)"
        case .overlong: return "line longer than 1 MiB"
        case .cutOffByFault: return "incomplete line cut off by a read fault"
        case .ambiguousField: return "the same field appears twice (ambiguous)"
        case .patternMismatch: return "line does not match the format's pattern"
        case .formatTimestamp: return "time does not match the format's time_format"
        case .invalidCSV: return "not a row of the header's columns"
        case .notSyslog: return "not a syslog line (RFC 5424 or RFC 3164)"
        case .notCRI: return "not a CRI container log line (time stream tag message)"
        case .notDocker: return "not a Docker json-file line"
        case .utf16Text: return "UTF-16 text: logs are read as UTF-8 (convert first, e.g. iconv -f UTF-16 -t UTF-8)"
        case .invalidEvent: return "event is not a string or an integer"
        case .yearUnknown:
            return """
                the time has no year, and the file's modification time that gives it is unknown \
                (standard input: name the file instead, or use a formats file with a fixed year)
                """
        case .unfinishedPartial:
            return "container log line in parts (CRI P, or Docker's over 16 KiB) whose stream never completed it: its text was not read"
        }
    }
}

public enum ParseOutcome {
    case record(ParsedLine)
    case rejected(Rejection)
    /// A line that carries no record and is not an error: a CSV header, or a CRI partial line
    /// kept until its final part arrives.
    case skipped
}
