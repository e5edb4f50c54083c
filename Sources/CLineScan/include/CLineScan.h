#ifndef CUSTODY_CLINESCAN_H
#define CUSTODY_CLINESCAN_H

#include <stddef.h>
#include <stdint.h>

#include "CJSONWalk.h"
#include "CLogfmtTemplate.h"

/// Finds the line ends of data[0..<length] in order: every '\n', and every '\r' whose next byte
/// is not '\n' (a lone CR; a CR in the last byte is not reported, its next byte being unknown), writes their offsets from `data` into
/// `out` and returns how many it wrote. It stops early, at a 64-byte boundary, when `out` could
/// not take another 64 offsets; `*scanned` tells how many bytes it looked at (`length` unless
/// it stopped early). `capacity` must be at least 64 and `length` below 2^32.
/// Uses AVX-512 where the CPU has it, else SSE2 (any x86-64), else a byte loop.
size_t custody_newlines(const uint8_t *data, size_t length, uint32_t *out, size_t capacity, size_t *scanned);

/// custody_newlines without AVX-512, so tests can check both paths on one machine.
size_t custody_newlines_sse2(const uint8_t *data, size_t length, uint32_t *out, size_t capacity, size_t *scanned);

#endif
