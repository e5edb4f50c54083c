import Foundation

/// The vault's packs (`packs/*.pack`, `PackFile`): where each packed object lives, found by
/// scanning the packs themselves (never by trusting the state), and the writing, reading and
/// rewriting of packs. Shared by every copy of a `Vault` value; thread-safe.
final class PackStore: @unchecked Sendable {
    /// Where one copy of a packed object lives.
    struct Location: Equatable, Sendable {
        /// The pack's path.
        var pack: String
        var entry: PackFile.Entry
    }

    let directory: String
    private let lock = NSLock()
    // Guarded by `lock`; nil until the packs are first scanned.
    private var index: [String: [Location]]?

    init(vaultDirectory: String) {
        directory = vaultDirectory + "/" + PackFile.directoryName
    }

    /// Every copy of `sha256` in the packs, complete or not, in pack order.
    func locations(of sha256: String) -> [Location] {
        lock.lock()
        defer { lock.unlock() }
        return loaded()[sha256] ?? []
    }

    /// Names of every object with at least one complete entry.
    func names() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return loaded().filter { $0.value.contains { $0.entry.complete } }.keys.sorted()
    }

    /// Forgets what was scanned: the next query scans the packs again.
    func invalidate() {
        lock.lock()
        index = nil
        lock.unlock()
    }

    private func loaded() -> [String: [Location]] {
        if let index { return index }
        var built: [String: [Location]] = [:]
        for pack in Self.packFiles(in: directory) {
            // A file that is not a pack holds no object: it is ignored here (and so its objects,
            // if the state lists them, are missing).
            guard let scan = try? PackFile.scan(path: pack) else { continue }
            for entry in scan.entries { built[entry.sha256, default: []].append(Location(pack: pack, entry: entry)) }
        }
        index = built
        return built
    }

    static func packFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(PackFile.suffix) && !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
    }

    /// What in `packs/` holds bytes no entry describes: a file that is not a pack (or cannot be
    /// read), bytes after an entry where no entry header follows, and entries cut short. The
    /// enumeration of objects cannot see into these, so they are reported rather than skipped.
    func damage() -> [(path: String, reason: String)] {
        var found: [(path: String, reason: String)] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        for name in names where !name.hasPrefix(".incoming-") {
            let path = directory + "/" + name
            guard name.hasSuffix(PackFile.suffix), !name.hasPrefix(".") else {
                found.append((path, "not a pack (only packs belong in \(directory))"))
                continue
            }
            let scan: PackFile.Scan
            do { scan = try PackFile.scan(path: path) } catch {
                found.append((path, "cannot be read as a pack: \(error)"))
                continue
            }
            if let from = scan.unreadableFrom {
                found.append((path, "damaged from byte \(from): bytes that no entry header describes"))
            }
            for entry in scan.entries where !entry.complete {
                found.append((path, "entry \(entry.sha256) at byte \(entry.headerOffset) is cut short (\(entry.length) bytes expected)"))
            }
        }
        return found
    }

    /// Removes half-written packs left by a killed run. Only under the run lock.
    func removeIncomplete() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".incoming-") {
            try? fm.removeItem(atPath: directory + "/" + name)
        }
    }

    /// Reads a complete entry's bytes; nil when the pack is gone or shorter than the entry.
    func bytes(at location: Location) -> [UInt8]? {
        guard location.entry.complete else { return nil }
        let fd = open(location.pack, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: location.entry.length)
        guard
            let n = try? bytes.withUnsafeMutableBytes({
                try PackFile.readFully(fd, $0.baseAddress!, count: location.entry.length, at: location.entry.offset, path: location.pack)
            }), n == location.entry.length
        else { return nil }
        return bytes
    }

    /// Writes `objects` (name, stored bytes) as one new pack, skipping names given twice, and
    /// returns its path (nil when there was nothing to write). The pack is written under a
    /// temporary name and renamed into place whole; with `sync`, flushed first, else the caller
    /// makes it durable (`VaultSync`) before any state row names its objects.
    func write(_ objects: [(sha256: String, bytes: [UInt8])], sync: Bool) throws -> String? {
        var seen = Set<String>()
        let unique = objects.filter { seen.insert($0.sha256).inserted }
        guard !unique.isEmpty else { return nil }
        var entries: [PackFile.Entry] = []
        // The entries are put together in memory and written in one call: two writes per object
        // (its header, its bytes) were 20,000 system calls of a fresh run over 10,000 small files.
        // The objects are small (at most the vault's pack limit each), and a group's are in memory
        // already.
        var contents: [UInt8] = []
        contents.reserveCapacity(unique.reduce(0) { $0 + PackFile.entryHeaderSize + $1.bytes.count })
        var offset = PackFile.headerSize
        for object in unique {
            contents += PackFile.entryHeader(sha256: object.sha256, length: object.bytes.count)
            contents += object.bytes
            offset += PackFile.entryHeaderSize
            entries.append(PackFile.Entry(sha256: object.sha256, offset: offset, length: object.bytes.count, complete: true))
            offset += object.bytes.count
        }
        let path = try writePack(sync: sync) { fd, temporary in
            try contents.withUnsafeBytes { try PackFile.writeAll(fd, $0, path: temporary) }
        }
        lock.lock()
        if index != nil {
            for entry in entries { index![entry.sha256, default: []].append(Location(pack: path, entry: entry)) }
        }
        lock.unlock()
        return path
    }

    /// Removes every entry of `names` from the packs: each pack holding one is rewritten without
    /// it (every other byte copied as it is, entries under legal hold and damaged ones included),
    /// the new pack made durable, and only then the old one unlinked. Returns how many entries
    /// were removed.
    @discardableResult
    func remove(_ names: Set<String>) throws -> Int {
        var removed = 0
        for pack in Self.packFiles(in: directory) {
            // Fail closed: a pack that cannot be read whole may hide a copy of a purged object, and
            // the purge must not say its bytes are gone.
            let scan = try PackFile.scan(path: pack)
            if let damaged = scan.unreadableFrom {
                throw StoreError.io(path: pack, reason: "damaged from byte \(damaged) (no entry header there): run custody verify")
            }
            let dropped = scan.entries.filter { names.contains($0.sha256) }
            guard !dropped.isEmpty else { continue }
            // Byte ranges kept: everything but the dropped entries (header and bytes).
            var kept: [Range<Int>] = []
            var from = PackFile.headerSize
            for entry in dropped {
                if entry.headerOffset > from { kept.append(from..<entry.headerOffset) }
                from = min(scan.size, entry.offset + entry.length)
            }
            if scan.size > from { kept.append(from..<scan.size) }
            if !kept.isEmpty {
                let source = open(pack, O_RDONLY | O_CLOEXEC)
                guard source >= 0 else { throw StoreError.io(path: pack, reason: String(cString: strerror(errno))) }
                defer { close(source) }
                // Renamed over the old pack itself: a crash leaves either the old pack or the new
                // one, never both (the purged bytes kept beside the rewritten copy).
                _ = try writePack(sync: true, replacing: pack) { fd, temporary in
                    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
                    defer { buffer.deallocate() }
                    for range in kept {
                        var at = range.lowerBound
                        while at < range.upperBound {
                            let n = try PackFile.readFully(source, buffer, count: min(1 << 20, range.upperBound - at), at: at, path: pack)
                            guard n > 0 else { throw StoreError.io(path: pack, reason: "shorter than it was scanned") }
                            try PackFile.writeAll(fd, UnsafeRawBufferPointer(start: buffer, count: n), path: temporary)
                            at += n
                        }
                    }
                }
            } else {
                guard unlink(pack) == 0 else { throw StoreError.io(path: pack, reason: String(cString: strerror(errno))) }
                syncDirectory(directory)
            }
            removed += dropped.count
        }
        invalidate()
        return removed
    }

    /// Creates `packs/.incoming-UUID.pack`, writes the header and calls `body` to write the rest,
    /// then (with `sync`, flushed) makes it read-only and renames it to `packs/<uuid>.pack`.
    private func writePack(sync: Bool, replacing existing: String? = nil, _ body: (Int32, String) throws -> Void) throws -> String {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = UUID().uuidString.lowercased()
        let temporary = "\(directory)/.incoming-\(name)\(PackFile.suffix)"
        let target = existing ?? "\(directory)/\(name)\(PackFile.suffix)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: temporary, reason: String(cString: strerror(errno))) }
        do {
            defer { close(fd) }
            try PackFile.header().withUnsafeBytes { try PackFile.writeAll(fd, $0, path: temporary) }
            try body(fd, temporary)
            guard !sync || fsync(fd) == 0 else {
                throw StoreError.io(path: temporary, reason: "fsync: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        guard chmod(temporary, 0o440) == 0, rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StoreError.io(path: target, reason: reason)
        }
        if sync { syncDirectory(directory) }
        return target
    }
}
