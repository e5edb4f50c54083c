import Crypto
import CustodyCore
import CustodyIngest
import Foundation
import Logging
import Testing

@testable import CustodyStore

/// `run` reads a small file once (`WholeFile`): what it plans, audits and stores are the same
/// bytes, whatever happens to the file after it was planned.
@Suite struct ReadOnceTests {
    final class Fixture {
        let dir: URL
        let database: StateDatabase
        let vault: Vault
        let policy: Policy

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-readonce-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("logs"), withIntermediateDirectories: true)
            database = try StateDatabase(directory: dir.path + "/state")
            vault = try Vault(directory: dir.path + "/state/vault")
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            policy = try PolicyLoader.load(path: root.appendingPathComponent("Policies/cn-apps.yaml").path)
        }

        deinit { try? FileManager.default.removeItem(at: dir) }

        /// A gzip log of `lines` JSON lines for `user`; returns its path.
        @discardableResult
        func log(_ name: String, user: String, lines: Int = 5) throws -> String {
            let text = (0..<lines).map { #"{"ts":"2026-10-0\#(1 + $0 % 9)T10:00:00+08:00","user":"\#(user)","event":"view"}"# + "\n" }
            let path = dir.appendingPathComponent("logs/" + name).path
            try Data(GzipWriter.compress(Array(text.joined().utf8))).write(to: URL(fileURLWithPath: path))
            return path
        }

        func plan(_ paths: [String], jobs: Int = 1, budget: Int = WholeFile.budget) throws -> [IngestionPlan] {
            try IngestionRun.plan(
                paths.map { SourceExpander.Input(path: $0, format: .jsonl) }, database: database,
                logger: Logger(label: "test"), jobs: jobs, wholeFileBudget: budget)
        }
    }

    @Test func aWholeFileIsItsBytesAndTheStatOfWhatWasRead() throws {
        let fixture = try Fixture()
        let path = try fixture.log("a.log.gz", user: "alice")
        let whole = try #require(try WholeFile.read(path: path))
        #expect(whole.contents == Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(whole.status == FileIdentity.status(path: path))
        #expect(try WholeFile.read(path: path, limit: whole.contents.count - 1) == nil, "larger than the limit: read from its path")
        #expect(try WholeFile.read(path: path, limit: whole.contents.count) != nil)
    }

    /// A small file is read with one `read`: its end is seen from the short count, without a
    /// second call returning 0. A file that grew since its `fstat` fills the byte asked beyond
    /// its size, and is not read whole; one whose reads come in pieces is read to its size.
    @Test func aWholeFileIsReadInOneCallAndGrowthIsStillSeen() throws {
        let fixture = try Fixture()
        let path = try fixture.log("a.log.gz", user: "alice")
        let size = try #require(try WholeFile.read(path: path)).contents.count
        var calls = 0
        let counted: (Int32, UnsafeMutableRawPointer, Int) -> Int = { fd, buffer, count in
            calls += 1
            return Foundation.read(fd, buffer, count)
        }
        let once = try #require(try WholeFile.read(path: path, readBytes: counted))
        #expect(once.contents.count == size)
        #expect(calls == 1)

        // Grown after the `fstat`: the read fills the extra byte asked for.
        let grown: (Int32, UnsafeMutableRawPointer, Int) -> Int = { _, buffer, count in
            memset(buffer, 0x41, count)
            return count
        }
        #expect(try WholeFile.read(path: path, readBytes: grown) == nil)

        // In pieces of 7 bytes: read on until the end, the same bytes.
        var pieces = 0
        let inPieces: (Int32, UnsafeMutableRawPointer, Int) -> Int = { fd, buffer, count in
            pieces += 1
            return Foundation.read(fd, buffer, min(count, 7))
        }
        let pieced = try #require(try WholeFile.read(path: path, readBytes: inPieces))
        #expect(pieced.contents == once.contents)
        #expect(pieces > 1)
    }

    /// A read that fails part-way (EIO on a failing disk) does not drop the file: it is not read
    /// whole, and the run reads it from its path, where the fault is recorded with its offset.
    @Test func aFailingReadLeavesTheFileToBeReadFromItsPath() throws {
        let fixture = try Fixture()
        let path = try fixture.log("a.log.gz", user: "alice")
        var calls = 0
        let failing: (Int32, UnsafeMutableRawPointer, Int) -> Int = { fd, buffer, count in
            calls += 1
            if calls == 1 { return Foundation.read(fd, buffer, min(count, 10)) }
            errno = EIO
            return -1
        }
        #expect(try WholeFile.read(path: path, readBytes: failing) == nil)
        #expect(calls == 2)
    }

    /// `copytruncate` between two slices of planning: `app.log` is planned whole (X), then copied
    /// to `app.log.1` and rewritten (Z) before the copy is planned. The copy continues the bytes
    /// that will be ingested (X), so it is read once; judged by what `app.log` holds by then (Z),
    /// X would have been planned, and counted, twice.
    @Test func aCopyIsJudgedByThePlannedBytesNotByWhatThePathHoldsLater() throws {
        let fixture = try Fixture()
        let original = try fixture.log("app.log.gz", user: "alice", lines: 8)
        var planner = try RunPlanner(database: fixture.database, jobs: 1)
        let logger = Logger(label: "test")
        let first = planner.plan([SourceExpander.Input(path: original, format: .jsonl)][...], logger: logger)
        #expect(first.count == 1)
        #expect(first.first?.contents != nil)
        let copy = fixture.dir.appendingPathComponent("logs/app.log.1.gz").path
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        try fixture.log("app.log.gz", user: "bob", lines: 3)
        let second = planner.plan([SourceExpander.Input(path: copy, format: .jsonl)][...], logger: logger)
        #expect(second.isEmpty, "the copy of the planned bytes is planned again")
    }

    @Test func aFIFOIsNotReadAndDoesNotHang() throws {
        let fixture = try Fixture()
        let fifo = fixture.dir.appendingPathComponent("logs/pipe.log").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: ReadFault.self) { _ = try WholeFile.read(path: fifo) }
    }

    /// The old run opened the file again to audit it and again to copy it: a file replaced after
    /// planning was audited as the new content (or refused as changed while read). Now the
    /// planned bytes are audited, hashed and stored.
    @Test func aFileChangedAfterPlanningIsAuditedAndStoredAsPlanned() throws {
        let fixture = try Fixture()
        let path = try fixture.log("a.log.gz", user: "alice", lines: 7)
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let plan = try #require(try fixture.plan([path]).first)
        #expect(plan.contents == original)
        #expect(plan.identity.size == Int64(original.count))

        try fixture.log("a.log.gz", user: "mallory", lines: 40)
        let part = try Ingestion.read(plan, policy: fixture.policy, vault: fixture.vault, durable: false)
        #expect(part.audit.records == 7)
        #expect(part.audit.users.map(\.user) == ["alice"])
        let object = try #require(part.object)
        #expect(object.sha256 == SHA256.hash(data: original).hex)
        #expect(object.packBytes == original)
        #expect(object.storedSize == original.count)
    }

    /// Without packs (`vault_pack_limit: 0`) the planned bytes are written as a loose object.
    @Test func withoutPacksThePlannedBytesAreTheLooseObject() throws {
        let fixture = try Fixture()
        var vault = fixture.vault
        vault.packLimit = 0
        let path = try fixture.log("a.log.gz", user: "alice")
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let plan = try #require(try fixture.plan([path]).first)
        try fixture.log("a.log.gz", user: "mallory", lines: 30)
        let part = try Ingestion.read(plan, policy: fixture.policy, vault: vault, durable: true)
        let object = try #require(part.object)
        #expect(object.packBytes == nil)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: vault.path(of: object.sha256)))) == original)
        #expect(vault.check(object.sha256) == .intact)
    }

    /// Identities read on several threads, or with whole files past the budget read from their
    /// paths, give the same plans in the same order; a copy of a file is still planned once.
    @Test func plansDoNotDependOnThreadsOrTheBudget() throws {
        let fixture = try Fixture()
        var paths = try (0..<300).map { try fixture.log(String(format: "app-%03d.log.gz", $0), user: "u\($0)") }
        let copy = fixture.dir.appendingPathComponent("logs/app-150-copy.log.gz").path
        try FileManager.default.copyItem(atPath: paths[150], toPath: copy)
        paths.append(copy)
        paths.sort()
        let serial = try fixture.plan(paths, jobs: 1)
        #expect(serial.count == 300, "the copy is read once")
        #expect(serial.allSatisfy { $0.contents != nil })
        let parallel = try fixture.plan(paths, jobs: 4)
        let small = try fixture.plan(paths, jobs: 4, budget: 10_000)
        for plans in [parallel, small] {
            #expect(plans.map(\.path) == serial.map(\.path))
            #expect(plans.map(\.identity.fingerprint) == serial.map(\.identity.fingerprint))
            #expect(plans.map(\.identity.size) == serial.map(\.identity.size))
        }
        #expect(parallel.map(\.contents) == serial.map(\.contents))
        let kept = small.filter { $0.contents != nil }
        #expect(!kept.isEmpty && kept.count < small.count, "whole files only within the budget")
        #expect(kept.reduce(0) { $0 + $1.contents!.count } <= 10_000)
    }
}
