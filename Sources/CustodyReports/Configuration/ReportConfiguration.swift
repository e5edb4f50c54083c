import CustodyCore
import CustodyDisclosure
import CustodyStore
import Foundation

/// Who publishes a report and how: the `reporting:` section of `custody.yaml`, or a file given
/// with `--about FILE` whose top level holds the same keys. Read as strictly as policies:
/// unknown keys, wrong types and bad values name the file, line and dotted key.
///
/// ```yaml
/// reporting:
///   provider: Example Technology Co., Ltd.
///   service: Example Social (app)
///   contact: transparency@example.com
///   methodology: |
///     How we count …            # optional; a default text describes Custody's counting
///   territory_names:            # optional: per-territory names (default CLDR English)
///     TW: Taiwan, China
///   process_types:              # optional: the provider's own legal process types
///     pen_register: Pen register order
///     wiretap: Wiretap order
///   listed_territories: [AR, BE] # optional: listed even with no request (a row of zeros)
///   real_time_process_types:    # optional: processes giving real-time access (not stored data)
///     - wiretap
///     - pen_register
///   barred_from_disclosing: |   # optional: demands the law bars the provider from reporting
///     National security demands under …
///   dsa_corrections:            # optional: corrected DSA reports, newest version wins
///     - period: 2026H1
///       version: 2
///       date: 2026-08-15
///       note: two orders from DE were recorded under FR
/// ```
public struct ReportConfiguration: Sendable, Equatable {
    /// A corrected DSA report: the period it corrects, its version and when it was corrected.
    public struct Correction: Sendable, Equatable {
        public var period: String
        public var version: Int
        public var date: CivilDay
        public var note: String?
    }

    public var provider: String?
    public var service: String?
    public var contact: String?
    public var methodology: String?
    public var territoryNames: [String: String] = [:]
    /// Declared process types with their headings, in file order.
    public var processTypes: [(type: ProcessType, title: String)] = []
    public var dsaCorrections: [Correction] = []
    /// Territories every report lists, with zeros when no request came from them.
    public var listedTerritories: [String] = []
    /// Process types that give real-time access to communications rather than stored data.
    public var realTimeProcessTypes: [ProcessType] = []
    /// What kinds of demands the law bars the provider from reporting (free text).
    public var barredFromDisclosing: String?
    /// Where it came from, for messages.
    public var source: String?

    public init() {}

    public static func == (a: ReportConfiguration, b: ReportConfiguration) -> Bool {
        a.provider == b.provider && a.service == b.service && a.contact == b.contact && a.methodology == b.methodology
            && a.territoryNames == b.territoryNames && a.processTypes.map(\.type) == b.processTypes.map(\.type)
            && a.processTypes.map(\.title) == b.processTypes.map(\.title) && a.dsaCorrections == b.dsaCorrections
            && a.realTimeProcessTypes == b.realTimeProcessTypes && a.listedTerritories == b.listedTerritories
            && a.barredFromDisclosing == b.barredFromDisclosing
    }

    public static let keys = [
        "provider", "service", "contact", "methodology", "territory_names", "process_types", "real_time_process_types",
        "barred_from_disclosing", "listed_territories", "dsa_corrections",
    ]

    /// The declared process types (for intake).
    public var declaredProcessTypes: [ProcessType] { processTypes.map(\.type) }

    /// The heading of a process type: the declared one, else the built-in title.
    public func title(of type: ProcessType) -> String {
        processTypes.first { $0.type == type }?.title ?? type.title
    }

    /// Every process type a report lists, even with no request: the built-in seven, then the declared ones.
    public var reportedProcessTypes: [ProcessType] {
        ProcessType.allCases + declaredProcessTypes.filter { !$0.isBuiltIn }
    }

    public func territoryName(_ code: String) -> String { Territories.name(code, overrides: territoryNames) }

    /// The configuration for `configuration`: `--about FILE` when given, else the `reporting:`
    /// section of its `custody.yaml`, else an empty one.
    public static func load(configuration: CustodyConfiguration, about: String?) throws -> ReportConfiguration {
        if let about {
            let text = try YAMLMapping.readText(about, what: "the report configuration (--about)")
            return try parse(YAMLMapping.parseDocument(text, file: about))
        }
        let text = try YAMLMapping.readText(configuration.file, what: "the configuration file")
        guard let section = try YAMLMapping.parseDocument(text, file: configuration.file).mapping("reporting") else {
            return ReportConfiguration()
        }
        return try parse(section)
    }

    /// Parses a mapping holding the report configuration keys.
    public static func parse(_ map: YAMLMapping) throws -> ReportConfiguration {
        try map.requireKnownKeys(keys)
        var c = ReportConfiguration()
        c.source = map.keyPath.isEmpty ? map.file : "\(map.file) (\(map.keyPath))"
        func text(_ key: String) throws -> String? {
            guard let value = try map.string(key) else { return nil }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw map.error(key, "must not be empty") }
            return trimmed
        }
        c.provider = try text("provider")
        c.service = try text("service")
        c.contact = try text("contact")
        c.methodology = try text("methodology")
        if let names = try map.stringPairs("territory_names") {
            let nested = try map.mapping("territory_names")!
            for (code, name) in names {
                guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                    throw nested.error(code, "expected an ISO 3166-1 alpha-2 code in capitals, such as TW")
                }
                c.territoryNames[code] = name
            }
        }
        if let types = try map.stringPairs("process_types") {
            let nested = try map.mapping("process_types")!
            for (name, title) in types {
                guard ProcessType.isValidName(name) else {
                    throw nested.error(name, "a process type is lower-case letters, digits and _, starting with a letter")
                }
                c.processTypes.append((ProcessType(declared: name), title))
            }
        }
        c.barredFromDisclosing = try text("barred_from_disclosing")
        for code in try map.stringList("listed_territories") ?? [] {
            guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw map.error("listed_territories", "'\(code)' is not an ISO 3166-1 alpha-2 code in capitals, such as AR")
            }
            if !c.listedTerritories.contains(code) { c.listedTerritories.append(code) }
        }
        if let names = try map.stringList("real_time_process_types") {
            for name in names {
                let type = ProcessType(rawValue: name) ?? c.processTypes.first { $0.type.rawValue == name }?.type
                guard let type else {
                    throw map.error(
                        "real_time_process_types", "'\(name)' is neither a built-in process type nor one declared under process_types")
                }
                c.realTimeProcessTypes.append(type)
            }
        }
        if let corrections = try map.mappingList("dsa_corrections") {
            for entry in corrections {
                try entry.requireKnownKeys(["period", "version", "date", "note"])
                let period = try entry.requiredString("period")
                guard ReportPeriod(period) != nil else { throw entry.error("period", "expected a period such as 2026H1 or 2026") }
                guard let version = try entry.int("version") else { throw entry.missing("version") }
                guard version >= 2 else {
                    throw entry.error("version", "a correction is version 2 or later (the first report is version 1)")
                }
                guard let date = CivilDay(iso: try entry.requiredString("date")) else {
                    throw entry.error("date", "expected a day as YYYY-MM-DD")
                }
                c.dsaCorrections.append(
                    Correction(period: ReportPeriod(period)!.label, version: version, date: date, note: try entry.string("note")))
            }
        }
        return c
    }
}
