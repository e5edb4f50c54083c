/// Who set a retention number: the law, the provider itself, or Custody.
///
/// A number that is Custody's own choice must never read as the law's (`policy show` and the
/// findings say which it is).
public enum RetentionBasis: String, Sendable, Equatable, CaseIterable {
    /// Set by a cited legal instrument (converted to days where the law counts months).
    case law
    /// Stated by the provider itself, e.g. the storage period of a privacy notice (GDPR).
    case provider
    /// Custody's own default; no law sets it.
    case custodyDefault = "custody_default"

    /// Plain words for `policy show` and messages.
    public var phrase: String {
        switch self {
        case .law: return "set by law"
        case .provider: return "stated by the provider"
        case .custodyDefault: return "Custody's default, not set by law"
        }
    }
}

extension Policy {
    /// Whether the instrument a policy encodes is law today.
    public enum Status: String, Sendable, Equatable, CaseIterable {
        case inForce = "in_force"
        case repealed
        case proposed
    }

    /// How sure the policy's author is that the citations and numbers match the texts.
    public enum Confidence: String, Sendable, Equatable, CaseIterable {
        case high, medium, low
    }

    /// One text a policy relies on.
    public struct Source: Sendable, Equatable {
        public var title: String
        /// Article, paragraph or section, as the text numbers it ("art. 21(3)").
        public var article: String?
        public var url: String?
        /// An official document number ("公安部令第82号", "Decree 53/2022/ND-CP").
        public var documentNumber: String?
        /// ISO 639-1 code of the text read (`zh`, `en`, …).
        public var language: String?
        /// Which rules of the policy this text supports: `retention.minimum_days`,
        /// `retention.maximum_days`, `real_name`, `preservation`.
        public var supports: [String]

        public init(
            title: String, article: String? = nil, url: String? = nil, documentNumber: String? = nil,
            language: String? = nil, supports: [String] = []
        ) {
            self.title = title
            self.article = article
            self.url = url
            self.documentNumber = documentNumber
            self.language = language
            self.supports = supports
        }

        /// "Title, art. N (language) — url or number".
        public var citation: String {
            var text = title
            if let article { text += ", \(article)" }
            if let language { text += " [\(language)]" }
            if let reference = url ?? documentNumber { text += " — \(reference)" }
            return text
        }
    }

    /// Where a policy's rules come from and when they were law. Every field is optional so that
    /// policies written before these keys still load; `custody policy lint` warns when missing.
    public struct Provenance: Sendable, Equatable {
        public var status: Status?
        public var effectiveFrom: CivilDay?
        public var repealedOn: CivilDay?
        public var supersededBy: String?
        public var confidence: Confidence?
        public var notes: String?
        public var sources: [Source]

        public init(
            status: Status? = nil, effectiveFrom: CivilDay? = nil, repealedOn: CivilDay? = nil,
            supersededBy: String? = nil, confidence: Confidence? = nil, notes: String? = nil,
            sources: [Source] = []
        ) {
            self.status = status
            self.effectiveFrom = effectiveFrom
            self.repealedOn = repealedOn
            self.supersededBy = supersededBy
            self.confidence = confidence
            self.notes = notes
            self.sources = sources
        }

        /// Whether the instrument was law on `day`: on or after `effective_from`, before
        /// `repealed_on`, and never while only proposed. Unknown dates do not limit.
        public func isInForce(on day: CivilDay) -> Bool {
            if status == .proposed { return false }
            if let effectiveFrom, day < effectiveFrom { return false }
            if let repealedOn, day >= repealedOn { return false }
            return true
        }

        /// Whether the instrument was law on at least one day of `first … last`.
        public func isInForce(onAnyDayFrom first: CivilDay, through last: CivilDay) -> Bool {
            if status == .proposed { return false }
            let start = max(first, effectiveFrom ?? first)
            let end = repealedOn.map { min(last, $0.adding(days: -1)) } ?? last
            return start <= end
        }
    }

    /// A preservation request's hold (18 U.S.C. § 2703(f)): `holdDays`, renewable
    /// `renewals` times by `renewalDays` each.
    public struct Preservation: Sendable, Equatable {
        public var holdDays: Int
        public var renewalDays: Int
        public var renewals: Int

        public init(holdDays: Int, renewalDays: Int, renewals: Int) {
            self.holdDays = holdDays
            self.renewalDays = renewalDays
            self.renewals = renewals
        }

        /// The longest a hold can last: the first period and every renewal.
        public var longestDays: Int { holdDays + renewalDays * renewals }
    }
}
