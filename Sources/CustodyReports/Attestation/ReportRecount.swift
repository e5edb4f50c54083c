import CustodyCore
import CustodyDisclosure
import Foundation

/// Recounts a transparency report from a ledger export alone: the last `request.state` entry of
/// each request up to the report's ledger head gives the request records, and the same builder
/// that made the report (`TransparencyReport.build(records:…)`), with the period, as-of day and
/// configuration the report's JSON states, must give the same document. Only the prose of the
/// definitions and the attestation are not compared: every count, median, row and label is.
public enum ReportRecount {
    /// Members not compared: the signature, and prose that depends on configuration the report
    /// does not fully restate (which territories the provider names its own way).
    static let notCompared: Set<String> = ["attestation", "definitions"]

    /// What the recount found: nil when every figure follows from the ledger, else one line
    /// naming the first differing field (or why the report could not be recounted).
    public static func problem(report: JSONValue, entries: [JSONValue]) -> String? {
        guard let seq = report["ledger"]?["seq"]?.intValue else { return "the report names no ledger head: nothing to recount it from" }
        let recomputed: JSONValue
        switch rebuild(report: report, entries: entries.filter { ($0["seq"]?.intValue ?? .max) <= seq }) {
        case .failure(let reason): return "cannot recount the report from the ledger: \(reason)"
        case .success(let built): recomputed = built
        }
        // Through text and back, so that numbers compare as the report file spells them.
        guard let expected = JSONValue.parse(recomputed.canonicalText) else { return "cannot recount the report from the ledger" }
        if let (path, reported, ledger) = firstDifference(report, expected, path: "") {
            return "\(path): the report says \(reported), the ledger gives \(ledger)"
        }
        return nil
    }

    struct Failure: Error { var reason: String }

    /// The report's JSON as the ledger's request records give it.
    static func rebuild(report: JSONValue, entries: [JSONValue]) -> Result<JSONValue, Failure> {
        guard let label = report["period"]?["label"]?.stringValue, let period = ReportPeriod(label),
            period.first.description == report["period"]?["start"]?.stringValue,
            period.last.description == report["period"]?["end"]?.stringValue
        else {
            return .failure(Failure(reason: "period: not a period Custody writes"))
        }
        guard let asOf = report["as_of"]?.stringValue.flatMap(CivilDay.init(iso:)) else {
            return .failure(Failure(reason: "as_of: not a day"))
        }
        guard let bandWidth = report["nondisclosure"]?["band_width"]?.intValue, bandWidth > 0 else {
            return .failure(Failure(reason: "nondisclosure.band_width: missing"))
        }
        // Reports made before `basis` was written do not say which time zone or real-time types they counted with.
        guard let basis = report["basis"], let zoneName = basis["time_zone"]?.stringValue,
            let realTime = basis["real_time_process_types"]?.arrayValue?.compactMap(\.stringValue),
            let listed = basis["listed_territories"]?.arrayValue?.compactMap(\.stringValue)
        else {
            return .failure(
                Failure(
                    reason:
                        "the report has no basis (time zone, real-time process types, listed territories); it was made by an older Custody")
            )
        }
        guard let timeZone = TimeZone(identifier: zoneName) else {
            return .failure(Failure(reason: "basis.time_zone '\(zoneName)' is not a time zone"))
        }

        var about = ReportConfiguration()
        about.provider = report["provider"]?.stringValue
        about.service = report["service"]?.stringValue
        about.contact = report["contact"]?.stringValue
        about.methodology = report["methodology"]?.stringValue
        about.barredFromDisclosing = report["barred_from_disclosing"]?.stringValue
        about.realTimeProcessTypes = realTime.map(ProcessType.init(declared:))
        about.listedTerritories = listed
        // Headings of legal processes and names of territories as the report prints them: every
        // process row, in the report's order, declares its heading.
        for row in report["by_process_type"]?.arrayValue ?? [] {
            guard let key = row["key"]?.stringValue, let title = row["label"]?.stringValue else { continue }
            about.processTypes.append((ProcessType(declared: key), title))
        }
        for row in report["by_jurisdiction"]?.arrayValue ?? [] {
            guard let code = row["code"]?.stringValue, let name = row["name"]?.stringValue, name != Territories.name(code) else { continue }
            about.territoryNames[code] = name
        }

        // The last recorded state of every request received up to the head.
        var received: [String] = []
        var states: [String: JSONValue] = [:]
        var head: JSONValue?
        for entry in entries {
            head = entry
            let body = entry["body"]
            switch entry["kind"]?.stringValue {
            case "request.received":
                if let id = body?["id"]?.stringValue { received.append(id) }
            case "request.state":
                if let id = body?["request"]?.stringValue, let record = body?["record"] { states[id] = record }
            default: break
            }
        }
        var records: [RequestRecord] = []
        for id in received {
            guard let state = states[id] else {
                return .failure(Failure(reason: "request \(id) has no request.state entry up to the report's head"))
            }
            guard let record = RequestRecord(ledgerSnapshot: state) else {
                return .failure(Failure(reason: "request \(id): its last request.state entry cannot be read"))
            }
            records.append(record)
        }
        var rebuilt = TransparencyReport.build(
            records: records, period: period, asOf: asOf, about: about,
            bandWidth: bandWidth, timeZone: timeZone)
        if let head {
            rebuilt.ledgerSeq = head["seq"]?.intValue.map(Int64.init)
            rebuilt.ledgerHead = report["ledger"]?["head_sha256"]?.stringValue  // checked against the export by the caller
            rebuilt.ledgerTime = head["recorded_at"]?.stringValue
        }
        return .success(rebuilt.json)
    }

    /// The first place where `reported` and `expected` differ, depth first in the report's
    /// order: the dotted path (`by_jurisdiction[1].counts.requests`) and both values.
    static func firstDifference(_ reported: JSONValue, _ expected: JSONValue, path: String) -> (String, String, String)? {
        switch (reported, expected) {
        case (.object(let a), .object(let b)):
            let keys = a.map(\.0) + b.map(\.0).filter { key in !a.contains { $0.0 == key } }
            for key in keys where !(path.isEmpty && notCompared.contains(key)) {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let x = reported[key] else { return (child, "nothing", summary(expected[key]!)) }
                guard let y = expected[key] else { return (child, summary(x), "nothing") }
                if let difference = firstDifference(x, y, path: child) { return difference }
            }
            return nil
        case (.array(let a), .array(let b)):
            for (index, (x, y)) in zip(a, b).enumerated() {
                if let difference = firstDifference(x, y, path: "\(path)[\(index)]") { return difference }
            }
            return a.count == b.count ? nil : (path, "\(a.count) rows", "\(b.count) rows")
        default:
            return reported.canonicalText == expected.canonicalText ? nil : (path, summary(reported), summary(expected))
        }
    }

    static func summary(_ value: JSONValue) -> String {
        let text = value.canonicalText
        return text.count > 80 ? String(text.prefix(77)) + "…" : text
    }
}
