import Crypto
import CustodyIngest

/// The log files the state knows, indexed for `IngestionRun.plan`: by fingerprint, and by the
/// name each was last read under. Every lookup is a hash probe, so planning a run over N files
/// costs O(N) (it compared every file with every short file before: 294 s for 10,000).
struct KnownFiles {
    private var byFingerprint: [String: [LogFileRecord]] = [:]
    private var byLastPath: [String: [LogFileRecord]] = [:]
    /// The distinct fingerprint lengths shorter than `FileIdentity.fingerprintLength`, ascending.
    private var shortLengths: [Int] = []

    init(_ records: [LogFileRecord]) {
        var lengths = Set<Int>()
        for record in records {
            byFingerprint[record.fingerprint, default: []].append(record)
            byLastPath[record.lastPath, default: []].append(record)
            if record.fingerprintLength < FileIdentity.fingerprintLength { lengths.insert(record.fingerprintLength) }
        }
        shortLengths = lengths.sorted()
    }

    /// The file at `path` is, by `stat`, the one last read to its end under this name: nothing
    /// new, and no need to open it.
    func isUnchanged(path: String, _ status: FileIdentity.Status) -> Bool {
        byLastPath[path]?.contains { $0.isUnchanged(status) } ?? false
    }

    /// The known file this one is, confirmed; nil for a new file.
    ///
    /// A fingerprint match is only a candidate. It is this file when it has the inode the file
    /// had when last read (renamed or grown in place), or when this file's first `bytesRead`
    /// decoded bytes have the CRC-32 of what was ingested (a copy, a compressed rotation). A
    /// different file that merely starts the same way (a common banner) matches neither.
    func confirmedRecord(for identity: FileIdentity, path: String) -> LogFileRecord? {
        confirmedRecord(for: identity, content: .path(path))
    }

    /// `confirmedRecord(for:path:)` judging the file by `content`: the bytes read whole at
    /// planning when there are any, which are what will be ingested, not what its path holds by
    /// then (a file truncated and rewritten since, as `copytruncate` does, must not pass for
    /// new).
    func confirmedRecord(for identity: FileIdentity, content: FileIdentity.Content) -> LogFileRecord? {
        let candidates = candidates(for: identity)
        if candidates.isEmpty { return nil }
        let inode = Int64(bitPattern: identity.inode)
        if let same = candidates.filter({ $0.lastInode == inode }).max(by: { $0.bytesRead < $1.bytesRead }) { return same }
        for candidate in candidates.sorted(by: { $0.bytesRead > $1.bytesRead }) {
            // A row from before checksums were kept is trusted on its fingerprint, as it was.
            guard let expected = candidate.contentChecksum else { return candidate }
            if FileIdentity.contentChecksum(of: content, length: candidate.bytesRead) == UInt32(truncatingIfNeeded: expected) {
                return candidate
            }
        }
        return nil
    }

    /// Records whose fingerprint this file's first bytes match: over the same length, or, when
    /// none, over a shorter one (a file fingerprinted while it was short, grown since).
    private func candidates(for identity: FileIdentity) -> [LogFileRecord] {
        let length = identity.prefix.count
        let exact = byFingerprint[identity.fingerprint]?.filter { $0.fingerprintLength == length } ?? []
        if !exact.isEmpty || shortLengths.isEmpty { return exact }
        var found: [LogFileRecord] = []
        var hasher = SHA256()
        var hashed = 0
        for short in shortLengths where short < length {
            identity.prefix[hashed..<short].withUnsafeBytes { hasher.update(bufferPointer: $0) }
            hashed = short
            let fingerprint = hasher.finalize().hex  // `finalize` leaves `hasher` as it was
            found += byFingerprint[fingerprint]?.filter { $0.fingerprintLength == short } ?? []
        }
        // The longest earlier fingerprint first, as before.
        return found.sorted { $0.fingerprintLength > $1.fingerprintLength }
    }
}
