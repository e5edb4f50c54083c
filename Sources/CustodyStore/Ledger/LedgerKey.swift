import Crypto
import Foundation

/// The ledger's Ed25519 signing key: a file outside the state directory (`ledger_key` in
/// `custody.yaml`), created 0600 only by `custody ledger init`. Nothing else ever creates it:
/// a command that must sign and finds no key fails, so a deleted key is noticed, not replaced.
public enum LedgerKey {
    /// Where states made before the key moved out kept it (inside the state directory).
    public static let legacyFileName = "ledger-signing.key"

    /// Loads the key; a missing or malformed file is an error naming it.
    public static func load(path: String, stateDirectory: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            let legacy = stateDirectory + "/" + legacyFileName
            if FileManager.default.fileExists(atPath: legacy) {
                throw StoreError.io(
                    path: path,
                    reason:
                        "no ledger signing key here, but the state directory still holds one (\(legacy)): move it out with `custody ledger init --import-key`"
                )
            }
            throw StoreError.io(
                path: path, reason: "no ledger signing key: create it with `custody ledger init` (Custody never creates one on its own)")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw StoreError.io(path: path, reason: "not an Ed25519 private key (base64 of 32 bytes)")
        }
        return key
    }

    /// `custody ledger init`: writes a new key (or, `importing`, an existing one, which is then
    /// removed from where it was) to `path`, mode 0600, never overwriting a key already there.
    /// Returns the public key (base64).
    @discardableResult
    public static func create(path: String, importing source: String? = nil) throws -> String {
        let key: Curve25519.Signing.PrivateKey
        if let source {
            guard let text = try? String(contentsOfFile: source, encoding: .utf8) else {
                throw StoreError.io(path: source, reason: "cannot read the key to import")
            }
            key = try parse(text, path: source)
        } else {
            key = Curve25519.Signing.PrivateKey()
        }
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "a ledger key already exists here; Custody never replaces one" : String(cString: strerror(errno))
            throw StoreError.io(path: path, reason: reason)
        }
        let text = key.rawRepresentation.base64EncodedString() + "\n"
        let written = text.withCString { write(fd, $0, strlen($0)) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == text.utf8.count, synced else {
            unlink(path)
            throw StoreError.io(path: path, reason: "cannot write the key")
        }
        syncDirectory(directory)
        // The old copy goes only once the new one is on disk.
        if let source { unlink(source) }
        return publicText(key.publicKey)
    }

    /// Base64 of the raw 32-byte public key.
    public static func publicText(_ key: Curve25519.Signing.PublicKey) -> String {
        key.rawRepresentation.base64EncodedString()
    }

    /// A short name for a public key: the first 16 hex digits of SHA-256 of its raw bytes.
    public static func id(ofPublicKey base64: String) -> String {
        guard let raw = Data(base64Encoded: base64) else { return "invalid" }
        return String(SHA256.hash(data: raw).hex.prefix(16))
    }

    /// Reads a public key given as base64 text or a file holding it.
    public static func publicKey(from argument: String) throws -> Curve25519.Signing.PublicKey {
        let text = (try? String(contentsOfFile: argument, encoding: .utf8)) ?? argument
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else {
            throw StoreError.io(path: argument, reason: "not an Ed25519 public key (base64 of 32 bytes, or a file holding it)")
        }
        return key
    }
}
