import CustodyCore
import Foundation
import GRDB
import Testing

/// The sample logs are small files: a run stores them in one pack (`vault/packs/*.pack`).
/// `verify`, `request produce` and `purge` find tampering in a pack as in loose objects.
@Suite struct PackedVaultTests {
    /// The fixture's one pack and its entries (name, offset of the bytes, length), read with the
    /// documented layout: a 16-byte header, then per entry 80 bytes ("PENT", 4 zero bytes, the
    /// length as UInt64 little-endian, the name in hex) and the object's bytes.
    func pack(_ fixture: StateFixture) throws -> (path: String, entries: [(sha: String, offset: Int, length: Int)]) {
        let directory = fixture.state + "/vault/packs"
        let packs = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".pack") }
        try #require(packs.count == 1, "\(packs)")
        let path = directory + "/" + packs[0]
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(String(decoding: bytes[0..<8], as: UTF8.self) == "CSTDPACK")
        var entries: [(String, Int, Int)] = []
        var at = 16
        while at < bytes.count {
            #expect(String(decoding: bytes[at..<(at + 4)], as: UTF8.self) == "PENT")
            var length = 0
            for i in 0..<8 { length |= Int(bytes[at + 8 + i]) << (8 * i) }
            entries.append((String(decoding: bytes[(at + 16)..<(at + 80)], as: UTF8.self), at + 80, length))
            at += 80 + length
        }
        return (path, entries)
    }

    func verify(_ fixture: StateFixture) throws -> (status: Int32, rules: [(rule: String, message: String)]) {
        let verify = try fixture.custody("verify", ["--format", "json"])
        let json = try CustodyProcess.json(verify)
        let integrity = try #require(json["integrity"] as? [String: Any])
        let findings = (integrity["findings"] as? [[String: Any]] ?? []).map {
            (($0["rule"] as? String) ?? "", ($0["message"] as? String) ?? "")
        }
        return (verify.status, findings)
    }

    @Test func theSampleLogsArePackedAndVerifyClean() throws {
        let fixture = try StateFixture.withSampleLogs()
        let (_, entries) = try pack(fixture)
        let listed = try fixture.openState().read { db in try String.fetchAll(db, sql: "SELECT sha256 FROM vault_objects ORDER BY sha256") }
        #expect(entries.map(\.sha).sorted() == listed)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: fixture.state + "/vault"))?.sorted() == ["packs"])
        let (status, findings) = try verify(fixture)
        #expect(status == 1 && findings.isEmpty, "\(findings)")
    }

    @Test func aByteAlteredInsideAnEntryNamesThatObjectAndThePack() throws {
        let fixture = try StateFixture.withSampleLogs()
        let (path, entries) = try pack(fixture)
        let target = entries[1]
        #expect(chmod(path, 0o640) == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[target.offset + target.length / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let (status, findings) = try verify(fixture)
        #expect(status == 3)
        let altered = findings.filter { $0.rule == "vault.object_altered" }
        #expect(altered.count == 1, "\(findings)")
        #expect(altered.first?.message.contains(target.sha) == true)
        #expect(altered.first?.message.contains((path as NSString).lastPathComponent) == true, "\(altered)")
        #expect(!findings.contains { $0.rule == "vault.object_missing" })
    }

    @Test func aTruncatedPackMakesEveryObjectCutOffMissing() throws {
        let fixture = try StateFixture.withSampleLogs()
        let (path, entries) = try pack(fixture)
        #expect(chmod(path, 0o640) == 0)
        #expect(truncate(path, off_t(entries[2].offset + entries[2].length / 2)) == 0)
        let (status, findings) = try verify(fixture)
        #expect(status == 3)
        let missing = Set(findings.filter { $0.rule == "vault.object_missing" }.map(\.message))
        for entry in entries.dropFirst(2) { #expect(missing.contains { $0.contains(entry.sha) }, "\(entry.sha) not missing: \(findings)") }
        for entry in entries.prefix(2) { #expect(!findings.contains { $0.message.contains(entry.sha) }, "\(findings)") }
        // Deleted: every object missing.
        try FileManager.default.removeItem(atPath: path)
        let (_, after) = try verify(fixture)
        #expect(after.filter { $0.rule == "vault.object_missing" }.count == entries.count, "\(after)")
    }

    /// Bytes in `packs/` that no entry header describes (appended to a pack, or a file that is
    /// not a pack) cannot be enumerated: `verify` reports them as content the state does not list,
    /// never passes over them.
    @Test func bytesNoEntryDescribesAreReported() throws {
        let fixture = try StateFixture.withSampleLogs()
        let (path, _) = try pack(fixture)
        #expect(chmod(path, 0o640) == 0)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"ts\":\"2026-10-01T00:00:00Z\",\"user\":\"hidden\"}\n".utf8))
        try handle.close()
        try Data("planted".utf8).write(to: URL(fileURLWithPath: fixture.state + "/vault/packs/notes.txt"))
        let (status, findings) = try verify(fixture)
        #expect(status == 3)
        let orphans = findings.filter { $0.rule == "vault.orphan_object" }.map(\.message)
        #expect(orphans.contains { $0.contains((path as NSString).lastPathComponent) && $0.contains("damaged from byte") }, "\(findings)")
        #expect(orphans.contains { $0.contains("notes.txt") && $0.contains("not a pack") }, "\(findings)")
        #expect(!findings.contains { $0.rule == "vault.object_missing" || $0.rule == "vault.object_altered" }, "\(findings)")
    }

    /// A packed object whose row is deleted is an orphan, and `request produce` refuses to
    /// produce while it is there.
    @Test func aPackedEntryTheStateDoesNotListIsAnOrphan() throws {
        let fixture = try StateFixture.withSampleLogs()
        try fixture.addRequest()
        let (_, entries) = try pack(fixture)
        let orphan = entries[0].sha
        let queue = try fixture.insider()
        try queue.write { db in
            try db.execute(
                sql: "DELETE FROM daily_records WHERE segment_id IN (SELECT id FROM segments WHERE vault_object = ?)", arguments: [orphan])
            try db.execute(sql: "DELETE FROM segments WHERE vault_object = ?", arguments: [orphan])
            try db.execute(sql: "DELETE FROM vault_objects WHERE sha256 = ?", arguments: [orphan])
        }
        try queue.close()
        let (_, findings) = try verify(fixture)
        #expect(findings.contains { $0.rule == "vault.orphan_object" && $0.message.contains(orphan) }, "\(findings)")
        try #require(try fixture.sub(["request", "decide", StateFixture.requestID, "--all", "--produce", "--reason", "ok"]).status == 0)
        let produced = try fixture.sub(["request", "produce", StateFixture.requestID, "--out", fixture.package])
        #expect(produced.status != 0)
        #expect(produced.stderr.contains(orphan), "\(produced.stderr)")
    }

    /// `request produce` reads packed objects through a checked private copy: intact ones are
    /// produced, an altered one stops the production.
    @Test func requestProduceReadsPackedObjectsOnlyWhenIntact() throws {
        let fixture = try StateFixture.withSampleLogs()
        try fixture.addRequest()
        try #require(try fixture.sub(["request", "decide", StateFixture.requestID, "--all", "--produce", "--reason", "ok"]).status == 0)
        let produced = try fixture.sub(["request", "produce", StateFixture.requestID, "--out", fixture.package])
        #expect(produced.status == 0, "\(produced.stderr)")
        let records = try FileManager.default.contentsOfDirectory(atPath: fixture.package + "/records")
        #expect(!records.isEmpty)

        let (path, entries) = try pack(fixture)
        #expect(chmod(path, 0o640) == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for entry in entries { bytes[entry.offset + entry.length / 2] ^= 0x01 }
        try bytes.write(to: URL(fileURLWithPath: path))
        let again = try fixture.sub(["request", "produce", StateFixture.requestID, "--out", fixture.dir.path("package2")])
        #expect(again.status != 0)
        #expect(again.stderr.contains("does not match its SHA-256"), "\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.dir.path("package2/records")))
    }
}
