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
}
