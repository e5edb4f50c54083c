import CustodyIngest
import Foundation
import Testing

@Suite("InputCollector")
struct InputCollectorTests {
    @Test func walksRecursivelySkipsHiddenAndSorts() throws {
        let dir = try TemporaryDirectory()
        try dir.write("b.log", "x")
        try dir.write("a/z.log", "x")
        try dir.write("a/deep/er/y.log.gz", "x")
        try dir.write(".hidden.log", "x")
        try dir.write(".git/objects/o", "x")
        try dir.write("a/.cache/c.log", "x")
        let files = try InputCollector.collect([dir.path])
        #expect(files == [dir.path("a/deep/er/y.log.gz"), dir.path("a/z.log"), dir.path("b.log")])
    }

    @Test func explicitPathsAreReadEvenIfHiddenAndDeduplicated() throws {
        let dir = try TemporaryDirectory()
        let hidden = try dir.write(".secret.log", "x")
        let plain = try dir.write("p.log", "x")
        let files = try InputCollector.collect([plain, hidden, dir.path, plain])
        #expect(files == [hidden, plain].sorted())
    }

    @Test func resultDoesNotDependOnArgumentOrder() throws {
        let dir = try TemporaryDirectory()
        let paths = try (0..<6).map { try dir.write("f\($0).log", "x") }
        let forward = try InputCollector.collect(paths)
        #expect(try InputCollector.collect(paths.reversed()) == forward)
        #expect(forward == paths.sorted())
    }

    @Test func missingPathThrows() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: InputCollector.MissingInput.self) { try InputCollector.collect([dir.path("nope")]) }
    }

    @Test func emptyDirectoryHasNoFiles() throws {
        let dir = try TemporaryDirectory()
        #expect(try InputCollector.collect([dir.path]).isEmpty)
    }

    /// (device, inode) of each path, to find the same file listed twice.
    func identities(_ paths: [String]) throws -> [String] {
        try paths.map { path in
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return "\(attributes[.systemNumber] ?? 0):\(attributes[.systemFileNumber] ?? 0)"
        }
    }

    @Test
    func symlinkLoopDoesNotRepeatFiles() throws {
        let dir = try TemporaryDirectory()
        try dir.write("a.log", "x")
        try FileManager.default.createSymbolicLink(atPath: dir.path("loop"), withDestinationPath: ".")
        let files = try InputCollector.collect([dir.path])
        #expect(Set(try identities(files)).count == files.count)
        #expect(files.count == 1)
    }

    @Test
    func sameFileUnderTwoSpellingsIsReadOnce() throws {
        let dir = try TemporaryDirectory()
        try dir.write("a.log", "x")
        let files = try InputCollector.collect([dir.path, dir.path + "/."])
        #expect(files.count == 1)
        #expect(Set(try identities(files)).count == files.count)
    }

    /// Each file comes with what `stat` said of it as it was found (a link: of its target), so
    /// that `custody run` need not `stat` it again.
    @Test
    func eachFileComesWithItsStatus() throws {
        let dir = try TemporaryDirectory()
        try dir.write("a.log", "12345")
        try dir.write("sub/b.log", "1234567890")
        try FileManager.default.createSymbolicLink(atPath: dir.path("sub/c.log"), withDestinationPath: dir.path("a.log"))
        try dir.write("z.log", "")
        let gathered = try InputCollector.gather([dir.path, dir.path("z.log")])
        #expect(gathered.files == [dir.path("a.log"), dir.path("sub/b.log"), dir.path("z.log")])
        #expect(gathered.statuses.count == gathered.files.count)
        for (file, status) in zip(gathered.files, gathered.statuses) {
            var st = stat()
            #expect(stat(file, &st) == 0)
            #expect(status.inode == UInt64(st.st_ino), "\(file)")
            #expect(status.size == Int64(st.st_size), "\(file)")
            #expect(status.modifiedNanoseconds == Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec), "\(file)")
        }
        #expect(gathered.statuses.map(\.size) == [5, 10, 0])
        // Through a link, the target's: only the link was found here, its target is a.log.
        let linked = try InputCollector.gather([dir.path("sub")], roots: [dir.path])
        #expect(linked.files == [dir.path("sub/b.log"), dir.path("sub/c.log")])
        #expect(linked.statuses.map(\.size) == [10, 5])
    }
}
