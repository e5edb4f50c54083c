import CustodyCore
import Foundation

/// The formats a report can be written in, and where each goes.
public enum ReportFormat: String, CaseIterable, Sendable {
    case md, html, json, csv

    /// Parses `md,html,json,csv`.
    public static func list(_ text: String) -> [ReportFormat]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let formats = parts.compactMap(ReportFormat.init(rawValue:))
        return formats.count == parts.count && !formats.isEmpty ? formats : nil
    }

    /// Writes `contents` as `<directory>/<name>.<format>`; returns the paths written.
    public static func write(
        _ name: String, to directory: String, formats: [ReportFormat],
        render: (ReportFormat) -> String
    ) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try formats.map { format in
            let path = "\(directory)/\(name).\(format.rawValue)"
            try render(format).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }
}

/// A report that can be written in every `ReportFormat`.
public protocol RenderableReport {
    var markdown: String { get }
    var html: String { get }
    var json: JSONValue { get }
    var csv: String { get }
}

extension RenderableReport {
    public func render(_ format: ReportFormat) -> String {
        switch format {
        case .md: return markdown
        case .html: return html
        case .json: return json.rendered() + "\n"
        case .csv: return csv
        }
    }
}

extension TransparencyReport: RenderableReport {}
extension ComplianceReport: RenderableReport {}
