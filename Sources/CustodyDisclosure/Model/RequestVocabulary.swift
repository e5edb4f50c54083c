/// The kind of legal process behind a request, as transparency reports group them: one of the
/// seven built-in types, or a type the provider declares in its report configuration
/// (`reporting.process_types`, e.g. `pen_register`, `wiretap`) so that its published table can
/// keep every process on its own row.
public struct ProcessType: Hashable, Sendable, Comparable {
    public let rawValue: String

    public static let criminalEvidence = ProcessType(declared: "criminal_evidence")
    public static let administrative = ProcessType(declared: "administrative")
    public static let courtOrder = ProcessType(declared: "court_order")
    public static let subpoena = ProcessType(declared: "subpoena")
    public static let emergency = ProcessType(declared: "emergency")
    public static let preservation = ProcessType(declared: "preservation")
    public static let other = ProcessType(declared: "other")

    /// The built-in types, in report order.
    public static let allCases: [ProcessType] = [
        .criminalEvidence, .administrative, .courtOrder, .subpoena, .emergency, .preservation, .other,
    ]

    /// A built-in type by name; nil for any other name.
    public init?(rawValue: String) {
        guard Self.allCases.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// Any type name: a built-in one or one the provider declared. Names are lower-case
    /// letters, digits and `_`.
    public init(declared name: String) { rawValue = name }

    /// Whether `name` can name a process type (lower-case letters, digits, `_`; starts with a letter).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    public var isBuiltIn: Bool { Self.allCases.contains(self) }

    public static func < (a: ProcessType, b: ProcessType) -> Bool { a.rawValue < b.rawValue }

    /// A heading for reports (a declared type's heading comes from the report configuration).
    public var title: String {
        switch rawValue {
        case "criminal_evidence": return "Criminal evidence collection"
        case "administrative": return "Administrative request"
        case "court_order": return "Court order"
        case "subpoena": return "Subpoena"
        case "emergency": return "Emergency request"
        case "preservation": return "Preservation request"
        case "other": return "Other legal process"
        default:
            let words = rawValue.replacingOccurrences(of: "_", with: " ")
            return words.prefix(1).uppercased() + words.dropFirst()
        }
    }
}

/// What kind of user data a request asks for.
public enum DataCategory: String, CaseIterable, Sendable {
    /// What users published (the policy's publish events).
    case content
    /// Everything else: registration, verification, logins, browsing, addresses.
    case nonContent = "non_content"
}

/// Where a request stands. Moves: received → under_review → decided → produced → closed;
/// received, under_review or decided → withdrawn; decided → closed (nothing produced).
public enum RequestStatus: String, CaseIterable, Sendable {
    case received
    case underReview = "under_review"
    case decided
    case produced
    case closed
    case withdrawn

    public func canMove(to next: RequestStatus) -> Bool {
        switch (self, next) {
        case (.received, .underReview), (.received, .decided), (.underReview, .underReview), (.underReview, .decided),
            (.decided, .produced), (.produced, .produced), (.decided, .closed), (.produced, .closed),
            (.received, .closed), (.underReview, .closed),
            (.received, .withdrawn), (.underReview, .withdrawn), (.decided, .withdrawn):
            return true
        default:
            return false
        }
    }

    public var isOpen: Bool { self != .closed && self != .withdrawn && self != .produced }
}

/// How a request ended, in the terms transparency reports use.
public enum RequestOutcome: String, CaseIterable, Sendable {
    case fullyComplied = "fully_complied"
    case partiallyComplied = "partially_complied"
    case rejected
    case noDataFound = "no_data_found"
    case withdrawn
    /// A preservation request: records held, nothing produced.
    case preserved
}

/// The categories of illegal content of the EU Digital Services Act transparency templates
/// (Commission Implementing Regulation (EU) 2024/2835, Annex I), as the DSA Transparency
/// Database names them. A request that is an art. 10 order to provide information records one.
public enum IllegalContentCategory: String, CaseIterable, Sendable {
    case animalWelfare = "animal_welfare"
    case consumerInformation = "consumer_information"
    case cyberViolence = "cyber_violence"
    case cyberViolenceAgainstWomen = "cyber_violence_against_women"
    case dataProtectionAndPrivacyViolations = "data_protection_and_privacy_violations"
    case illegalOrHarmfulSpeech = "illegal_or_harmful_speech"
    case intellectualPropertyInfringements = "intellectual_property_infringements"
    case negativeEffectsOnCivicDiscourseOrElections = "negative_effects_on_civic_discourse_or_elections"
    case protectionOfMinors = "protection_of_minors"
    case riskForPublicSecurity = "risk_for_public_security"
    case scamsAndFraud = "scams_and_fraud"
    case selfHarm = "self_harm"
    case unsafeAndProhibitedProducts = "unsafe_and_prohibited_products"
    case violence = "violence"
    case notSpecified = "not_specified"

    /// The template's identifier, e.g. `STATEMENT_CATEGORY_ANIMAL_WELFARE`.
    public var templateCode: String {
        self == .notSpecified ? "STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER" : "STATEMENT_CATEGORY_" + rawValue.uppercased()
    }

    public var title: String {
        switch self {
        case .animalWelfare: return "Animal welfare"
        case .consumerInformation: return "Consumer information infringements"
        case .cyberViolence: return "Cyber violence"
        case .cyberViolenceAgainstWomen: return "Cyber violence against women"
        case .dataProtectionAndPrivacyViolations: return "Data protection and privacy violations"
        case .illegalOrHarmfulSpeech: return "Illegal or harmful speech"
        case .intellectualPropertyInfringements: return "Intellectual property infringements"
        case .negativeEffectsOnCivicDiscourseOrElections: return "Negative effects on civic discourse or elections"
        case .protectionOfMinors: return "Protection of minors"
        case .riskForPublicSecurity: return "Risk for public security"
        case .scamsAndFraud: return "Scams and/or fraud"
        case .selfHarm: return "Self-harm"
        case .unsafeAndProhibitedProducts: return "Unsafe, non-compliant or prohibited products"
        case .violence: return "Violence"
        case .notSpecified: return "Type of illegal content not specified in the order"
        }
    }
}

/// The EU Member States, by ISO 3166-1 alpha-2 code (Greece as GR, not the EU's EL).
public enum MemberStates {
    public static let codes: [String] = [
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
        "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    ]
}
