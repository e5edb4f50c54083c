import Foundation
import Testing

@testable import CustodyStore

/// Where a run looks for a loose copy of an object it stores: only in shard directories that
/// existed when the vault was opened or that it stored a loose object in since.
@Suite struct LooseShardsTests {
    func temporaryVault() throws -> (vault: Vault, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-shards-\(UUID().uuidString)")
        return (try Vault(directory: dir.path + "/vault"), dir)
    }

    func store(_ text: String, in vault: Vault, pack: Bool) throws -> VaultObjectWriter.Committed {
        let writer = try vault.beginObject(durable: !pack, pack: pack)
        try Array(text.utf8).withUnsafeBytes { try writer.append($0) }
        return try writer.commit()
    }

    @Test func aFreshVaultHasNoShardToLookIn() throws {
        let (vault, dir) = try temporaryVault()
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = String(repeating: "ab", count: 32)
        #expect(!vault.shards.mayHold(name))
        #expect(vault.looseStoredSize(of: name) == nil)
        // Names that are not lowercase hex are always looked for.
        #expect(vault.shards.mayHold("ZZ" + name.dropFirst(2)))
        #expect(vault.shards.mayHold(""))
    }

    @Test func aLooseObjectStoredSinceIsFoundAndNotPackedAgain() throws {
        let (vault, dir) = try temporaryVault()
        defer { try? FileManager.default.removeItem(at: dir) }
        let loose = try store("loose content\n", in: vault, pack: false)
        #expect(vault.shards.mayHold(loose.sha256))
        let again = try store("loose content\n", in: vault, pack: true)
        #expect(again.sha256 == loose.sha256)
        #expect(again.packBytes == nil)
    }

    @Test func aLooseObjectThereBeforeTheVaultWasOpenedIsFound() throws {
        let (vault, dir) = try temporaryVault()
        defer { try? FileManager.default.removeItem(at: dir) }
        let loose = try store("stored by an earlier run\n", in: vault, pack: false)
        let reopened = try Vault(directory: vault.directory)
        #expect(reopened.shards.mayHold(loose.sha256))
        let again = try store("stored by an earlier run\n", in: reopened, pack: true)
        #expect(again.packBytes == nil)
        #expect(again.storedSize == loose.storedSize)
        // A damaged loose copy found there is not trusted: the content is packed anew.
        let path = reopened.path(of: loose.sha256)
        chmod(path, 0o644)
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: path))
        let third = try store("stored by an earlier run\n", in: try Vault(directory: vault.directory), pack: true)
        #expect(third.packBytes != nil)
    }

    @Test func aVaultThatCannotBeListedLooksEverywhere() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-shards-\(UUID().uuidString)")
        let vault = try Vault(directory: dir.path + "/missing", create: false)
        #expect(vault.shards.mayHold(String(repeating: "0", count: 64)))
    }
}
