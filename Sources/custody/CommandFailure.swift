import ArgumentParser
import CustodyCore
import CustodyDisclosure
import CustodyIngest
import CustodyStore

/// The exit statuses of the contract.
enum ExitStatus: Int32 {
    case compliant = 0
    case notCompliant = 1
    case usage = 2
    /// `custody verify`: evidence failed an integrity check (hashes, chain, signatures,
    /// packages, checkpoints, tables against the ledger or the vault).
    case integrityFailure = 3
    /// Another run holds the lock (EX_TEMPFAIL).
    case busy = 75

    /// 0 when compliant, else 1, as the exit of a command.
    static func of(compliant: Bool) -> ExitCode {
        ExitCode((compliant ? ExitStatus.compliant : .notCompliant).rawValue)
    }
}

/// A failure to report as one line on stderr with a given status.
struct CommandFailure: Error {
    var message: String
    var status: ExitStatus

    init(_ message: String, status: ExitStatus = .usage) {
        self.message = message
        self.status = status
    }

    /// Maps library errors to the one line a user sees.
    static func from(_ error: Error) -> CommandFailure {
        switch error {
        case let failure as CommandFailure: return failure
        case let config as ConfigurationError: return CommandFailure(config.description)
        case let missing as InputCollector.MissingInput: return CommandFailure(missing.description)
        case let nothing as NothingToAudit: return CommandFailure(nothing.description)
        case let disclosure as DisclosureError: return CommandFailure(disclosure.message)
        case let integrity as IntegrityError: return CommandFailure(integrity.description, status: .notCompliant)
        case let store as StoreError:
            if case .busy = store { return CommandFailure(store.description, status: .busy) }
            return CommandFailure(store.description)
        default: return CommandFailure("\(error)")
        }
    }
}
