import CustodyIngest
import GRDB

/// The format each vault object is re-read with: the one its lines were ingested with.
///
/// Built-in formats are sniffed again without harm, but a format described in a formats file
/// (`formats:` in `custody.yaml`) is never sniffed: an object of such a source read with `auto`
/// would yield no records, and a recount, a package or `verify`'s per-day check would be wrong.
public struct VaultFormats: Sendable {
    private let byObject: [String: LogFormat]

    /// Every object read as it is sniffed (states made before formats were recorded).
    public static let sniffed = VaultFormats(byObject: [:])

    private init(byObject: [String: LogFormat]) { self.byObject = byObject }

    /// The recorded format of every object whose format is not `auto`, resolved against the
    /// formats the configuration names. A name the configuration no longer describes falls back
    /// to sniffing (and the recount then says what it could not read).
    public init(database: StateDatabase, configuration: CustodyConfiguration) throws {
        var named: [String: LogFormat] = [:]
        for source in configuration.sources { named[source.format.rawValue] = source.format }
        let rows = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, format FROM vault_objects WHERE format IS NOT NULL AND format != 'auto'")
        }
        var byObject: [String: LogFormat] = [:]
        for row in rows {
            let name: String = row[1]
            if let format = named[name] ?? LogFormat(rawValue: name) { byObject[row[0]] = format }
        }
        self.byObject = byObject
    }

    /// The format to read `object` with.
    public func format(of object: String) -> LogFormat { byObject[object] ?? .auto }

    /// The name stored for an object read with `format`.
    static func storedName(of format: LogFormat) -> String { format.rawValue }
}
