import CustodyCore
import CustodyStore
import Foundation

/// `custody verify`, everything but the printing. It opens the state without creating anything
/// (a missing `state.db` or signing key is an error), and keeps two verdicts apart:
///
/// - **integrity**: vault objects against their names, orphans, the per-day cache against the
///   vault, the ledger chain and signatures, checkpoints kept elsewhere, tables against the
///   ledger, evidence packages;
/// - **compliance**: days of the retention window no intact object covers.
public struct StateVerification: Sendable {
    public var vault: VaultVerification
    public var ledger: LedgerVerification
    public var packagesChecked: Int
    public var integrity: [Finding]
    public var compliance: [Finding]
    public var warnings: [Finding]

    public var integrityOK: Bool { !integrity.contains { $0.severity == .error } }
    public var compliant: Bool { !compliance.contains { $0.severity == .error } }

    public static func run(
        configuration: CustodyConfiguration, policy: Policy, asOf: CivilDay,
        checkpoints: [String]
    ) throws -> StateVerification {
        // A checkpoint path that does not exist is a mistake in the command, not evidence of tampering.
        if let missing = checkpoints.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            throw StoreError.io(path: missing, reason: "no such checkpoint file or directory")
        }
        let book = try RequestBook(configuration: configuration, create: false)
        var sources = checkpoints
        var witnessEmpty = false
        if let witness = configuration.witnessDirectory {
            if FileManager.default.fileExists(atPath: witness) { sources.append(witness) } else { witnessEmpty = true }
        }
        var given = LedgerCheckpoint.read(sources)
        // A witness directory with nothing in it yet is not a failed checkpoint.
        if let witness = configuration.witnessDirectory {
            given.removeAll { $0.source == witness && $0.checkpoint == nil }
            witnessEmpty = witnessEmpty || !given.contains { $0.source.hasPrefix(witness + "/") }
        }
        let ledger = try book.ledger.verify(database: book.database, checkpoints: given)
        let facts = try LedgerFacts.load(ledger: book.ledger, database: book.database)
        let vault = try VaultVerification.run(
            configuration: configuration, policy: policy, asOf: asOf,
            database: book.database, vault: book.vault, facts: facts)
        var integrity = vault.integrity
        var warnings: [Finding] = []
        if let failure = ledger.firstFailure {
            integrity.append(
                Finding(
                    rule: .ledgerBroken, severity: .error,
                    message: "ledger entry \(failure.seq) fails: \(failure.reason)", line: Int(failure.seq)))
        }
        if let named = LedgerVerification.naming(ledger.unsignedEntries), let first = ledger.unsignedEntries.first {
            integrity.append(
                Finding(
                    rule: .ledgerUnsignedEntries, severity: .error,
                    message:
                        "ledger \(named) signed by no checkpoint: recorded outside Custody, or by a command interrupted before it signed; read them (custody ledger export), and only if they are yours sign them (custody ledger checkpoint --accept-unsigned)",
                    line: Int(first.seq)))
        }
        for failure in ledger.checkpointFailures {
            integrity.append(
                Finding(
                    rule: .ledgerCheckpointFailed, severity: .error,
                    message: "checkpoint \(failure.source): \(failure.reason)", file: failure.source))
        }
        for line in try LedgerConsistency.disagreements(book: book, facts: facts) {
            integrity.append(Finding(rule: .stateLedgerMismatch, severity: .error, message: line))
        }
        let packages = PackageVerification.run(productions: facts.productions)
        for problem in packages.problems {
            let finding = Finding(
                rule: problem.isExtraFile ? .packageExtraFile : .packageAltered,
                severity: problem.isError ? .error : .warning, message: problem.message, file: problem.directory)
            if problem.isError { integrity.append(finding) } else { warnings.append(finding) }
        }
        if ledger.legacyKeyInState {
            warnings.append(
                Finding(
                    rule: .ledgerKeyInState, severity: .warning,
                    message:
                        "\(configuration.stateDirectory)/\(LedgerKey.legacyFileName) is a signing key inside the state directory: whoever can write the state can use it; remove it (custody ledger init --import-key moves it out)"
                ))
        }
        if witnessEmpty && ledger.entries > 0, let witness = configuration.witnessDirectory {
            warnings.append(
                Finding(
                    rule: .ledgerCheckpointFailed, severity: .warning,
                    message:
                        "witness directory \(witness) holds no checkpoint yet (one is written after the next ledger change, or run custody ledger checkpoint --out)"
                ))
        }
        return StateVerification(
            vault: vault, ledger: ledger, packagesChecked: packages.checked, integrity: integrity,
            compliance: vault.compliance, warnings: warnings)
    }
}
