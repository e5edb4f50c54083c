import CustodyCore
import CustodyIngest
import Foundation
import Logging

/// Plans a run: which files have something new, read from where, with their bytes when small.
/// Files are planned in order, in one call or in several consecutive slices (`IngestionRun`
/// plans later slices while the first files are read and committed); the state it carries from
/// slice to slice makes the result the same either way.
struct RunPlanner: Sendable {
    private let known: KnownFiles
    private let jobs: Int
    /// Bytes of whole files (`WholeFile`) the plans may still hold.
    private var budget: Int
    /// Known files already planned in this run, by row id.
    private var claimed = Set<Int64>()
    /// Files new to the state planned so far in this run, by fingerprint, with the bytes each
    /// will be ingested from (its path, or what was read whole).
    private var newByFingerprint: [String: [FileIdentity.Content]] = [:]

    init(database: StateDatabase, jobs: Int, wholeFileBudget: Int = WholeFile.budget) throws {
        known = KnownFiles(try database.pool.read { db in try LogFileRecord.fetchAll(db) })
        self.jobs = jobs
        budget = wholeFileBudget
    }

    /// Matches each input with what the state knows of it and keeps only those with something
    /// new. Several names for one file (a copy beside a rotated original) are read once; two
    /// files that only start alike are two files (`KnownFiles.confirmedRecord`).
    ///
    /// A file `stat` shows unchanged since it was read to its end is not opened. The others'
    /// identities are read on `jobs` threads; a small file is read whole (`WholeFile`) and its
    /// bytes go with its plan, to be audited and stored without reading it again.
    mutating func plan(_ inputs: ArraySlice<SourceExpander.Input>, logger: Logger) -> [IngestionPlan] {
        // Which files to open, and which of them to read whole (within the budget, in order).
        // `whole`: the bytes charged to the budget, the most the file is read whole with (a file
        // grown since its `stat` is read from its path instead, so the budget holds).
        var toOpen: [(input: SourceExpander.Input, whole: Int?)] = []
        for input in inputs {
            // As the sources were walked (a `stat` of each file there already), else now.
            let status = input.status ?? FileIdentity.status(path: input.path)
            if let status, known.isUnchanged(path: input.path, status) { continue }
            var whole: Int?
            if let status, status.size <= min(WholeFile.sizeLimit, budget) {
                whole = Int(status.size)
                budget -= Int(status.size)
            }
            toOpen.append((input, whole))
        }
        let identities = Self.readIdentities(toOpen, jobs: jobs)

        var plans: [IngestionPlan] = []
        plans.reserveCapacity(toOpen.count)
        for ((input, _), read) in zip(toOpen, identities) {
            let identity: FileIdentity
            let contents: [UInt8]?
            let decoded: [UInt8]?
            switch read {
            case .success(nil): continue  // empty: nothing yet
            case .success(let found?): (identity, contents, decoded) = (found.identity, found.contents, found.decoded)
            case .failure(let error):
                logger.warning("\(EscapedText.escape(input.path)): \(error.message)")
                continue
            }
            // Judged by the bytes that will be ingested: those read whole, else the file's path.
            let content: FileIdentity.Content = contents.map { .bytes($0) } ?? .path(input.path)
            let record = known.confirmedRecord(for: identity, content: content)
            if let record {
                if record.isUnchanged(identity) { continue }
                guard claimed.insert(record.id!).inserted else {
                    logger.info("\(EscapedText.escape(input.path)): same content as another file in this run; read once")
                    continue
                }
            } else {
                let alike = newByFingerprint[identity.fingerprint] ?? []
                if alike.contains(where: { FileIdentity.oneContinuesTheOther($0, content) }) {
                    logger.info("\(EscapedText.escape(input.path)): same content as another file in this run; read once")
                    continue
                }
                newByFingerprint[identity.fingerprint, default: []].append(content)
            }
            // The prefix was for matching, done now: only its length is written.
            plans.append(
                IngestionPlan(
                    path: input.path, format: input.format, identity: identity.droppingPrefix(), record: record, contents: contents,
                    decoded: decoded))
        }
        return plans
    }

    /// A file's identity and, when it was read whole, its bytes, and its decoded content when
    /// reading the identity decoded all of it (`FileIdentity.readDecoding`).
    typealias Identified = (identity: FileIdentity, contents: [UInt8]?, decoded: [UInt8]?)

    /// Each file's identity (nil when empty) and, when read whole, its bytes; in order, read on
    /// up to `jobs` threads (each result is written by one thread, at its own index).
    static func readIdentities(
        _ files: [(input: SourceExpander.Input, whole: Int?)], jobs: Int
    ) -> [Result<Identified?, ReadFault>] {
        let threads = min(max(1, jobs), files.count / 64)
        guard threads > 1 else { return files.map(identify) }
        var results = [Result<Identified?, ReadFault>](repeating: .success(nil), count: files.count)
        results.withUnsafeMutableBufferPointer { out in
            // Each index is written by one thread only, and read after they all finished.
            nonisolated(unsafe) let out = out
            // Contiguous slices, one per thread: neighbours share directories and inode blocks.
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for i in (files.count * t / threads)..<(files.count * (t + 1) / threads) { out[i] = identify(files[i]) }
            }
        }
        return results
    }

    static func identify(_ file: (input: SourceExpander.Input, whole: Int?)) -> Result<Identified?, ReadFault> {
        Result { () throws(ReadFault) -> Identified? in
            if let limit = file.whole, let read = try WholeFile.read(path: file.input.path, limit: limit) {
                return try FileIdentity.readDecoding(read).map { ($0.identity, read.contents, $0.decoded) }
            }
            // Too large, or changed while it was read: identified from its path, read later.
            return try FileIdentity.read(path: file.input.path).map { ($0, nil, nil) }
        }
    }
}
