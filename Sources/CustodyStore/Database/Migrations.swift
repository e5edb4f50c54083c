import CustodyCore
import GRDB

/// The state schema, as named, append-only migrations: never edit one that has shipped; add a
/// new one. Tables and columns are named for the operator reading them with `sqlite3`.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("2026-11-27 ingestion, vault and real-name state") { db in
            // One row per log file, identified by its decompressed first bytes, not its name:
            // app.log → app.log.1 → app.log.2.gz is one row.
            try db.execute(
                sql: """
                    CREATE TABLE log_files (
                      id INTEGER PRIMARY KEY,
                      fingerprint TEXT NOT NULL,              -- SHA-256 of the first fingerprint_length decoded bytes
                      fingerprint_length INTEGER NOT NULL,
                      first_path TEXT NOT NULL,
                      last_path TEXT NOT NULL,
                      compressed INTEGER NOT NULL,            -- gzip when last read
                      bytes_read INTEGER NOT NULL,            -- decoded bytes ingested (whole lines)
                      lines_read INTEGER NOT NULL,
                      records INTEGER NOT NULL,
                      rejected_lines INTEGER NOT NULL,
                      first_rejected_lines TEXT NOT NULL,     -- JSON array of line numbers
                      first_rejection_cause TEXT,
                      fault_offset INTEGER,                   -- compressed byte offset of a read fault
                      fault_message TEXT,
                      read_to_end INTEGER NOT NULL,           -- nothing left to read at last_size/last_mtime
                      last_inode INTEGER,
                      last_size INTEGER,
                      last_mtime_ns INTEGER,
                      first_seen_at TEXT NOT NULL,
                      last_read_at TEXT NOT NULL
                    );
                    CREATE INDEX log_files_by_fingerprint ON log_files(fingerprint_length, fingerprint);

                    -- Verified copies of log content, named by the SHA-256 of the uncompressed bytes.
                    CREATE TABLE vault_objects (
                      sha256 TEXT PRIMARY KEY,
                      size INTEGER NOT NULL,                  -- uncompressed bytes
                      stored_size INTEGER NOT NULL,           -- gzip bytes on disk
                      records INTEGER NOT NULL,
                      first_record_at_ms INTEGER,
                      last_record_at_ms INTEGER,
                      first_day TEXT,
                      last_day TEXT,
                      stored_at TEXT NOT NULL,
                      purged_at TEXT
                    );

                    -- Which stretch of which log file a vault object holds (a growing file is
                    -- ingested in several segments, one per run that found new lines).
                    CREATE TABLE segments (
                      id INTEGER PRIMARY KEY,
                      log_file_id INTEGER NOT NULL REFERENCES log_files(id),
                      vault_object TEXT NOT NULL REFERENCES vault_objects(sha256),
                      start_offset INTEGER NOT NULL,
                      end_offset INTEGER NOT NULL,
                      first_line INTEGER NOT NULL,            -- line number of the segment's first line, minus one
                      records INTEGER NOT NULL,
                      run_id INTEGER REFERENCES runs(id)
                    );
                    CREATE INDEX segments_by_object ON segments(vault_object);

                    CREATE TABLE daily_records (
                      segment_id INTEGER NOT NULL REFERENCES segments(id),
                      day TEXT NOT NULL,                      -- YYYY-MM-DD in the policy's time zone
                      records INTEGER NOT NULL,
                      PRIMARY KEY (segment_id, day)
                    );
                    CREATE INDEX daily_records_by_day ON daily_records(day);

                    -- The real-name registry: verification times outlive the logs they came from.
                    CREATE TABLE users (
                      user TEXT PRIMARY KEY,
                      verified_at_ms INTEGER,                 -- earliest accepted verification
                      first_unverified_publish_ms INTEGER,    -- earliest publish not yet known to be covered
                      first_unverified_publish_segment INTEGER,
                      first_unverified_publish_line INTEGER
                    );

                    -- Publish events of a user in a segment not covered by a verification known so far.
                    CREATE TABLE pending_publishes (
                      user TEXT NOT NULL,
                      segment_id INTEGER NOT NULL REFERENCES segments(id),
                      events INTEGER NOT NULL,
                      earliest_ms INTEGER NOT NULL,
                      latest_ms INTEGER NOT NULL,
                      exact_times_ms TEXT,                    -- JSON array when few enough to keep
                      PRIMARY KEY (user, segment_id)
                    );

                    CREATE TABLE runs (
                      id INTEGER PRIMARY KEY,
                      started_at TEXT NOT NULL,
                      finished_at TEXT,
                      outcome TEXT NOT NULL,                  -- running, compliant, not_compliant, failed
                      files_read INTEGER NOT NULL DEFAULT 0,
                      records_added INTEGER NOT NULL DEFAULT 0,
                      duration_seconds REAL
                    );

                    CREATE TABLE findings (
                      run_id INTEGER NOT NULL REFERENCES runs(id),
                      rule TEXT NOT NULL,
                      severity TEXT NOT NULL,
                      message TEXT NOT NULL,
                      day TEXT, user TEXT, file TEXT, line INTEGER, time TEXT, byte_offset INTEGER, count INTEGER
                    );
                    CREATE INDEX findings_by_run ON findings(run_id);

                    -- Placed by disclosure requests; purge never deletes a held object.
                    CREATE TABLE legal_holds (
                      id INTEGER PRIMARY KEY,
                      request_id TEXT NOT NULL,
                      vault_object TEXT NOT NULL REFERENCES vault_objects(sha256),
                      placed_at TEXT NOT NULL,
                      released_at TEXT
                    );
                    CREATE INDEX legal_holds_by_object ON legal_holds(vault_object);

                    CREATE TABLE purges (
                      id INTEGER PRIMARY KEY,
                      vault_object TEXT NOT NULL,
                      purged_at TEXT NOT NULL,
                      records INTEGER NOT NULL,
                      last_record_at_ms INTEGER,
                      reason TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("2026-11-27 disclosures and ledger") { db in
            try db.execute(
                sql: """
                    -- Append-only, hash-chained: each entry's canonical JSON names the hash of the one before.
                    CREATE TABLE ledger_entries (
                      seq INTEGER PRIMARY KEY,
                      kind TEXT NOT NULL,
                      recorded_at TEXT NOT NULL,
                      entry TEXT NOT NULL,                    -- canonical JSON: body, kind, previous, recorded_at, seq
                      hash TEXT NOT NULL                      -- SHA-256 of entry
                    );
                    CREATE TRIGGER ledger_entries_append_only_update BEFORE UPDATE ON ledger_entries
                      BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
                    CREATE TRIGGER ledger_entries_append_only_delete BEFORE DELETE ON ledger_entries
                      BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

                    -- Ed25519 signatures over the ledger head, made after every command that appends.
                    CREATE TABLE ledger_checkpoints (
                      seq INTEGER PRIMARY KEY REFERENCES ledger_entries(seq),
                      hash TEXT NOT NULL,
                      signed_at TEXT NOT NULL,
                      public_key TEXT NOT NULL,               -- base64 raw Ed25519 public key
                      signature TEXT NOT NULL                 -- base64, over the text custody-ledger-checkpoint, seq, hash, signed_at (one per line)
                    );

                    CREATE TABLE requests (
                      id TEXT PRIMARY KEY,
                      received_at TEXT NOT NULL,              -- RFC 3339
                      authority TEXT NOT NULL,
                      jurisdiction TEXT NOT NULL,             -- ISO 3166-1 alpha-2
                      legal_basis TEXT NOT NULL,
                      process_type TEXT NOT NULL,             -- criminal_evidence, administrative, court_order, subpoena, emergency, preservation, other
                      scope_users TEXT NOT NULL,              -- JSON array
                      scope_start_ms INTEGER NOT NULL,
                      scope_end_ms INTEGER NOT NULL,
                      data_categories TEXT NOT NULL,          -- JSON array of content, non_content
                      due_date TEXT,                          -- YYYY-MM-DD
                      nondisclosure_until TEXT,               -- YYYY-MM-DD: no detailed reporting before this day
                      foreign_requester INTEGER NOT NULL,
                      status TEXT NOT NULL,                   -- received, under_review, decided, produced, closed, withdrawn
                      outcome TEXT,                           -- fully_complied, partially_complied, rejected, no_data_found, withdrawn, preserved
                      decided_at TEXT,
                      produced_at TEXT,
                      closed_at TEXT
                    );

                    CREATE TABLE request_decisions (
                      request_id TEXT NOT NULL REFERENCES requests(id),
                      user TEXT NOT NULL,
                      produce INTEGER NOT NULL,
                      reason TEXT NOT NULL,
                      decided_at TEXT NOT NULL,
                      PRIMARY KEY (request_id, user)
                    );

                    CREATE TABLE productions (
                      id INTEGER PRIMARY KEY,
                      request_id TEXT NOT NULL REFERENCES requests(id),
                      produced_at TEXT NOT NULL,
                      directory TEXT NOT NULL,
                      manifest_sha256 TEXT NOT NULL,
                      records INTEGER NOT NULL,
                      users_affected TEXT NOT NULL            -- JSON array of users whose records were produced
                    );
                    """)
        }
        migrator.registerMigration("2026-11-29 lossless user ids, non-text bytes and anonymous publishes") { db in
            try db.execute(
                sql: """
                    ALTER TABLE log_files ADD COLUMN non_text_bytes INTEGER NOT NULL DEFAULT 0;      -- of rejected lines
                    ALTER TABLE log_files ADD COLUMN anonymous_publishes INTEGER NOT NULL DEFAULT 0; -- publish events without a user
                    ALTER TABLE log_files ADD COLUMN first_anonymous_publish_lines TEXT NOT NULL DEFAULT '[]';
                    """)
            // User ids are now stored as `EscapedText` (`\` and control characters escaped, bytes
            // that are not UTF-8 as `\xNN`), so that ids differing only in such bytes stay
            // apart. Ids stored before were decoded text: re-escape the few that change, longest
            // first, so that no new value meets an old one not yet rewritten.
            for table in ["users", "pending_publishes"] {
                let names = try String.fetchAll(db, sql: "SELECT DISTINCT user FROM \(table)")
                    .filter { EscapedText.escape($0) != $0 }
                    .sorted { $0.utf8.count > $1.utf8.count }
                for name in names {
                    try db.execute(sql: "UPDATE \(table) SET user = ? WHERE user = ?", arguments: [EscapedText.escape(name), name])
                }
            }
        }
        migrator.registerMigration("2026-11-29 request timeline, DSA fields and request-id indexes") { db in
            try db.execute(
                sql: """
                    ALTER TABLE requests ADD COLUMN acknowledged_at TEXT;           -- RFC 3339: the authority was told of receipt
                    ALTER TABLE requests ADD COLUMN member_state TEXT;              -- EU Member State of a DSA art. 10 order
                    ALTER TABLE requests ADD COLUMN illegal_content_category TEXT;  -- DSA category of illegal content
                    ALTER TABLE productions ADD COLUMN content_records INTEGER;     -- records of the package that are content (publish events)
                    -- Loading a request reads its holds and productions: without these, every load
                    -- scanned both tables, and import and reports grew with the square of the requests.
                    CREATE INDEX legal_holds_by_request ON legal_holds(request_id);
                    CREATE INDEX productions_by_request ON productions(request_id);
                    """)
        }
        migrator.registerMigration("2026-11-29 registry verifications") { db in
            try db.execute(
                sql: """
                    -- Verifications imported from the user database (custody registry import); one row per
                    -- (user, time, method), so importing the same export again changes nothing.
                    CREATE TABLE registry_verifications (
                      user TEXT NOT NULL,
                      verified_at_ms INTEGER NOT NULL,
                      method TEXT NOT NULL,
                      source TEXT NOT NULL,                   -- the file it was first imported from
                      imported_at TEXT NOT NULL,
                      PRIMARY KEY (user, verified_at_ms, method)
                    );
                    """)
        }
        migrator.registerMigration("2026-11-29 vault object formats") { db in
            // The format an object's lines were read with, by name (NULL: sniffed line by line).
            // A described format (formats file) cannot be sniffed: re-reading an object for a
            // recount, a package or verify must use the format it was ingested with.
            try db.execute(sql: "ALTER TABLE vault_objects ADD COLUMN format TEXT")
        }
        migrator.registerMigration("2026-11-29 log_files.content_checksum") { db in
            // CRC-32 of the decoded bytes [0, bytes_read): confirms that a file whose fingerprint
            // matches is this one before reading on from bytes_read (FileIdentity). NULL for rows
            // written before it existed: those are trusted on the fingerprint, as they were.
            try db.execute(sql: "ALTER TABLE log_files ADD COLUMN content_checksum INTEGER")
        }
        migrator.registerMigration("2026-11-29 users by integer id") { db in
            // Keyed by an integer in the order users were first stored: StateWriter appends new
            // users and updates known ones by that key, instead of upserting by name through a
            // text index (with 500,000 users, most of a fresh run's commit time). Names stay
            // unique without an index: StateWriter holds every stored name and adds only new ones.
            try db.execute(
                sql: """
                    CREATE TABLE users_by_id (
                      id INTEGER PRIMARY KEY,                 -- order first stored in
                      user TEXT NOT NULL,
                      verified_at_ms INTEGER,                 -- earliest accepted verification
                      first_unverified_publish_ms INTEGER,    -- earliest publish not yet known to be covered
                      first_unverified_publish_segment INTEGER,
                      first_unverified_publish_line INTEGER
                    );
                    INSERT INTO users_by_id (user, verified_at_ms, first_unverified_publish_ms,
                                             first_unverified_publish_segment, first_unverified_publish_line)
                      SELECT user, verified_at_ms, first_unverified_publish_ms, first_unverified_publish_segment,
                             first_unverified_publish_line FROM users ORDER BY rowid;
                    DROP TABLE users;
                    ALTER TABLE users_by_id RENAME TO users;
                    """)
        }
        return migrator
    }
}
