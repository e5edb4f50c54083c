/// How much a finding matters: errors make a check fail (exit status 1), warnings do not.
public enum Severity: String, Sendable, Comparable {
    case error
    case warning

    public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
}

/// One aggregated result of a check. Findings grow with users, days and files, never with events:
/// one per missing day, per violating user, per unreadable file, per file with rejected lines.
public struct Finding: Sendable, Equatable {
    public var rule: Rule
    public var severity: Severity
    public var message: String
    public var day: CivilDay?
    public var user: String?
    public var file: String?
    public var line: Int?
    /// RFC 3339 UTC time of the event the finding points at.
    public var time: String?
    /// Compressed byte offset of a gzip fault.
    public var offset: Int?
    /// Events (violating user) or lines (rejected lines) the finding stands for.
    public var count: Int?
    /// The first few line numbers of rejected lines.
    public var lines: [Int]?

    public init(
        rule: Rule, severity: Severity, message: String, day: CivilDay? = nil, user: String? = nil,
        file: String? = nil, line: Int? = nil, time: String? = nil, offset: Int? = nil,
        count: Int? = nil, lines: [Int]? = nil
    ) {
        self.rule = rule
        self.severity = severity
        self.message = message
        self.day = day
        self.user = user
        self.file = file
        self.line = line
        self.time = time
        self.offset = offset
        self.count = count
        self.lines = lines
    }

    /// The rules a finding can come from, in the order reports list them.
    public enum Rule: String, Sendable, CaseIterable, Comparable {
        case policyNotInForce = "policy.not_in_force"
        case missingSource = "input.missing_source"
        case specialFile = "input.special_file"
        case symlinkOutsideSource = "input.symlink_outside_source"
        case unreadableFile = "input.unreadable_file"
        case unrecognisedFile = "input.unrecognised_file"
        case rejectedLines = "input.rejected_lines"
        case missingDay = "retention.missing_day"
        case overRetained = "retention.over_retained"
        case notEvaluable = "real_name.not_evaluable"
        case anonymousPublish = "real_name.anonymous_publish"
        case violatingUser = "real_name.violating_user"
        case vaultObjectMissing = "vault.object_missing"
        case vaultObjectAltered = "vault.object_altered"
        case vaultDayNotCovered = "vault.day_not_covered"
        case ledgerBroken = "ledger.broken"
        case packageAltered = "package.altered"
        case vaultOrphanObject = "vault.orphan_object"
        case stateVaultMismatch = "state.vault_mismatch"
        case stateLedgerMismatch = "state.ledger_mismatch"
        case ledgerCheckpointFailed = "ledger.checkpoint_failed"
        case ledgerKeyInState = "ledger.key_in_state"
        case packageExtraFile = "package.extra_file"
        case ledgerUnsignedEntries = "ledger.unsigned_entries"

        public static func < (a: Rule, b: Rule) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }

        /// A heading for people.
        public var title: String {
            switch self {
            case .policyNotInForce: return "Policy not in force during the window"
            case .missingSource: return "Configured sources that hold no log file"
            case .specialFile: return "Special files skipped (FIFOs, sockets, devices)"
            case .symlinkOutsideSource: return "Symbolic links leaving the sources, not followed"
            case .unreadableFile: return "Unreadable files"
            case .unrecognisedFile: return "Files not recognised as logs"
            case .rejectedLines: return "Rejected lines"
            case .missingDay: return "Missing days"
            case .overRetained: return "Records kept past maximum_days"
            case .notEvaluable: return "Real-name rule not evaluable"
            case .anonymousPublish: return "Publish events without a user"
            case .violatingUser: return "Users who published before verifying their real identity"
            case .vaultObjectMissing: return "Vault objects missing"
            case .vaultObjectAltered: return "Vault objects altered"
            case .vaultDayNotCovered: return "Days of the retention window the vault does not cover"
            case .ledgerBroken: return "Ledger entries that fail verification"
            case .packageAltered: return "Evidence packages that fail verification"
            case .vaultOrphanObject: return "Vault objects the state does not list"
            case .stateVaultMismatch: return "State tables the vault contradicts"
            case .stateLedgerMismatch: return "State tables the ledger contradicts"
            case .ledgerCheckpointFailed: return "Checkpoints the ledger no longer contains"
            case .ledgerKeyInState: return "Signing keys inside the state directory"
            case .ledgerUnsignedEntries: return "Ledger entries no checkpoint signs"
            case .packageExtraFile: return "Files in evidence packages their manifest does not list"
            }
        }
    }

    public var json: JSONValue { .object(jsonMembers) }

    /// Writes `json` pretty-printed at depth `indent`, the same bytes as
    /// `json.write(into:indent:)`, without building the members as values first: a check report
    /// writes one finding for every user who published before verifying, and building them was
    /// most of the time it took to write one with 100,000 such users (perf).
    func write(into out: inout JSONText, indent: Int) {
        let inner = indent + 1
        out.append("{")
        out.member("rule", indent: inner, first: true)
        out.quote(rule.rawValue)
        out.member("severity", indent: inner, first: false)
        out.quote(severity.rawValue)
        out.member("message", indent: inner, first: false)
        out.quote(message)
        if let day {
            out.member("day", indent: inner, first: false)
            out.quote(day.description)
        }
        if let user {
            out.member("user", indent: inner, first: false)
            out.quote(user)
        }
        if let file {
            out.member("file", indent: inner, first: false)
            out.quote(file)
        }
        if let line {
            out.member("line", indent: inner, first: false)
            out.append(line)
        }
        if let time {
            out.member("time", indent: inner, first: false)
            out.quote(time)
        }
        if let offset {
            out.member("offset", indent: inner, first: false)
            out.append(offset)
        }
        if let count {
            out.member("count", indent: inner, first: false)
            out.append(count)
        }
        if let lines {
            out.member("lines", indent: inner, first: false)
            JSONValue.array(lines.map { .int($0) }).write(into: &out, indent: inner)
        }
        out.newline(indent: indent)
        out.append("}")
    }

    /// The members of `json`, in order. `write(into:indent:)` writes the same members in the
    /// same order without building them: a member added here is added there too
    /// (`ReportTailTests` compares the two over every member).
    public var jsonMembers: [(String, JSONValue)] {
        var pairs: [(String, JSONValue)] = [
            ("rule", .string(rule.rawValue)), ("severity", .string(severity.rawValue)), ("message", .string(message)),
        ]
        if let day { pairs.append(("day", .string(day.description))) }
        if let user { pairs.append(("user", .string(user))) }
        if let file { pairs.append(("file", .string(file))) }
        if let line { pairs.append(("line", .int(line))) }
        if let time { pairs.append(("time", .string(time))) }
        if let offset { pairs.append(("offset", .int(offset))) }
        if let count { pairs.append(("count", .int(count))) }
        if let lines { pairs.append(("lines", .array(lines.map { .int($0) }))) }
        return pairs
    }
}
