import Crypto
import CustodyCore
import CustodyStore
import Foundation

/// A transparency report anyone can check: its JSON carries the ledger head it was built from
/// (`ledger`) and an `attestation`, an Ed25519 signature by the ledger's key over the report's
/// canonical JSON without the attestation member. `custody report verify` checks the signature
/// with the published public key and, given a ledger export, that the head is in the ledger.
public enum ReportAttestation {
    public static let schema = "custody.report-attestation.v1"

    /// The text signed: a domain tag and the canonical JSON of the report without `attestation`.
    static func message(_ report: JSONValue) -> Data {
        Data(("custody-report\n" + unsigned(report).canonicalText).utf8)
    }

    static func unsigned(_ report: JSONValue) -> JSONValue {
        guard case .object(let pairs) = report else { return report }
        return .object(pairs.filter { $0.0 != "attestation" })
    }

    /// The report with its `attestation` member, signed with the ledger's key.
    public static func sign(_ report: JSONValue, ledger: Ledger) throws -> JSONValue {
        let key = try LedgerKey.load(path: ledger.keyPath ?? "", stateDirectory: ledger.stateDirectory)
        let signature = try key.signature(for: message(report))
        let publicKey = LedgerKey.publicText(key.publicKey)
        guard case .object(var pairs) = unsigned(report) else { return report }
        pairs.append(
            (
                "attestation",
                .object([
                    ("schema", .string(schema)), ("algorithm", .string("Ed25519")),
                    ("key_id", .string(LedgerKey.id(ofPublicKey: publicKey))), ("public_key", .string(publicKey)),
                    ("signed", .string("canonical JSON of this document without \"attestation\", after the line custody-report")),
                    ("signature", .string(signature.base64EncodedString())),
                ])
            ))
        return .object(pairs)
    }

    /// What `custody report verify` found: the checks that passed and the problems.
    public struct Outcome: Sendable {
        public var passed: [String] = []
        public var problems: [String] = []
        public var ok: Bool { problems.isEmpty }
    }

    /// Checks a report's signature against `publicKey` and, with `ledgerExport` (the text of
    /// `custody ledger export`), that the export is an intact chain signed by the same key,
    /// holds the ledger head the report names, and gives the report's numbers when the report
    /// is recounted from it up to that head (`ReportRecount`).
    public static func verify(reportText: String, publicKey: Curve25519.Signing.PublicKey, ledgerExport: String?) -> Outcome {
        var outcome = Outcome()
        guard let report = JSONValue.parse(reportText), case .object = report else {
            outcome.problems.append("the report is not a JSON object")
            return outcome
        }
        let publicText = LedgerKey.publicText(publicKey)
        if let attestation = report["attestation"], let signatureText = attestation["signature"]?.stringValue,
            let signature = Data(base64Encoded: signatureText)
        {
            if publicKey.isValidSignature(signature, for: message(report)) {
                outcome.passed.append("signature valid for key \(LedgerKey.id(ofPublicKey: publicText))")
            } else {
                outcome.problems.append(
                    "the signature is not valid for key \(LedgerKey.id(ofPublicKey: publicText)): the report was changed after signing, or signed by another key (it names \(attestation["key_id"]?.stringValue ?? "none"))"
                )
            }
        } else {
            outcome.problems.append("the report carries no attestation signature")
        }
        let seq = report["ledger"]?["seq"]?.intValue
        let head = report["ledger"]?["head_sha256"]?.stringValue
        guard let ledgerExport else { return outcome }
        var previous = Ledger.genesis
        var hashes: [Int: String] = [:]
        var entries: [JSONValue] = []
        var checkpoint: LedgerCheckpoint?
        for (index, line) in ledgerExport.split(separator: "\n").enumerated() {
            let text = String(line)
            if let parsed = LedgerCheckpoint(line: text) {
                checkpoint = parsed
                continue
            }
            guard let entry = JSONValue.parse(text), entry.canonicalText == text, let entrySeq = entry["seq"]?.intValue else {
                outcome.problems.append("ledger export line \(index + 1) is not a canonical ledger entry")
                return outcome
            }
            guard entry["previous"]?.stringValue == previous, entrySeq == hashes.count + 1 else {
                outcome.problems.append("ledger export line \(index + 1) (entry \(entrySeq)) does not link to the entry before")
                return outcome
            }
            previous = SHA256.hash(data: Data(text.utf8)).hex
            hashes[entrySeq] = previous
            entries.append(entry)
        }
        if let checkpoint {
            if checkpoint.isValidlySigned, checkpoint.publicKey == publicText,
                Int(checkpoint.entries) == hashes.count, checkpoint.entries == 0 || hashes[Int(checkpoint.entries)] == checkpoint.headHash
            {
                outcome.passed.append("ledger export: \(hashes.count) entries, an intact chain whose head is signed by the same key")
            } else {
                outcome.problems.append("the ledger export's closing checkpoint does not match its entries or is not signed by this key")
            }
        } else {
            outcome.problems.append("the ledger export has no signed checkpoint (make it with custody ledger export)")
        }
        if let seq, let head {
            if hashes[seq] == head {
                outcome.passed.append("the report's ledger head (entry \(seq), \(head.prefix(16))…) is in the ledger")
                // The head being in the ledger ties the report to it; recounting shows the numbers follow from it.
                if let problem = ReportRecount.problem(report: report, entries: entries) {
                    outcome.problems.append(problem)
                } else {
                    outcome.passed.append("every number in the report follows from the ledger up to entry \(seq)")
                }
            } else {
                outcome.problems.append("the report's ledger head (entry \(seq), \(head.prefix(16))…) is not in this ledger export")
            }
        } else if !hashes.isEmpty {
            outcome.problems.append("the report names no ledger head, but the ledger has entries")
        }
        return outcome
    }
}
