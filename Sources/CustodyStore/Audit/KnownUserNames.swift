import CustodyCore
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The closing audit's registry built on names indexed already: those of a registry made with
/// `RealNameRegistry(seenUsers:)` from the run's state writer, whose ids follow the `users`
/// table's keys when the writer holds every user of the state and no one else (its users are
/// the rows it loaded, in key order, then each new one as its row was created). Hashing the
/// state's 500,000 names again was the largest single cost of a fresh run's closing audit.
///
/// Nothing is taken on trust: each row read must carry, byte for byte, the name at its place
/// in key order; at the first that does not, the caller builds the registry from the rows'
/// names as before.
enum KnownUserNames {
    /// Merges the `users` rows whose keys are in `keys` (all when nil), then `later`'s rows, in
    /// key order, into `registry` by position: the n-th row read is the user with id n. Returns
    /// how many rows were read, or nil as soon as a row's name is not the registry's n-th name
    /// (or there are more rows than names): `registry` is then half merged, to be dropped.
    static func merge(
        into registry: inout RealNameRegistry, _ db: Database, keys: ClosedRange<Int64>?,
        later: (() throws -> UserRowColumns)?
    ) throws -> Int? {
        struct NotTheIndexedNames: Error {}
        let names = registry.userNames
        var position = 0
        func add(_ name: UnsafeBufferPointer<UInt8>, _ verifiedAt: Int64?, _ first: EventLocation?) throws {
            guard position < names.count, same(names[position], name) else { throw NotTheIndexedNames() }
            registry.merge(user: Int32(position), fileIndex: 0, verifiedAt: verifiedAt, firstPending: first)
            position += 1
        }
        do {
            try UserRegistryRows.forEachRaw(db, keys: keys) { _, name, verifiedAt, first in try add(name, verifiedAt, first) }
            if let later { try later().forEachRaw(add) }
        } catch is NotTheIndexedNames {
            return nil
        }
        return position
    }

    /// Whether `name`'s UTF-8 is `bytes`.
    private static func same(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var name = name
        return name.withUTF8 { utf8 in
            utf8.count == bytes.count && (utf8.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress!, utf8.count) == 0)
        }
    }
}
