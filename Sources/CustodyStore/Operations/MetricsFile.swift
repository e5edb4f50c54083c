import CustodyCore
import Foundation

/// Prometheus text exposition for node_exporter's textfile collector, written atomically
/// (temporary file + rename in the same directory) so the collector never reads half a file.
public enum MetricsFile {
    public static func render(_ summary: RunSummary, lastSuccess: Date) -> String {
        let report = summary.report
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ value: String) {
            lines.append("# HELP custody_\(name) \(help)")
            lines.append("# TYPE custody_\(name) gauge")
            lines.append("custody_\(name) \(value)")
        }
        gauge("records", "Records ingested into the state, all time.", "\(report.inputs.records)")
        gauge("rejected_lines", "Log lines rejected, all time.", "\(report.inputs.rejectedLines)")
        gauge("files", "Log files known to the state.", "\(report.inputs.files)")
        gauge("unreadable_files", "Log files with a read fault.", "\(report.inputs.unreadableFiles)")
        gauge("missing_days", "Days of the retention window without records.", "\(report.retention.missingDays.count)")
        gauge("covered_days", "Days of the retention window with records.", "\(report.retention.coveredDays)")
        gauge("violating_users", "Users who published before verifying.", "\(report.realName.violatingUsers.count)")
        gauge("violating_events", "Publish events before verification.", "\(report.realName.violatingEvents)")
        gauge("compliant", "1 when the last run found no error.", report.compliant ? "1" : "0")
        gauge("last_run_files_read", "Files with new content read by the last run.", "\(summary.filesRead)")
        gauge("last_run_records_added", "Records added by the last run.", "\(summary.recordsAdded)")
        gauge("last_run_duration_seconds", "Duration of the last run.", String(format: "%.3f", summary.duration))
        gauge("last_success_timestamp_seconds", "When a run last completed.", String(format: "%.0f", lastSuccess.timeIntervalSince1970))
        return lines.joined(separator: "\n") + "\n"
    }

    public static func write(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(directory.isEmpty ? "." : directory)/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        do {
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            chmod(temporary, 0o644)
            guard rename(temporary, path) == 0 else { throw StoreError.io(path: path, reason: String(cString: strerror(errno))) }
        } catch let error as StoreError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw StoreError.io(path: path, reason: "cannot write the metrics file")
        }
    }
}
