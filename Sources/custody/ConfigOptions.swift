import ArgumentParser
import CustodyCore
import CustodyReports
import CustodyStore
import Foundation
import Logging

/// Options of the commands that work on the state directory named by `custody.yaml` and judge
/// as of a day (audits, reports, overdue requests).
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: StateOptions.configHelp)
    var config: String = CustodyConfiguration.defaultPath

    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp(
            "Take this day (YYYY-MM-DD) as today, e.g. to audit or report as of a past day. Default: today in the policy's time zone.",
            valueName: "day"))
    var asOf: CivilDay?

    func load() throws -> (CustodyConfiguration, Policy) {
        let configuration = try CustodyConfiguration.load(path: config)
        try checkReporting(configuration)
        return (configuration, try PolicyLoader.load(path: configuration.policyPath))
    }

    func day(for policy: Policy) -> CivilDay { asOf ?? today(in: policy.timeZone) }
}

/// Options of the commands that work on the state but judge nothing as of a day (recording
/// requests and decisions, listing holds, the ledger key): no `--as-of`, which would mean nothing.
struct StateOptions: ParsableArguments {
    static let configHelp = ArgumentHelp("Configuration file (sources, policy, state and vault directories).", valueName: "file")

    @Option(name: .long, help: StateOptions.configHelp)
    var config: String = CustodyConfiguration.defaultPath

    func load() throws -> (CustodyConfiguration, Policy) {
        let configuration = try CustodyConfiguration.load(path: config)
        try checkReporting(configuration)
        return (configuration, try PolicyLoader.load(path: configuration.policyPath))
    }
}

/// The configuration's `reporting` section, read only by the report commands, checked by every
/// command that loads the file: an unknown key there (`reporting.provder`) was accepted by
/// `run` and `verify`, and a mistake is a configuration error wherever it is.
func checkReporting(_ configuration: CustodyConfiguration) throws {
    _ = try ReportConfiguration.load(configuration: configuration, about: nil)
}

/// One line per event on stderr, through swift-log.
enum Logs {
    static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static let logger = Logger(label: "custody")
}
