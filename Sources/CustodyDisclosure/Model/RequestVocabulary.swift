/// The kind of legal process behind a request, as transparency reports group them.
public enum ProcessType: String, CaseIterable, Sendable {
    case criminalEvidence = "criminal_evidence"
    case administrative
    case courtOrder = "court_order"
    case subpoena
    case emergency
    case preservation
    case other

    /// A heading for reports.
    public var title: String {
        switch self {
        case .criminalEvidence: return "Criminal evidence collection"
        case .administrative: return "Administrative request"
        case .courtOrder: return "Court order"
        case .subpoena: return "Subpoena"
        case .emergency: return "Emergency request"
        case .preservation: return "Preservation request"
        case .other: return "Other legal process"
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
