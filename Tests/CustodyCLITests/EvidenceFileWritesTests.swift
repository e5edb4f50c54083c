import Foundation
import Testing

@testable import CustodyDisclosure

/// How an evidence package's manifest reaches the disk (`EvidencePackage.write` and
/// `syncDirectory`): whole, private, flushed; a failure is an error naming the path, never a
/// package that only looks written.
@Suite struct EvidenceFileWritesTests {
    @Test func theManifestIsWrittenWholeAndPrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custody-manifest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/manifest.json"
        let text = "{\"schema\":\"custody.production.v1\",\"files\":[" + String(repeating: "\"x\",", count: 20_000) + "\"y\"]}\n"
        try EvidencePackage.write(text, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        try EvidencePackage.syncDirectory(directory)
    }

    @Test func failuresNameThePath() {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("custody-none-\(UUID().uuidString)").path
        #expect(throws: DisclosureError.self) { try EvidencePackage.write("{}\n", to: missing + "/manifest.json") }
        #expect(throws: DisclosureError.self) { try EvidencePackage.syncDirectory(missing) }
    }
}
