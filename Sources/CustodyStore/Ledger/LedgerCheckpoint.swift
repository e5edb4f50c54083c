import Crypto
import CustodyCore
import Foundation

/// A signed statement "the ledger held `entries` entries and its head hashed to `headHash`",
/// meant to be kept away from the state directory (a witness directory on other storage,
/// syslog, a published report), like a Certificate Transparency signed tree head. Whoever
/// holds one can later prove the ledger still contains it: `custody verify --checkpoint`.
///
/// One line of canonical JSON (`custody.checkpoint.v1`); the signature covers the text
/// `custody-ledger-checkpoint\n<entries>\n<head_sha256>\n<signed_at>`, the same message the
/// in-state `ledger_checkpoints` rows sign.
public struct LedgerCheckpoint: Sendable, Equatable {
    public var entries: Int64
    public var headHash: String
    public var signedAt: String
    /// Base64 raw Ed25519 public key.
    public var publicKey: String
    /// Base64 signature.
    public var signature: String

    public static let schema = "custody.checkpoint.v1"

    public var keyID: String { LedgerKey.id(ofPublicKey: publicKey) }

    public static func message(entries: Int64, headHash: String, signedAt: String) -> String {
        "custody-ledger-checkpoint\n\(entries)\n\(headHash)\n\(signedAt)"
    }

    public static func sign(
        entries: Int64, headHash: String, signedAt: String, key: Curve25519.Signing.PrivateKey
    ) throws -> LedgerCheckpoint {
        let signature = try key.signature(for: Data(message(entries: entries, headHash: headHash, signedAt: signedAt).utf8))
        return LedgerCheckpoint(
            entries: entries, headHash: headHash, signedAt: signedAt,
            publicKey: LedgerKey.publicText(key.publicKey), signature: signature.base64EncodedString())
    }

    /// Whether the signature is valid for the key the checkpoint names.
    public var isValidlySigned: Bool {
        guard let raw = Data(base64Encoded: publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            let signature = Data(base64Encoded: signature)
        else { return false }
        return key.isValidSignature(signature, for: Data(Self.message(entries: entries, headHash: headHash, signedAt: signedAt).utf8))
    }

    public var json: JSONValue {
        .object([
            ("schema", .string(Self.schema)), ("entries", .int(Int(entries))), ("head_sha256", .string(headHash)),
            ("signed_at", .string(signedAt)), ("key_id", .string(keyID)), ("public_key", .string(publicKey)),
            ("signature", .string(signature)),
        ])
    }

    /// The checkpoint as one line (canonical JSON and a newline).
    public var line: String { json.canonicalText + "\n" }

    public init(entries: Int64, headHash: String, signedAt: String, publicKey: String, signature: String) {
        self.entries = entries
        self.headHash = headHash
        self.signedAt = signedAt
        self.publicKey = publicKey
        self.signature = signature
    }

    /// Parses one line; nil when it is not a checkpoint.
    public init?(line: String) {
        guard let json = JSONValue.parse(line), json["schema"]?.stringValue == Self.schema,
            let entries = json["entries"]?.intValue, let head = json["head_sha256"]?.stringValue,
            let signedAt = json["signed_at"]?.stringValue, let key = json["public_key"]?.stringValue,
            let signature = json["signature"]?.stringValue
        else { return nil }
        self.init(entries: Int64(entries), headHash: head, signedAt: signedAt, publicKey: key, signature: signature)
    }

    /// Writes the checkpoint so that a reader (or a crash) sees the whole file or none of it:
    /// a temporary file in the same directory, fsync, rename, fsync of the directory.
    public func write(to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary = directory + "/.incoming-" + UUID().uuidString
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: temporary, reason: String(cString: strerror(errno))) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StoreError.io(path: path, reason: "cannot write the checkpoint: \(reason)")
        }
        syncDirectory(directory)
    }

    /// Checkpoints in the given files (one per line) and directories (their `*.json` files).
    /// A line that is not a checkpoint is returned as a failure naming the file and line.
    public static func read(_ paths: [String]) -> [(source: String, checkpoint: LedgerCheckpoint?)] {
        var out: [(String, LedgerCheckpoint?)] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                out.append((path, nil))
                continue
            }
            let files =
                isDirectory.boolValue
                ? ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().map {
                    path + "/" + $0
                }
                : [path]
            for file in files {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    out.append((file, nil))
                    continue
                }
                let lines = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                if lines.isEmpty { out.append((file, nil)) }
                for (index, line) in lines.enumerated() {
                    out.append(("\(file)\(lines.count > 1 ? ":\(index + 1)" : "")", LedgerCheckpoint(line: String(line))))
                }
            }
        }
        return out
    }
}
