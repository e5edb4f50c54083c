import ArgumentParser
import CustodyCore
import CustodyStore
import Foundation
import Logging

/// Options of the commands that work on the state directory named by `custody.yaml`.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file (sources, policy, state and vault directories).", valueName: "file"))
    var config: String = CustodyConfiguration.defaultPath

    @Option(name: .customLong("as-of"), help: ArgumentHelp("Audit as of this day (YYYY-MM-DD). Default: today in the policy's time zone.", valueName: "day"))
    var asOf: CivilDay?

    func load() throws -> (CustodyConfiguration, Policy) {
        let configuration = try CustodyConfiguration.load(path: config)
        return (configuration, try PolicyLoader.load(path: configuration.policyPath))
    }

    func day(for policy: Policy) -> CivilDay { asOf ?? today(in: policy.timeZone) }
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
