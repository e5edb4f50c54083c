import Crypto
import CustodyCore
import CustodyStore
import Foundation

/// Re-checks every evidence package still on disk against the hashes the *ledger* recorded
/// (`request.produced` entries; the `productions` table is only a cache): the manifest's
/// SHA-256, every file it lists, and that the package holds no file it does not list.
public enum PackageVerification {
    public struct Problem: Sendable {
        public var request: String
        public var directory: String
        public var message: String
        /// A package deleted after hand-over is expected; an altered one is not.
        public var isError: Bool
        /// A file the manifest does not list (planted, or left behind).
        public var isExtraFile = false
    }

    /// Checks the packages of `productions` (from `LedgerFacts`).
    public static func run(productions: [LedgerFacts.ProductionRecord]) -> (checked: Int, problems: [Problem]) {
        var problems: [Problem] = []
        var checked = 0
        for production in productions {
            let manifestPath = production.directory + "/manifest.json"
            guard let manifestData = FileManager.default.contents(atPath: manifestPath) else {
                problems.append(
                    Problem(
                        request: production.request, directory: production.directory,
                        message: "package of \(production.request) is no longer at \(production.directory)", isError: false))
                continue
            }
            checked += 1
            func fail(_ message: String, extra: Bool = false) {
                problems.append(
                    Problem(
                        request: production.request, directory: production.directory, message: message,
                        isError: true, isExtraFile: extra))
            }
            guard SHA256.hash(data: manifestData).hex == production.manifestSHA256 else {
                fail("\(manifestPath) does not match the SHA-256 recorded in the ledger (entry \(production.seq))")
                continue
            }
            let files = JSONValue.parse(String(decoding: manifestData, as: UTF8.self))?["files"]?.arrayValue ?? []
            var listed: Set<String> = ["manifest.json"]
            for file in files {
                guard let path = file["path"]?.stringValue, let sha = file["sha256"]?.stringValue else { continue }
                listed.insert(path)
                guard let bytes = FileManager.default.contents(atPath: production.directory + "/" + path) else {
                    fail("\(production.directory)/\(path) listed in the manifest is missing")
                    continue
                }
                if SHA256.hash(data: bytes).hex != sha {
                    fail("\(production.directory)/\(path) does not match its SHA-256 in the manifest")
                }
            }
            for path in filesOnDisk(production.directory) where !listed.contains(path) {
                fail("\(production.directory)/\(path) is in the package but not in its manifest", extra: true)
            }
        }
        return (checked, problems)
    }

    /// Every file under `directory` (hidden ones too), relative to it, sorted.
    static func filesOnDisk(_ directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var out: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(path)
            }
        }
        return out.sorted()
    }
}
