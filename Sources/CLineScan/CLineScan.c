#include "CLineScan.h"

/* Line splitting looked for each line's end with memchr: ~8 ns a call for ~150-byte log
   lines, most of it the call's set-up rather than the search (perf, Benchmarks/RESULTS.md).
   Here one compare covers 64 bytes and each newline costs a count-trailing-zeros, so a whole
   read buffer's line ends come out of one call. */

/* A lone CR (old Mac line ends) ends a line too; a CR before LF does not (the LF does). Looking
   for CRs costs one more compare per 16 or 64 bytes and a rarely taken branch. Measured on
   256 MiB of 110-byte JSON lines (2 cores, 2026-11-29): with AVX-512 within noise (~0.2 s per
   1.3 GB either way); the SSE2 path's scan 10-20% slower, which is 1-2% of a check's time. */

/* The lone CRs of a block of `width` bytes at data + i, given its CR and LF masks: a CR whose
   next byte is not LF. For the block's last byte the next byte is read when it is within
   `length`; past the end it is unknown, and the CR is not reported (the caller scans it again
   once more data has arrived). */
static inline uint64_t lone_crs(const uint8_t *data, size_t i, size_t length, uint64_t crs, uint64_t lfs, size_t width) {
    uint64_t lone = crs & ~(lfs >> 1);
    uint64_t top = 1ULL << (width - 1);
    if ((lone & top) && !(i + width < length && data[i + width] != '\n')) lone &= ~top;
    return lone;
}

/* Appends the offsets of the set bits of `mask`, the line ends of the 64 bytes at `base`; `out`
   has room for 64 more. The first is written whether there is one or not, and counted only if
   there is: most 64-byte blocks of log lines hold one line end or none, in no order, and a loop
   run once or not at all missed its exit about once a line (a C loop over ISA-L's output, one
   regular file: the scan 11.7-12.5 -> 8.3-9.7 ms, Benchmarks/RESULTS.md). */
static inline size_t emit(uint64_t mask, size_t base, uint32_t *out, size_t count) {
    out[count] = (uint32_t)(base + (size_t)__builtin_ctzll(mask | (1ULL << 63)));
    count += mask != 0;
    mask &= mask - 1;
    while (__builtin_expect(mask != 0, 0)) {
        out[count++] = (uint32_t)(base + (size_t)__builtin_ctzll(mask));
        mask &= mask - 1;
    }
    return count;
}

/* Line ends in data[from..<stop]; a CR's next byte is looked at up to `length`. */
static size_t newlines_bytes(const uint8_t *data, size_t from, size_t stop, size_t length, uint32_t *out, size_t count) {
    for (size_t i = from; i < stop; i++) {
        if (data[i] == '\n' || (data[i] == '\r' && i + 1 < length && data[i + 1] != '\n')) out[count++] = (uint32_t)i;
    }
    return count;
}

#if defined(__x86_64__)
#include <immintrin.h>

size_t custody_newlines_sse2(const uint8_t *data, size_t length, uint32_t *out, size_t capacity, size_t *scanned) {
    const __m128i newline = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    size_t i = 0, count = 0;
    while (length - i >= 64 && capacity - count >= 64) {
        uint64_t mask = 0, crs = 0;
        for (int k = 0; k < 4; k++) {
            __m128i block = _mm_loadu_si128((const __m128i *)(data + i + 16 * k));
            mask |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(block, newline)) << (16 * k);
            crs |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(block, cr)) << (16 * k);
        }
        if (__builtin_expect(crs != 0, 0)) mask |= lone_crs(data, i, length, crs, mask, 64);
        count = emit(mask, i, out, count);
        i += 64;
    }
    if (length - i < 64 && capacity - count >= 64) {
        count = newlines_bytes(data, i, length, length, out, count);
        i = length;
    }
    *scanned = i;
    return count;
}

__attribute__((target("avx512f,avx512bw")))
static size_t newlines_avx512(const uint8_t *data, size_t length, uint32_t *out, size_t capacity, size_t *scanned) {
    const __m512i newline = _mm512_set1_epi8('\n');
    const __m512i cr = _mm512_set1_epi8('\r');
    size_t i = 0, count = 0;
    while (i < length && capacity - count >= 64) {
        size_t left = length - i;
        uint64_t mask;
        if (left >= 64) {
            __m512i block = _mm512_loadu_si512((const void *)(data + i));
            mask = _mm512_cmpeq_epi8_mask(block, newline);
            uint64_t crs = _mm512_cmpeq_epi8_mask(block, cr);
            if (__builtin_expect(crs != 0, 0)) mask |= lone_crs(data, i, length, crs, mask, 64);
            count = emit(mask, i, out, count);
            i += 64;
        } else {
            /* A masked load reads nothing past the end, so the last partial block is safe. */
            __mmask64 valid = (1ULL << left) - 1;
            __m512i block = _mm512_maskz_loadu_epi8(valid, (const void *)(data + i));
            mask = _mm512_mask_cmpeq_epi8_mask(valid, block, newline);
            uint64_t crs = _mm512_mask_cmpeq_epi8_mask(valid, block, cr);
            if (__builtin_expect(crs != 0, 0)) mask |= lone_crs(data, i, length, crs, mask, left);
            count = emit(mask, i, out, count);
            i = length;
        }
    }
    *scanned = i;
    return count;
}

/* Read and written atomically: threads of a scan ask at once (each computes the same answer). */
static int avx512_available(void) {
    static int available = -1;
    int known = __atomic_load_n(&available, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
        __atomic_store_n(&available, known, __ATOMIC_RELAXED);
    }
    return known;
}

size_t custody_newlines(const uint8_t *data, size_t length, uint32_t *out, size_t capacity, size_t *scanned) {
    if (avx512_available()) return newlines_avx512(data, length, out, capacity, scanned);
    return custody_newlines_sse2(data, length, out, capacity, scanned);
}

#else

size_t custody_newlines_sse2(const uint8_t *data, size_t length, uint32_t *out, size_t capacity, size_t *scanned) {
    size_t i = 0, count = 0;
    while (i < length && capacity - count >= 64) {
        size_t stop = length - i > 64 ? i + 64 : length;
        count = newlines_bytes(data, i, stop, length, out, count);
        i = stop;
    }
    *scanned = i;
    return count;
}

size_t custody_newlines(const uint8_t *data, size_t length, uint32_t *out, size_t capacity, size_t *scanned) {
    return custody_newlines_sse2(data, length, out, capacity, scanned);
}

#endif
