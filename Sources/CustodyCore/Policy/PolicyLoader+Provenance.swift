/// The policy keys that say where the rules come from (`status`, `effective_from`,
/// `repealed_on`, `superseded_by`, `confidence`, `notes`, `sources`), the retention bases and
/// the preservation hold. Kept apart from the core loader so each stays one concern.
extension PolicyLoader {
    static let provenanceKeys = [
        "status", "effective_from", "repealed_on", "superseded_by", "confidence", "notes", "sources", "preservation",
    ]
    static let retentionDetailKeys = ["minimum_days_basis", "maximum_days_basis", "minimum_period", "storage_location"]
    /// The rule names a source may say it supports.
    static let supportableRules = ["retention.minimum_days", "retention.maximum_days", "real_name", "preservation"]

    static func provenance(_ root: YAMLMapping) throws -> Policy.Provenance {
        var provenance = Policy.Provenance()
        if let text = try root.string("status") {
            guard let status = Policy.Status(rawValue: text) else {
                throw root.error(
                    "status", "unknown status '\(text)' (use \(Policy.Status.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            provenance.status = status
        }
        provenance.effectiveFrom = try day(root, "effective_from")
        provenance.repealedOn = try day(root, "repealed_on")
        if let from = provenance.effectiveFrom, let to = provenance.repealedOn, to < from {
            throw root.error("repealed_on", "must not be before effective_from (\(from))")
        }
        if provenance.status == .repealed, provenance.repealedOn == nil {
            throw root.error("status", "a repealed policy needs repealed_on (YYYY-MM-DD)")
        }
        provenance.supersededBy = try root.string("superseded_by")
        if let text = try root.string("confidence") {
            guard let confidence = Policy.Confidence(rawValue: text) else {
                throw root.error("confidence", "unknown confidence '\(text)' (use high, medium or low)")
            }
            provenance.confidence = confidence
        }
        provenance.notes = try root.string("notes")
        for map in try root.mappingList("sources") ?? [] {
            try map.requireKnownKeys(["title", "article", "url", "document_number", "language", "supports"])
            let supports = try map.stringList("supports") ?? []
            for rule in supports where !supportableRules.contains(rule) {
                throw map.error("supports", "unknown rule '\(rule)' (use \(supportableRules.joined(separator: ", ")))")
            }
            provenance.sources.append(
                Policy.Source(
                    title: try map.requiredString("title"), article: try map.string("article"), url: try map.string("url"),
                    documentNumber: try map.string("document_number"), language: try map.string("language"), supports: supports))
        }
        return provenance
    }

    static func retentionDetails(_ map: YAMLMapping, into retention: inout Policy.Retention) throws {
        retention.minimumBasis = try basis(map, "minimum_days_basis")
        retention.maximumBasis = try basis(map, "maximum_days_basis")
        if retention.maximumBasis != nil, retention.maximumDays == nil {
            throw map.error("maximum_days_basis", "names the basis of a maximum_days that is not set")
        }
        retention.minimumPeriod = try map.string("minimum_period")
        retention.storageLocation = try map.string("storage_location")
    }

    static func preservation(_ root: YAMLMapping) throws -> Policy.Preservation? {
        guard let map = try root.mapping("preservation") else { return nil }
        try map.requireKnownKeys(["hold_days", "renewal_days", "renewals"])
        guard let hold = try map.int("hold_days") else { throw map.missing("hold_days") }
        guard hold >= 1 else { throw map.error("hold_days", "must be at least 1") }
        let renewals = try map.int("renewals") ?? 0
        guard renewals >= 0 else { throw map.error("renewals", "must not be negative") }
        let renewal = try map.int("renewal_days") ?? hold
        guard renewal >= 1 else { throw map.error("renewal_days", "must be at least 1") }
        return Policy.Preservation(holdDays: hold, renewalDays: renewal, renewals: renewals)
    }

    private static func day(_ map: YAMLMapping, _ key: String) throws -> CivilDay? {
        guard let text = try map.string(key) else { return nil }
        guard let day = CivilDay(iso: text) else { throw map.error(key, "expected a day as YYYY-MM-DD") }
        return day
    }

    private static func basis(_ map: YAMLMapping, _ key: String) throws -> RetentionBasis? {
        guard let text = try map.string(key) else { return nil }
        guard let basis = RetentionBasis(rawValue: text) else {
            throw map.error(key, "unknown basis '\(text)' (use \(RetentionBasis.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return basis
    }
}
