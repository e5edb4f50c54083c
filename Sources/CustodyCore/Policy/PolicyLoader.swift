import Foundation

/// Reads and strictly validates policy YAML. Every failure is a `ConfigurationError` naming the
/// file, line and key.
public enum PolicyLoader {
    public static func load(path: String) throws -> Policy {
        try parse(YAMLMapping.readText(path, what: "the policy file"), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Policy {
        let root = try YAMLMapping.parseDocument(text, file: file)
        try root.requireKnownKeys(
            ["id", "title", "jurisdiction", "timezone", "retention", "real_name", "fields", "http_events", "reporting", "input"]
                + provenanceKeys)

        let id = try root.requiredString("id")
        let title = try root.string("title") ?? id
        let jurisdiction = try root.requiredString("jurisdiction")
        let zone = try root.requiredString("timezone")
        guard TimeZone(identifier: zone) != nil else {
            throw root.error("timezone", "unknown time zone '\(zone)' (use an IANA name such as Asia/Shanghai)")
        }

        guard let retentionMap = try root.mapping("retention") else { throw root.missing("retention") }
        try retentionMap.requireKnownKeys(["minimum_days", "maximum_days"] + retentionDetailKeys)
        guard let minimum = try retentionMap.int("minimum_days") else { throw retentionMap.missing("minimum_days") }
        // 0: the instrument sets no minimum (a maximum or a preservation hold only).
        guard minimum >= 0, minimum <= 36_500 else { throw retentionMap.error("minimum_days", "must be between 0 and 36500") }
        let maximum = try retentionMap.int("maximum_days")
        // Bounded so that date arithmetic on them can never overflow (a century is plenty).
        if let maximum, maximum > 36_500 { throw retentionMap.error("maximum_days", "must be at most 36500") }
        if let maximum, maximum < minimum {
            throw retentionMap.error("maximum_days", "must not be less than minimum_days (\(minimum))")
        }

        var realName = Policy.RealName()
        if let map = try root.mapping("real_name") {
            try map.requireKnownKeys(["registration_events", "verification_events", "accepted_methods", "publish_events"])
            realName.registrationEvents = try map.stringList("registration_events") ?? []
            let pairs = try map.stringPairs("verification_events") ?? []
            realName.verificationEvents = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
            realName.acceptedMethods = try map.stringList("accepted_methods") ?? []
            realName.publishEvents = try map.stringList("publish_events") ?? []
            let methods = Set(pairs.map(\.1))
            for method in realName.acceptedMethods where !methods.contains(method) {
                throw map.error("accepted_methods", "method '\(method)' is produced by no entry of verification_events")
            }
            for event in realName.publishEvents where realName.verificationEvents[event] != nil {
                throw map.error("publish_events", "'\(event)' is also a verification event")
            }
        }

        var fields = Policy.FieldNames.defaults
        if let map = try root.mapping("fields") {
            try map.requireKnownKeys(["timestamp", "user", "event"])
            for key in ["timestamp", "user", "event"] {
                if let list = try map.stringList(key), list.isEmpty { throw map.error(key, "must list at least one field name") }
            }
            fields.timestamp = try map.stringList("timestamp") ?? fields.timestamp
            fields.user = try map.stringList("user") ?? fields.user
            fields.event = try map.stringList("event") ?? fields.event
        }

        var httpEvents: [HTTPEventRule] = []
        for rule in try root.mappingList("http_events") ?? [] {
            try rule.requireKnownKeys(["method", "path_prefix", "event"])
            let method = try rule.requiredString("method").uppercased()
            let prefix = try rule.requiredString("path_prefix")
            guard prefix.hasPrefix("/") else { throw rule.error("path_prefix", "must start with '/'") }
            httpEvents.append(HTTPEventRule(method: method, pathPrefix: prefix, event: try rule.requiredString("event")))
        }

        var bandWidth = 250
        if let map = try root.mapping("reporting") {
            try map.requireKnownKeys(["nondisclosure_band_width"])
            if let width = try map.int("nondisclosure_band_width") {
                // Narrow bands would all but disclose the count a non-disclosure order protects.
                guard width >= 10 else { throw map.error("nondisclosure_band_width", "must be at least 10") }
                guard width <= 1_000_000 else { throw map.error("nondisclosure_band_width", "must be at most 1000000") }
                bandWidth = width
            }
        }

        var input = Policy.Input()
        if let map = try root.mapping("input") {
            try map.requireKnownKeys(["max_rejected_share"])
            if let share = try map.number("max_rejected_share") {
                guard share >= 0, share <= 1 else { throw map.error("max_rejected_share", "must be between 0 and 1") }
                input.maxRejectedShare = share
            }
        }

        var retention = Policy.Retention(minimumDays: minimum, maximumDays: maximum)
        try retentionDetails(retentionMap, into: &retention)
        var policy = Policy(
            id: id, title: title, jurisdiction: jurisdiction, timeZoneIdentifier: zone,
            retention: retention, realName: realName,
            fields: fields, httpEvents: httpEvents, reportingBandWidth: bandWidth, input: input)
        policy.provenance = try provenance(root)
        policy.preservation = try preservation(root)
        return policy
    }
}
