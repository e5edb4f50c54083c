#ifndef CUSTODY_CCRC32_H
#define CUSTODY_CCRC32_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU can run custody_crc32_fold (x86-64 with PCLMULQDQ and SSE4.1).
int custody_crc32_fold_available(void);

/// Continues the CRC-32 `crc` (gzip's, as zlib's crc32 computes it; 0 to start) over `length`
/// bytes at `bytes`. `length` must be at least 64 and a multiple of 16, and
/// custody_crc32_fold_available() must be true.
/// Uses AVX-512 (VPCLMULQDQ) for lengths of 256 and more where the CPU has it.
uint32_t custody_crc32_fold(uint32_t crc, const unsigned char *bytes, size_t length);

/// custody_crc32_fold without AVX-512, so tests can check both paths on one machine.
uint32_t custody_crc32_fold_sse(uint32_t crc, const unsigned char *bytes, size_t length);

#endif
