#ifndef CUSTODY_CSYNCFS_H
#define CUSTODY_CSYNCFS_H

/// Flushes every file system buffer of the file system that holds `fd` to disk (Linux
/// `syncfs(2)`); 0 on success, else -1 with `errno` set (ENOSYS where there is no syncfs).
/// Swift's Glibc module does not import syncfs (it is declared only under _GNU_SOURCE).
int custody_syncfs(int fd);

#endif
