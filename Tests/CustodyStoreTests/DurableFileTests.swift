import Foundation
import Testing

@testable import CustodyStore

/// `DurableFile`: how an evidence package's manifest and a vault group's files reach the disk.
/// Whole, private, flushed; a failure is an error naming the path, never a file that only looks
/// written.
@Suite struct DurableFileTests {
    @Test func aFileIsWrittenWholeAndPrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custody-durable-file-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/manifest.json"
        let text = "{\"schema\":\"custody.production.v1\",\"files\":[" + String(repeating: "\"x\",", count: 20_000) + "\"y\"]}\n"
        try DurableFile.write(Array(text.utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        // Written again shorter: replaced, not overlaid.
        try DurableFile.write(Array("{}\n".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{}\n")
        try DurableFile.flush(path: path)
        try DurableFile.flush(path: directory, directory: true)
    }

    @Test func failuresNameThePath() {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("custody-none-\(UUID().uuidString)").path
        for attempt in [
            { try DurableFile.write(Array("{}\n".utf8), to: missing + "/manifest.json") },
            { try DurableFile.flush(path: missing, directory: true) },
        ] {
            do {
                try attempt()
                Issue.record("no error for \(missing)")
            } catch let error as StoreError {
                #expect("\(error)".contains(missing))
            } catch {
                Issue.record("not a StoreError: \(error)")
            }
        }
    }
}
