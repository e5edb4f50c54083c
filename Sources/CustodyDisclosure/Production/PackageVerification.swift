import Crypto
import CustodyCore
import CustodyStore
import Foundation
import GRDB

/// Re-checks every evidence package still on disk against the hashes the ledger recorded.
public enum PackageVerification {
    public struct Problem: Sendable {
        public var request: String
        public var directory: String
        public var message: String
        /// A package deleted after hand-over is expected; an altered one is not.
        public var isError: Bool
    }

    public static func run(book: RequestBook) throws -> (checked: Int, problems: [Problem]) {
        let productions = try book.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT request_id, directory, manifest_sha256 FROM productions ORDER BY id")
                .map { (request: $0[0] as String, directory: $0[1] as String, sha: $0[2] as String) }
        }
        var problems: [Problem] = []
        var checked = 0
        for production in productions {
            let manifestPath = production.directory + "/manifest.json"
            guard let manifestData = FileManager.default.contents(atPath: manifestPath) else {
                problems.append(Problem(request: production.request, directory: production.directory,
                                        message: "package of \(production.request) is no longer at \(production.directory)", isError: false))
                continue
            }
            checked += 1
            func fail(_ message: String) {
                problems.append(Problem(request: production.request, directory: production.directory, message: message, isError: true))
            }
            guard SHA256.hash(data: manifestData).hex == production.sha else {
                fail("\(manifestPath) does not match the SHA-256 recorded in the ledger")
                continue
            }
            let files = JSONValue.parse(String(decoding: manifestData, as: UTF8.self))?["files"]?.arrayValue ?? []
            for file in files {
                guard let path = file["path"]?.stringValue, let sha = file["sha256"]?.stringValue else { continue }
                guard let bytes = FileManager.default.contents(atPath: production.directory + "/" + path) else {
                    fail("\(production.directory)/\(path) listed in the manifest is missing")
                    continue
                }
                if SHA256.hash(data: bytes).hex != sha { fail("\(production.directory)/\(path) does not match its SHA-256 in the manifest") }
            }
        }
        return (checked, problems)
    }
}
