import Foundation

/// A retention and real-name policy: which calendar days must hold records, and which events
/// register, verify and publish. Loaded from YAML by `PolicyLoader`.
public struct Policy: Sendable, Equatable {
    public var id: String
    public var title: String
    public var jurisdiction: String
    /// IANA zone name; calendar days are counted in this zone.
    public var timeZoneIdentifier: String
    public var retention: Retention
    public var realName: RealName
    public var fields: FieldNames
    public var httpEvents: [HTTPEventRule]
    /// Width of the bands in which requests under a non-disclosure order are counted in reports.
    public var reportingBandWidth: Int
    /// Where the rules come from and whether they are in force (`sources`, `status`, dates).
    public var provenance: Provenance = Provenance()
    /// How long a preservation request holds records (`preservation:`), when the policy says.
    public var preservation: Preservation?
    /// How much unreadable input a verdict tolerates.
    public var input: Input

    public struct Input: Sendable, Equatable {
        /// A file whose rejected lines are a larger share of its lines than this (0…1) is an
        /// error finding; up to it, a warning.
        public var maxRejectedShare: Double

        public static let defaultMaxRejectedShare = 0.001

        public init(maxRejectedShare: Double = Input.defaultMaxRejectedShare) {
            self.maxRejectedShare = maxRejectedShare
        }
    }

    public struct Retention: Sendable, Equatable {
        /// Every one of the last `minimumDays` calendar days must have records.
        public var minimumDays: Int
        /// Records older than this many days are over-retained (optional).
        public var maximumDays: Int?
        /// Who set `minimumDays` (`minimum_days_basis`); nil when the file does not say.
        public var minimumBasis: RetentionBasis?
        /// Who set `maximumDays` (`maximum_days_basis`); nil when the file does not say.
        public var maximumBasis: RetentionBasis?
        /// The period in the law's own words ("six months"), when it is not a number of days.
        public var minimumPeriod: String?
        /// Where the law wants the records kept ("within India"); shown, not checked.
        public var storageLocation: String?

        public init(
            minimumDays: Int, maximumDays: Int? = nil, minimumBasis: RetentionBasis? = nil,
            maximumBasis: RetentionBasis? = nil, minimumPeriod: String? = nil, storageLocation: String? = nil
        ) {
            self.minimumDays = minimumDays
            self.maximumDays = maximumDays
            self.minimumBasis = minimumBasis
            self.maximumBasis = maximumBasis
            self.minimumPeriod = minimumPeriod
            self.storageLocation = storageLocation
        }
    }

    public struct RealName: Sendable, Equatable {
        public var registrationEvents: [String]
        /// Verification event name → verification method (e.g. `verify_phone` → `phone`).
        public var verificationEvents: [String: String]
        public var acceptedMethods: [String]
        public var publishEvents: [String]

        public init(
            registrationEvents: [String] = [], verificationEvents: [String: String] = [:],
            acceptedMethods: [String] = [], publishEvents: [String] = []
        ) {
            self.registrationEvents = registrationEvents
            self.verificationEvents = verificationEvents
            self.acceptedMethods = acceptedMethods
            self.publishEvents = publishEvents
        }
    }

    /// For structured formats (JSON lines, logfmt): candidate field names, first present wins.
    public struct FieldNames: Sendable, Equatable {
        public var timestamp: [String]
        public var user: [String]
        public var event: [String]

        public static let defaults = FieldNames(
            timestamp: ["ts", "timestamp", "time", "@timestamp"],
            user: ["user", "user_id", "uid"],
            event: ["event", "action", "type"])

        public init(timestamp: [String], user: [String], event: [String]) {
            self.timestamp = timestamp
            self.user = user
            self.event = event
        }
    }

    public init(
        id: String, title: String, jurisdiction: String, timeZoneIdentifier: String,
        retention: Retention, realName: RealName, fields: FieldNames = .defaults,
        httpEvents: [HTTPEventRule] = [], reportingBandWidth: Int = 250, input: Input = Input()
    ) {
        self.id = id
        self.title = title
        self.jurisdiction = jurisdiction
        self.timeZoneIdentifier = timeZoneIdentifier
        self.retention = retention
        self.realName = realName
        self.fields = fields
        self.httpEvents = httpEvents
        self.reportingBandWidth = reportingBandWidth
        self.input = input
    }

    /// The policy's zone; loading has already checked that the identifier is known.
    public var timeZone: TimeZone { TimeZone(identifier: timeZoneIdentifier) ?? TimeZone(secondsFromGMT: 0)! }
}

/// Names a combined-log request: `method` + a path starting with `pathPrefix` is event `event`.
public struct HTTPEventRule: Sendable, Equatable {
    public var method: String
    public var pathPrefix: String
    public var event: String

    public init(method: String, pathPrefix: String, event: String) {
        self.method = method
        self.pathPrefix = pathPrefix
        self.event = event
    }
}
