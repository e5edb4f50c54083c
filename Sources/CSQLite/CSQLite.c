// SQLite compiled into Custody, in place of the system library's (Debian 12: 3.40.1, built with
// OMIT_LOOKASIDE): the same rows written with a third to two fifths less CPU (docs/performance.md).
//
// GRDB reaches SQLite through its `GRDBSQLite` system-library module, which links
// `libsqlite3.so`. Its `sqlite3_*` references are resolved when the executable is linked, and a
// definition in an object file of the executable (this one) is taken before the shared
// library's: every call goes to this copy. Two copies of SQLite both in use in one process would
// break each other's POSIX locks; `make release` checks that the binary takes no `sqlite3_`
// symbol from a shared library, and `VendoredSQLiteTests` that GRDB's connections run this one.
#include "sqlite3.c"

int custody_vendored_sqlite_version_number(void) { return SQLITE_VERSION_NUMBER; }
