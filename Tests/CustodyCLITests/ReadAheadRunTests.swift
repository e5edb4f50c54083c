import Crypto
import CustodyIngest
import Foundation
import GRDB
import Testing

@testable import CustodyStore

/// `run` reads small files ahead of its commit loop and plans files a slice at a time while the
/// first are read: neither may lose, double or reorder what the state ends up holding.
@Suite struct ReadAheadRunTests {
    /// A small gzip log of `lines` JSON lines for one user.
    func writeLog(_ fixture: StateFixture, _ name: String, user: String, lines: Int = 3) throws {
        let text = (0..<lines).map { #"{"ts":"2026-10-0\#(1 + $0 % 9)T10:00:00+08:00","user":"\#(user)","event":"view"}"# + "\n" }
        try Data(GzipWriter.compress(Array(text.joined().utf8))).write(to: URL(fileURLWithPath: fixture.dir.path("logs/\(name)")))
    }

    func committedNames(_ fixture: StateFixture) throws -> [String] {
        try fixture.openState().read { db in try String.fetchAll(db, sql: "SELECT first_path FROM log_files ORDER BY first_path") }
            .map { ($0 as NSString).lastPathComponent }
    }

    /// The first file fails to be stored; every other file, already read ahead when it failed, is
    /// committed before the run stops (before, the files read after it were left unread).
    @Test func filesReadAheadOfAFailingOneAreCommitted() throws {
        let fixture = try StateFixture(extraConfig: "vault_pack_limit: 0")
        try FileManager.default.createDirectory(atPath: fixture.logs, withIntermediateDirectories: true)
        try writeLog(fixture, "a-first.log.gz", user: "first")
        let others = (0..<40).map { String(format: "b-%02d.log.gz", $0) }
        let hex = { (name: String) in
            SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: fixture.dir.path("logs/\(name)")))).map {
                String(format: "%02x", $0)
            }
            .joined()
        }
        let blocked = try String(hex("a-first.log.gz").prefix(2))
        var written: [String] = []
        for (i, name) in others.enumerated() {
            try writeLog(fixture, name, user: "u\(i)")
            if try !hex(name).hasPrefix(blocked) {
                written.append(name)
            } else {
                try FileManager.default.removeItem(atPath: fixture.dir.path("logs/\(name)"))
            }
        }
        // A plain file where the first file's shard directory must go: storing it fails.
        try FileManager.default.createDirectory(atPath: fixture.state + "/vault", withIntermediateDirectories: true)
        try fixture.dir.write("state/vault/\(blocked)", "not a directory\n")

        let failed = try fixture.custody("run", ["--jobs", "2", "--quiet"], asOf: "2026-11-05")
        #expect(failed.status != 0 && failed.status != 1, "\(failed.stderr)")
        #expect(try committedNames(fixture) == written)

        try FileManager.default.removeItem(atPath: fixture.state + "/vault/\(blocked)")
        let again = try fixture.custody("run", ["--quiet"], asOf: "2026-11-05")
        #expect(again.status == 0 || again.status == 1, "\(again.stderr)")
        #expect(try committedNames(fixture) == ["a-first.log.gz"] + written)
        #expect(try fixture.totalRecords() == 3 * (written.count + 1))
    }

    /// A group's commit runs beside the reads (on a thread of its own): when it fails, the run
    /// stops with its error and the group leaves nothing behind; the next run commits it whole.
    @Test func aFailingCommitStopsTheRunAndLeavesItsGroupForTheNext() throws {
        let fixture = try StateFixture()
        try writeLog(fixture, "a-first.log.gz", user: "first")
        let first = try fixture.custody("run", ["--quiet"], asOf: "2026-11-05")
        #expect(first.status == 0 || first.status == 1, "\(first.stderr)")
        let state = try fixture.openState()
        try state.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse_mallory BEFORE INSERT ON users WHEN NEW.user = 'mallory'
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """)
        }
        let others = (0..<20).map { String(format: "b-%02d.log.gz", $0) }
        for (i, name) in others.enumerated() { try writeLog(fixture, name, user: i == 13 ? "mallory" : "u\(i)") }

        let failed = try fixture.custody("run", ["--jobs", "2", "--quiet"], asOf: "2026-11-05")
        #expect(failed.status != 0 && failed.status != 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("refused by the test"), "\(failed.stderr)")
        #expect(try committedNames(fixture) == ["a-first.log.gz"])

        try state.write { db in try db.execute(sql: "DROP TRIGGER refuse_mallory") }
        let again = try fixture.custody("run", ["--quiet"], asOf: "2026-11-05")
        #expect(again.status == 0 || again.status == 1, "\(again.stderr)")
        #expect(try committedNames(fixture) == ["a-first.log.gz"] + others)
        #expect(try fixture.totalRecords() == 3 * (others.count + 1))
    }

    /// More files than one planning slice (`IngestionRun.planSlice`): the later slices are planned
    /// while the first is read; every file is committed once, a copy in a later slice of a file
    /// in the first is read once, and a second run adds nothing.
    @Test func filesPlannedInSlicesAreEachCommittedOnce() throws {
        let fixture = try StateFixture()
        try FileManager.default.createDirectory(atPath: fixture.logs, withIntermediateDirectories: true)
        let count = IngestionRun.planSlice + 300
        for i in 0..<count { try writeLog(fixture, String(format: "app-%05d.log.gz", i), user: "u\(i)", lines: 2) }
        try FileManager.default.copyItem(atPath: fixture.dir.path("logs/app-00007.log.gz"), toPath: fixture.dir.path("logs/zz-copy.log.gz"))

        // Quiet: thousands of log lines would fill the pipe the test reads only at the end.
        let run = try fixture.custody("run", ["--jobs", "2", "--quiet"], asOf: "2026-11-05")
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let names = try committedNames(fixture)
        #expect(names.count == count)
        #expect(!names.contains("zz-copy.log.gz"), "a copy of a file planned in an earlier slice is read once")
        #expect(try fixture.totalRecords() == 2 * count)

        let again = try fixture.custody("run", ["--quiet"], asOf: "2026-11-05")
        #expect(again.status == 0 || again.status == 1, "\(again.stderr)")
        let read = try fixture.openState().read { db in try Int.fetchAll(db, sql: "SELECT files_read FROM runs ORDER BY id") }
        // The second run adds nothing (the copy, under a name the state has not recorded, is
        // matched to its original and may be looked at again, with nothing new in it).
        #expect(read.first == count && read.count == 2 && read[1] <= 1, "\(read)")
        #expect(try fixture.totalRecords() == 2 * count)
    }
}
