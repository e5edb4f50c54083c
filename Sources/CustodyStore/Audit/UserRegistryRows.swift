import CustodyCore
import GRDB

/// Reads the `users` table in key order: each user's key, name, earliest verification and
/// earliest uncovered publish (whose `file` is the segment id).
enum UserRegistryRows {
    static func forEach(_ db: Database, _ body: (Int64, String, Int64?, EventLocation?) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                       first_unverified_publish_line FROM users ORDER BY id
                """)
        while let row = try rows.next() {
            var first: EventLocation?
            if let ms: Int64 = row[3], let segment: Int64 = row[4], let line: Int = row[5] {
                first = EventLocation(millis: ms, file: Int32(truncatingIfNeeded: segment), line: line)
            }
            try body(row[0], row[1], row[2], first)
        }
    }
}
