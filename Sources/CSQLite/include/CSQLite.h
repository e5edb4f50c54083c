#ifndef CUSTODY_CSQLITE_H
#define CUSTODY_CSQLITE_H

/// `SQLITE_VERSION_NUMBER` of the SQLite compiled into Custody (`sqlite3.c` beside this target's
/// sources): tests compare it with what GRDB's calls reach, which must be this copy, never the
/// system library's (see `CSQLite.c`).
int custody_vendored_sqlite_version_number(void);

#endif
