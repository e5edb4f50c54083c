import CustodyCore
import CustodyTesting
import Foundation
import Testing

@testable import CustodyIngest

/// A worker with no file left decodes the rest of another's (`HandOffSource`, `DecodeHelpers`):
/// the reader must get the same bytes, fault and count as when it decodes alone, and an offer
/// must never leave either thread waiting.
@Suite("Hand-off of decoding to an idle worker", .timeLimit(.minutes(1)))
struct HandOffSourceTests {
    /// A whole gzip file of several members and the same file cut at two thirds (a fault).
    private func files(in dir: TemporaryDirectory) throws -> [String] {
        let lines = randomHexLines(count: 30_000, seed: 11)
        let path = try dir.writeGzip("big.gz", lines: lines, membersEvery: 400)
        let bytes = try fileBytes(path)
        return [path, try dir.write("cut.gz", Array(bytes[0..<(bytes.count * 2 / 3)]))]
    }

    private func handOff(_ path: String, _ inflater: GzipInflater) throws -> HandOffSource {
        HandOffSource(try DecodedSources.open(path: path, inflater: inflater), totalBytes: try fileBytes(path).count)
    }

    /// Waits (bounded) until a helper's offer is made: the source no longer takes help.
    private func waitForOffer(on source: HandOffSource) {
        for _ in 0..<5_000 where source.bytesLeftToHelp != nil { usleep(1_000) }
    }

    /// Starts a helper thread that offers to decode the rest of `source`, and waits until the
    /// offer is made; the outcome is `help`'s answer.
    private func offerHelp(to source: HandOffSource) -> HelpOutcome {
        let helped = HelpOutcome()
        Thread { [source = UncheckedHandOff(source)] in helped.set(source.source.help()) }.start()
        waitForOffer(on: source)
        return helped
    }

    @Test(arguments: GzipInflater.allCases)
    func aHelperDecodesTheRestAndTheReaderSeesTheSame(inflater: GzipInflater) throws {
        let dir = try TemporaryDirectory()
        for path in try files(in: dir) {
            let alone = try decode(inflater, path, chunk: 10_000)
            let source = try handOff(path, inflater)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 10_000, alignment: 16)
            defer { buffer.deallocate() }
            var bytes: [UInt8] = []
            for _ in 0..<3 { bytes += buffer[0..<source.read(into: buffer)] }
            let left = try #require(source.bytesLeftToHelp)
            #expect(left > 0 && left < source.totalBytes)

            let helped = offerHelp(to: source)
            #expect(source.bytesLeftToHelp == nil)
            let rest = drain(source, chunk: 10_000)
            helped.wait()

            #expect(helped.value == true)
            #expect(bytes + rest.bytes == alone.bytes)
            #expect(rest.fault == alone.fault)
            #expect(rest.compressedBytesRead == alone.compressedBytesRead)
        }
    }

    @Test func anOfferAfterTheEndIsDeclinedAtOnce() throws {
        let dir = try TemporaryDirectory()
        let path = try files(in: dir)[0]
        let source = try handOff(path, .preferred)
        let whole = drain(source)
        #expect(whole.bytes == (try decode(path)).bytes)
        #expect(source.bytesLeftToHelp == nil)
        #expect(source.help() == false)
    }

    /// A reader that stops before its next read declines the waiting offer (`help` answers
    /// false); one that stops after accepting it, once the helper has filled the ring, stops
    /// the helper (`help` returns true), and neither the ring nor its semaphores are freed while
    /// in use (libdispatch aborts on a semaphore freed below its initial value).
    @Test(arguments: [false, true])
    func aReaderThatStopsEndsTheHelp(afterAccepting: Bool) throws {
        let dir = try TemporaryDirectory()
        let source = try handOff(try files(in: dir)[0], .preferred)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 16)
        defer { buffer.deallocate() }
        #expect(source.read(into: buffer) > 0)
        let helped = offerHelp(to: source)
        #expect(source.bytesLeftToHelp == nil)
        if afterAccepting {
            #expect(source.read(into: buffer) > 0)  // from the ring now
            usleep(50_000)  // the helper fills every free block and waits
        }
        source.close()
        helped.wait()
        #expect(helped.value == afterAccepting)
    }

    /// A prefetching source dropped with its ring full: its thread stops, nothing is freed in use.
    @Test func aPrefetchingSourceDroppedEarly() throws {
        let dir = try TemporaryDirectory()
        let path = try files(in: dir)[0]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 16)
        defer { buffer.deallocate() }
        for pause in [0, 50_000] as [UInt32] {
            var source: PrefetchingSource? = PrefetchingSource(try DecodedSources.open(path: path))
            #expect(source!.read(into: buffer) == 4_096)
            usleep(pause)
            source = nil
        }
        // Still decodes whole afterwards (and the process is alive).
        #expect(drain(PrefetchingSource(try DecodedSources.open(path: path))).bytes == (try decode(path)).bytes)
    }

    @Test func theIdleWorkerHelpsTheFileWithTheMostLeft() throws {
        let dir = try TemporaryDirectory()
        let path = try files(in: dir)[0]
        let board = DecodeHelpers()
        #expect(board.helpOne() == false)
        // Same content; the second claims a larger file, so more is left of it.
        let small = try handOff(path, .preferred)
        let large = HandOffSource(try DecodedSources.open(path: path), totalBytes: small.totalBytes * 10)
        board.settle(board.expectRead(fileBytes: small.totalBytes), source: small)
        board.settle(board.expectRead(fileBytes: large.totalBytes), source: large)
        let helped = HelpOutcome()
        let helper = Thread { helped.set(board.helpOne()) }
        helper.start()
        waitForOffer(on: large)
        #expect(large.bytesLeftToHelp == nil)
        #expect(small.bytesLeftToHelp != nil)
        let rest = drain(large)
        // Stopping the small one's reader declines an offer made to it (a wrong choice), so a
        // failure here is reported rather than hung.
        small.close()
        helped.wait()
        #expect(helped.value == true)
        #expect(rest.bytes == (try decode(path)).bytes)
        // Neither takes help now.
        #expect(board.helpOne() == false)
        board.remove(small)
        board.remove(large)
    }

    /// A helper started right after a read (before that read has opened its file) waits for it
    /// rather than find nothing and give up; a read that opens no source for help (a plain
    /// file, a failure) releases a waiting helper.
    @Test func aHelperWaitsForAnAnnouncedRead() throws {
        let dir = try TemporaryDirectory()
        let path = try files(in: dir)[0]
        let board = DecodeHelpers()
        let ticket = board.expectRead(fileBytes: try fileBytes(path).count)
        let helped = HelpOutcome()
        Thread { helped.set(board.helpOne()) }.start()
        usleep(20_000)  // the helper has found nothing yet
        let source = try handOff(path, .preferred)
        board.settle(ticket, source: source)
        waitForOffer(on: source)
        #expect(source.bytesLeftToHelp == nil)
        let rest = drain(source)
        helped.wait()
        #expect(helped.value == true)
        #expect(rest.bytes == (try decode(path)).bytes)
        board.remove(source)

        let plain = board.expectRead(fileBytes: 1)
        let declined = HelpOutcome()
        Thread { declined.set(board.helpOne()) }.start()
        plain.settle()
        plain.settle()  // a second settle does nothing
        declined.wait()
        #expect(declined.value == false)
        #expect(board.handOffs == 1)
    }

    /// One large file and small ones. With one worker, a helper thread of the test's hands the
    /// large file over (the check registers the file it reads); with two, the check's own idle
    /// worker offers help. The report, faults included, is the one worker's alone.
    @Test func aCheckWithHelpReportsAsOneWorker() async throws {
        let policy = try loadPolicy()
        let scenario = ActivityGenerator.Scenario(
            firstDay: CivilDay(iso: "2026-09-10")!, days: 70, users: 400, eventsPerDay: 1_500, seed: 5,
            lateVerifiers: 6, neverVerified: 4, silentDays: [])
        let events = ActivityGenerator(scenario).events()
        let files = [
            LogFileSpec(name: "a-small.jsonl.gz", format: .jsonl, gzip: true),
            LogFileSpec(name: "b-small.jsonl.gz", format: .jsonl, gzip: true),
            LogFileSpec(name: "c-large.jsonl.gz", format: .jsonl, gzip: true, membersEvery: 5_000),
        ]
        let dir = try TemporaryDirectory()
        try writeLogs(events, files: files, in: dir, assign: { i, _ in i % 20 == 0 ? i % 40 / 20 : 2 })
        let large = dir.path + "/c-large.jsonl.gz"
        let bytes = try fileBytes(large)
        let cut = try dir.write("d-cut.jsonl.gz", Array(bytes[0..<(bytes.count * 3 / 4)]))
        let asOf = CivilDay(iso: "2026-11-19")!
        func check(_ paths: [String], parallelism: Int, board: DecodeHelpers) async throws -> CheckReport {
            try await CheckRunner.run(CheckRequest(paths: paths, policy: policy, asOf: asOf, parallelism: parallelism), helpers: board)
        }
        for paths in [[large], [dir.path]] {
            let alone = DecodeHelpers()
            let expected = try await check(paths, parallelism: 1, board: alone).json.rendered()
            #expect(alone.handOffs == 0)

            let board = DecodeHelpers()
            let stop = ManagedAtomicFlag()
            let ended = DispatchSemaphore(value: 0)
            let helper = Thread {
                while !stop.isSet && !board.helpOne() { usleep(100) }
                ended.signal()
            }
            helper.start()
            let helped = try await check(paths, parallelism: 1, board: board)
            stop.set()
            ended.wait()
            #expect(board.handOffs == 1)
            #expect(helped.json.rendered() == expected)

            let two = DecodeHelpers()
            #expect(try await check(paths, parallelism: 2, board: two).json.rendered() == expected)
            // One file on two workers is read by `ParallelFileScan`, which takes no help.
            #expect(paths == [large] ? two.offers == 0 : two.offers >= 1)
            // The cut copy's fault is part of the comparison.
            #expect(expected.contains(cut) == (paths == [dir.path]))
        }
    }
}

private struct UncheckedHandOff: @unchecked Sendable {
    let source: HandOffSource
    init(_ source: HandOffSource) { self.source = source }
}

/// A helper thread's answer, waited for by the test.
private final class HelpOutcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private(set) var value: Bool?

    func set(_ value: Bool) {
        self.value = value
        done.signal()
    }

    func wait() { done.wait() }
}
