#ifndef CUSTODY_CPREFETCH_H
#define CUSTODY_CPREFETCH_H

/// Asks the CPU to start loading the cache line at `address`, without waiting for it.
/// Swift has no prefetch intrinsic, and clang's _mm_prefetch is a macro Swift cannot import.
static inline void custody_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
