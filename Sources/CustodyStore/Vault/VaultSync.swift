import CSyncFS
import Foundation

/// Makes a group of vault objects durable at once, before the transaction that names them
/// commits: one `syncfs(2)` of the vault's file system instead of an fsync per object and per
/// shard directory (a fresh run over 10,000 small files spent most of its time in those).
///
/// The vault directory is opened when the sync is made, before any object of the run is written:
/// `syncfs` reports a write-back error that happened on the file system since its descriptor was
/// opened (Linux 5.8 and later), so an object that failed to reach the disk fails the group that
/// names it (or an earlier one), never passes silently. Where there is no `syncfs` (not Linux),
/// each object is fsynced, then each directory it was renamed into, then the vault directory.
final class VaultSync: Sendable {
    private let vault: Vault
    private let descriptor: Int32
    /// False only in tests: always take the fsync-per-object path.
    private let useSyncfs: Bool

    init(vault: Vault, useSyncfs: Bool = true) throws {
        self.vault = vault
        self.useSyncfs = useSyncfs
        descriptor = open(vault.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StoreError.io(path: vault.directory, reason: String(cString: strerror(errno))) }
    }

    deinit { close(descriptor) }

    /// Returns once `objects` (SHA-256 names of loose objects, written with `durable: false`),
    /// `packs` (paths) and their directory entries are on disk; throws when the file system
    /// reports that they may not be.
    func sync(objects: some Sequence<String>, packs: [String] = []) throws {
        if useSyncfs {
            if custody_syncfs(descriptor) == 0 { return }
            guard errno == ENOSYS else {
                throw StoreError.io(path: vault.directory, reason: "syncfs: \(String(cString: strerror(errno)))")
            }
        }
        var directories = Set<String>()
        for sha in objects {
            let path = vault.path(of: sha)
            try DurableFile.flush(path: path)
            directories.insert((path as NSString).deletingLastPathComponent)
        }
        for pack in packs {
            try DurableFile.flush(path: pack)
            directories.insert((pack as NSString).deletingLastPathComponent)
        }
        for directory in directories.sorted() { try DurableFile.flush(path: directory, directory: true) }
        // A shard directory made in this group is itself an entry of the vault directory.
        guard fsync(descriptor) == 0 else {
            throw StoreError.io(path: vault.directory, reason: "fsync: \(String(cString: strerror(errno)))")
        }
    }
}
