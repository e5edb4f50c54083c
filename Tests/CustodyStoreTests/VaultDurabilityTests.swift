import CustodyIngest
import CustodyTesting
import Foundation
import Testing

@testable import CustodyStore

/// Vault objects written without waiting on the disk, made durable by group; adopted copies on a
/// bounded pool, never a thread per file.
@Suite struct VaultDurabilityTests {
    func temporaryVault() throws -> (Vault, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-vault-\(UUID().uuidString)")
        return (try Vault(directory: dir.path + "/vault"), dir)
    }

    func writeGzip(_ text: String, to path: String) throws {
        let writer = try GzipWriter(path: path)
        try writer.write(text)
        try writer.close()
    }

    @Test func objectsCommittedWithoutSyncAreInPlaceAndSyncBothWays() throws {
        let (vault, dir) = try temporaryVault()
        defer { try? FileManager.default.removeItem(at: dir) }
        var names: [String] = []
        for i in 0..<20 {
            let source = dir.path + "/log-\(i).gz"
            try writeGzip("line \(i)\n", to: source)
            // Half copied by the caller, half on the pool.
            let writer = try vault.beginObject(adoptingGzip: source, copyInline: i % 2 == 0, durable: false)
            names.append(try writer.commit().sha256)
        }
        let plain = try vault.beginObject(durable: false)
        try Array("compressed here\n".utf8).withUnsafeBytes { try plain.append($0) }
        names.append(try plain.commit().sha256)
        for name in names { #expect(vault.check(name) == .intact) }
        #expect(Set(vault.storedObjects()) == Set(names))
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.directory).filter { $0.hasPrefix(".incoming") }.isEmpty)
        try VaultSync(vault: vault).sync(objects: names)
        try VaultSync(vault: vault, useSyncfs: false).sync(objects: names)
    }

    /// An object left empty or cut short under its name (renamed into place, then power lost
    /// before the group's flush) is not trusted when the same content comes again: it is
    /// replaced by the bytes just written, for both kinds of object.
    @Test(arguments: [true, false])
    func aDamagedObjectOfTheSameNameIsReplaced(adopted: Bool) throws {
        let (vault, dir) = try temporaryVault()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.path + "/log.gz"
        try writeGzip((0..<200).map { "line \($0)\n" }.joined(), to: source)
        func store() throws -> VaultObjectWriter.Committed {
            if adopted { return try vault.beginObject(adoptingGzip: source, durable: false).commit() }
            let writer = try vault.beginObject(durable: false)
            try Array("compressed here\n".utf8).withUnsafeBytes { try writer.append($0) }
            return try writer.commit()
        }
        let first = try store()
        let path = vault.path(of: first.sha256)
        for damage in [0, first.storedSize / 2] {
            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
            #expect(truncate(path, off_t(damage)) == 0)
            #expect(vault.check(first.sha256) != .intact)
            let again = try store()
            #expect(again.sha256 == first.sha256)
            #expect(again.storedSize == first.storedSize)
            #expect(vault.check(first.sha256) == .intact, "cut to \(damage) bytes and kept")
        }
    }

    /// Where each object is fsynced, one that is not there fails the group (fail closed).
    @Test func fsyncPathFailsOnAnObjectThatIsNotInTheVault() throws {
        let (vault, dir) = try temporaryVault()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = String(repeating: "ab", count: 32)
        #expect(throws: StoreError.self) { try VaultSync(vault: vault, useSyncfs: false).sync(objects: [missing]) }
    }

    @Test func copyPoolRunsEverythingOnAtMostItsThreads() throws {
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var threads = Set<ObjectIdentifier>()
            var ran = 0
        }
        let pool = WorkerPool(threads: 2)
        let seen = Seen()
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<200 {
            pool.submit {
                Thread.sleep(forTimeInterval: 0.0005)
                seen.lock.lock()
                seen.threads.insert(ObjectIdentifier(Thread.current))
                seen.ran += 1
                seen.lock.unlock()
                done.signal()
            }
        }
        for _ in 0..<200 { done.wait() }
        seen.lock.lock()
        defer { seen.lock.unlock() }
        #expect(seen.ran == 200)
        #expect(seen.threads.count <= 2)
    }
}
