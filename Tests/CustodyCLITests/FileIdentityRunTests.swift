import CustodyCore
import CustodyTesting
import Foundation
import Testing

/// Two different files that start with the same 8,000 bytes (a common banner) are two files to
/// `custody run`: a fingerprint match is only a candidate, confirmed before a file counts as
/// seen. Copies and rotations of one file stay one file (`LogrotateTests`, and below).
@Suite struct FileIdentityRunTests {
    /// Lines shared by both files (≥ 8,000 bytes), then lines of each file's own.
    static func files() -> (head: String, tailA: String, tailB: String, headLines: Int, tailLines: Int) {
        let events = StateFixture.events(days: 6, users: 20, perDay: 60, seed: 9)
        let lines = StateFixture.lines(events).split(separator: "\n").map { $0 + "\n" }
        var headCount = 0
        var headBytes = 0
        while headBytes < 8_000 {
            headBytes += lines[headCount].utf8.count
            headCount += 1
        }
        let tail = 40
        return (
            lines[0..<headCount].joined(), lines[headCount..<(headCount + tail)].joined(),
            lines[(headCount + tail)..<(headCount + 2 * tail)].joined(), headCount, tail
        )
    }

    @Test func sameHeadDifferentTailsInOneRunAreTwoFiles() throws {
        let fixture = try StateFixture()
        let f = Self.files()
        try fixture.append(f.head + f.tailA, to: "a.log")
        try fixture.append(f.head + f.tailB, to: "b.log")
        let run = try fixture.custody("run")
        #expect(run.status <= 1, "\(run.stderr)")
        #expect(try fixture.totalRecords() == 2 * (f.headLines + f.tailLines))
        let before = try fixture.digest()
        _ = try fixture.custody("run")
        #expect(try fixture.digest() == before)
    }

    @Test func sameHeadDifferentTailsInTwoRunsAreTwoFiles() throws {
        let fixture = try StateFixture()
        let f = Self.files()
        try fixture.append(f.head + f.tailA, to: "a.log")
        _ = try fixture.custody("run")
        #expect(try fixture.totalRecords() == f.headLines + f.tailLines)
        // The second file, compressed, beside the first; then the first is gone.
        let gz = try GzipWriter(path: fixture.dir.path("logs/b.log.gz"))
        try gz.write(f.head + f.tailB)
        try gz.close()
        let run = try fixture.custody("run")
        #expect(run.status <= 1, "\(run.stderr)")
        #expect(try fixture.totalRecords() == 2 * (f.headLines + f.tailLines))
        try FileManager.default.removeItem(atPath: fixture.dir.path("logs/a.log"))
        _ = try fixture.custody("run")
        #expect(try fixture.totalRecords() == 2 * (f.headLines + f.tailLines))
    }

    /// A compressed copy of a file already read (same content, new inode) is still that file;
    /// lines added to the copy's original since are read once.
    @Test func compressedCopyOfAFileReadBeforeIsThatFile() throws {
        let fixture = try StateFixture()
        let f = Self.files()
        try fixture.append(f.head + f.tailA, to: "app.log")
        _ = try fixture.custody("run")
        let gz = try GzipWriter(path: fixture.dir.path("logs/app.log.1.gz"))
        try gz.write(f.head + f.tailA + f.tailB)
        try gz.close()
        try FileManager.default.removeItem(atPath: fixture.dir.path("logs/app.log"))
        let run = try fixture.custody("run")
        #expect(run.status <= 1, "\(run.stderr)")
        #expect(try fixture.totalRecords() == f.headLines + 2 * f.tailLines)
    }
}
