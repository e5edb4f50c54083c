import Crypto
import CustodyIngest
import Foundation
import Testing

@testable import CustodyStore

/// Small objects in packs: one file per commit group, self-describing, and every vault
/// operation working on them as on loose objects, with their bytes checked when used.
@Suite struct VaultPackTests {
    struct Packed {
        let vault: Vault
        let dir: URL
        /// Object names, in the order written.
        let names: [String]
        /// Each object's uncompressed content.
        let contents: [String: String]
        let pack: String
    }

    /// A pack of `count` objects: even ones adopted gzip files, odd ones compressed here.
    func packed(_ count: Int = 4) throws -> Packed {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-pack-\(UUID().uuidString)")
        let vault = try Vault(directory: dir.path + "/vault")
        var objects: [(sha256: String, bytes: [UInt8])] = []
        var contents: [String: String] = [:]
        for i in 0..<count {
            let text = (0..<(50 + i)).map { "object \(i) line \($0)\n" }.joined()
            let committed: VaultObjectWriter.Committed
            if i % 2 == 0 {
                let source = dir.path + "/log-\(i).gz"
                let gzip = try GzipWriter(path: source)
                try gzip.write(text)
                try gzip.close()
                committed = try vault.beginObject(adoptingGzip: source, copyInline: true, durable: false, pack: true).commit()
            } else {
                let writer = try vault.beginObject(durable: false, pack: true)
                try Array(text.utf8).withUnsafeBytes { try writer.append($0) }
                committed = try writer.commit()
            }
            let bytes = try #require(committed.packBytes, "object \(i) was not kept for the pack")
            #expect(committed.storedSize == bytes.count)
            objects.append((committed.sha256, bytes))
            contents[committed.sha256] = text
        }
        // Nothing was written yet: no loose object, no incoming file.
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.directory).isEmpty)
        let pack = try #require(try vault.writePack(objects))
        try VaultSync(vault: vault, useSyncfs: false).sync(objects: [], packs: [pack])
        return Packed(vault: vault, dir: dir, names: objects.map(\.sha256), contents: contents, pack: pack)
    }

    func content(_ vault: Vault, _ sha: String) throws -> String {
        var bytes: [UInt8] = []
        try vault.read(sha) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    func flip(_ path: String, at offset: Int) throws {
        #expect(chmod(path, 0o640) == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    @Test func writeReadEnumerateRoundTrip() throws {
        let p = try packed()
        defer { try? FileManager.default.removeItem(at: p.dir) }
        // A fresh vault value knows the packed objects from the pack alone.
        let reopened = try Vault(directory: p.vault.directory, create: false)
        #expect(reopened.storedObjects() == p.names.sorted())
        let scan = try PackFile.scan(path: p.pack)
        #expect(scan.entries.map(\.sha256) == p.names)
        #expect(scan.entries.allSatisfy { $0.complete })
        #expect(scan.unreadableFrom == nil)
        #expect((try FileManager.default.attributesOfItem(atPath: p.pack)[.posixPermissions] as? Int) == 0o440)
        for name in p.names {
            #expect(reopened.contains(name))
            #expect(reopened.check(name) == .intact)
            #expect(try content(reopened, name) == p.contents[name])
            let copy = p.dir.path + "/copy"
            #expect(reopened.verifiedCopy(name, to: copy) == .intact)
            let (integrity, text) = reopened.withVerifiedObject(name) { path in
                try? String(decoding: Array(DecodedContent.read(path)), as: UTF8.self)
            }
            #expect(integrity == .intact)
            #expect(text == p.contents[name])
        }
        #expect(reopened.location(of: p.names[0]).hasPrefix(p.pack))
    }

    /// A run does not read the packs to find content already stored (that would read every
    /// pack's entry headers on every run): packed content comes back for the new group's pack,
    /// and a second copy is harmless. An intact loose copy is still reused.
    @Test func packedContentIsPackedAgainAndLooseContentReused() throws {
        let p = try packed(2)
        defer { try? FileManager.default.removeItem(at: p.dir) }
        let fresh = try Vault(directory: p.vault.directory)
        let writer = try fresh.beginObject(durable: false, pack: true)
        try Array(try #require(p.contents[p.names[1]]).utf8).withUnsafeBytes { try writer.append($0) }
        let again = try writer.commit()
        #expect(again.sha256 == p.names[1])
        #expect(again.packBytes != nil)
        let againBytes = try #require(again.packBytes)
        let second = try #require(try fresh.writePack([(again.sha256, againBytes)]))
        #expect(fresh.check(p.names[1]) == .intact)
        #expect(fresh.packs.locations(of: p.names[1]).map(\.pack).contains(second))

        // The same name twice in one group is written once.
        let bytes = try #require(p.vault.packs.bytes(at: p.vault.packs.locations(of: p.names[0])[0]))
        let third = try #require(try p.vault.writePack([(p.names[0], bytes), (p.names[0], bytes)]))
        #expect(try PackFile.scan(path: third).entries.count == 1)

        // A loose object of that content, intact, is reused: nothing to pack.
        let loose = try fresh.beginObject(durable: true, pack: false)
        try Array("loose content\n".utf8).withUnsafeBytes { try loose.append($0) }
        let stored = try loose.commit()
        let packing = try fresh.beginObject(durable: false, pack: true)
        try Array("loose content\n".utf8).withUnsafeBytes { try packing.append($0) }
        let reused = try packing.commit()
        #expect(reused.sha256 == stored.sha256)
        #expect(reused.packBytes == nil)
    }

    @Test func aFlippedByteAltersThatObjectOnly() throws {
        let p = try packed()
        defer { try? FileManager.default.removeItem(at: p.dir) }
        let entries = try PackFile.scan(path: p.pack).entries
        try flip(p.pack, at: entries[2].offset + entries[2].length / 2)
        let vault = try Vault(directory: p.vault.directory, create: false)
        for (i, name) in p.names.enumerated() {
            if i == 2 {
                guard case .altered(let why) = vault.check(name) else {
                    Issue.record("object 2 not found altered")
                    continue
                }
                #expect(why.contains(p.pack))
                guard case .altered = vault.verifiedCopy(name, to: p.dir.path + "/copy") else {
                    Issue.record("the copy of object 2 passed")
                    continue
                }
                #expect(vault.withVerifiedObject(name) { _ in true }.value == nil)
                #expect(throws: (any Error).self) { try content(vault, name) }
            } else {
                #expect(vault.check(name) == .intact)
            }
        }
    }

    @Test func aTruncatedPackLosesTheObjectsCutOff() throws {
        let p = try packed()
        defer { try? FileManager.default.removeItem(at: p.dir) }
        let entries = try PackFile.scan(path: p.pack).entries
        #expect(chmod(p.pack, 0o640) == 0)
        #expect(truncate(p.pack, off_t(entries[1].offset + 10)) == 0)
        let vault = try Vault(directory: p.vault.directory, create: false)
        #expect(vault.check(p.names[0]) == .intact)
        for name in p.names.dropFirst() {
            #expect(vault.check(name) == .missing)
            #expect(vault.verifiedCopy(name, to: p.dir.path + "/copy") == .missing)
        }
        // The cut entry is not listed as stored: it holds no whole object.
        #expect(vault.storedObjects() == [p.names[0]])
        // A deleted pack: all of them missing.
        try FileManager.default.removeItem(atPath: p.pack)
        let emptied = try Vault(directory: p.vault.directory, create: false)
        for name in p.names { #expect(emptied.check(name) == .missing) }
        #expect(emptied.storedObjects().isEmpty)
    }

    /// Purge of one packed object rewrites its pack without it, renamed over the old pack (a crash
    /// never leaves both): its bytes and its name are gone from the disk, the other objects stay
    /// readable and intact.
    @Test func removingAPackedObjectRewritesThePackWithoutIt() throws {
        let p = try packed()
        defer { try? FileManager.default.removeItem(at: p.dir) }
        let gone = p.names[1]
        let goneBytes = try #require(p.vault.packs.bytes(at: p.vault.packs.locations(of: gone)[0]))
        try p.vault.remove(gone)
        let packs = PackStore.packFiles(in: p.vault.directory + "/packs")
        #expect(packs == [p.pack])
        let rewritten = try Data(contentsOf: URL(fileURLWithPath: packs[0]))
        #expect(rewritten.range(of: Data(goneBytes)) == nil)
        #expect(rewritten.range(of: Data(gone.utf8)) == nil)
        let vault = try Vault(directory: p.vault.directory, create: false)
        #expect(vault.check(gone) == .missing)
        #expect(!vault.contains(gone))
        for name in p.names where name != gone {
            #expect(vault.check(name) == .intact)
            #expect(try content(vault, name) == p.contents[name])
        }
        #expect(vault.storedObjects() == p.names.filter { $0 != gone }.sorted())
        // Removing every object leaves no pack.
        try vault.remove(Set(p.names))
        #expect(PackStore.packFiles(in: p.vault.directory + "/packs").isEmpty)
    }

    /// Object names are lower-case hex SHA-256 (the FIPS 180-2 vector for "abc").
    @Test func digestHexIsLowerCaseHex() {
        #expect(SHA256.hash(data: Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(data: [UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// A pack left half-written by a killed run is removed like a half-written object.
    @Test func incomingPacksAreRemoved() throws {
        let p = try packed(1)
        defer { try? FileManager.default.removeItem(at: p.dir) }
        let incoming = p.vault.directory + "/packs/.incoming-x.pack"
        #expect(FileManager.default.createFile(atPath: incoming, contents: Data("CSTDPACK".utf8)))
        p.vault.removeIncomplete()
        #expect(!FileManager.default.fileExists(atPath: incoming))
        #expect(FileManager.default.fileExists(atPath: p.pack))
    }

    /// Objects larger than the limit stay loose files, as do all with a limit of 0.
    @Test func largeObjectsStayLoose() throws {
        let p = try packed(1)
        defer { try? FileManager.default.removeItem(at: p.dir) }
        var vault = p.vault
        vault.packLimit = 64
        let writer = try vault.beginObject(durable: false, pack: true)
        try Array(String(repeating: "more than sixty-four bytes of content\n", count: 4).utf8).withUnsafeBytes { try writer.append($0) }
        let committed = try writer.commit()
        #expect(committed.packBytes == nil)
        #expect(FileManager.default.fileExists(atPath: vault.path(of: committed.sha256)))
        #expect(vault.check(committed.sha256) == .intact)
        #expect(Set(vault.storedObjects()) == Set(p.names + [committed.sha256]))
    }

    /// Purge refuses when a pack is damaged past an entry (bytes no entry header describes may
    /// hide a copy of the object): it must not say the bytes are gone.
    @Test func removingFailsWhenAPackIsDamaged() throws {
        let p = try packed()
        defer { try? FileManager.default.removeItem(at: p.dir) }
        chmod(p.pack, 0o600)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: p.pack))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("not an entry header, and maybe a hidden copy".utf8))
        try handle.close()
        let vault = try Vault(directory: p.vault.directory, create: false)
        #expect(throws: StoreError.self) { try vault.remove(p.names[0]) }
        #expect(vault.check(p.names[0]) == .intact)
    }
}

/// Reads a whole (gzip or plain) file's decoded content, for tests.
enum DecodedContent {
    static func read(_ path: String) throws -> [UInt8] {
        let source = try DecodedSources.open(path: path)
        var out: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = source.read(into: buffer)
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }
}

/// `vault_pack_limit` is bounded: each file being read may hold that much in memory.
@Suite struct VaultPackLimitConfigurationTests {
    func parse(_ value: String) throws -> CustodyConfiguration {
        try CustodyConfiguration.parse(
            "sources: [{path: /var/log/app}]\nstate_directory: /var/lib/custody\npolicy: /etc/custody/cn-apps.yaml\nvault_pack_limit: \(value)\n",
            file: "custody.yaml")
    }

    @Test func theLimitIsReadAndBounded() throws {
        #expect(try parse("0").vaultPackLimit == 0)
        #expect(try parse("16777216").vaultPackLimit == 16 << 20)
        #expect(throws: (any Error).self) { try parse("16777217") }
        #expect(throws: (any Error).self) { try parse("-1") }
    }
}
