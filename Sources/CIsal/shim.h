#ifndef CUSTODY_CISAL_SHIM_H
#define CUSTODY_CISAL_SHIM_H

/* Intel ISA-L's inflate (libisal-dev), behind a small API of our own.

   Whether ISA-L is used is decided when the package is compiled: if the header
   <isa-l/igzip_lib.h> can be included, the functions below call ISA-L (linked with
   -lisal through pkg-config's libisal.pc); if not, they are stubs that report it
   missing and every gzip file is inflated by zlib. The package builds either way. */

#include <stdint.h>
#include <stdlib.h>

#if defined(__has_include)
#  if __has_include(<isa-l/igzip_lib.h>)
#    include <isa-l/igzip_lib.h>
#    define CUSTODY_HAVE_ISAL 1
#  endif
#endif
#ifndef CUSTODY_HAVE_ISAL
#  define CUSTODY_HAVE_ISAL 0
#endif

/* Result of custody_isal_inflate. */
enum {
    CUSTODY_ISAL_OK = 0,          /* progress made, or the input was all taken */
    CUSTODY_ISAL_MEMBER_END = 1,  /* one gzip member decoded, its trailer consumed */
    CUSTODY_ISAL_ERROR = -1       /* ISA-L rejected the member (any reason) */
};

/* 1 when ISA-L was available at build time. */
static inline int custody_isal_available(void) { return CUSTODY_HAVE_ISAL; }

#if CUSTODY_HAVE_ISAL

/* A decoder for one gzip member at a time (header, deflate data, CRC-32 and ISIZE trailer). */
static inline void *custody_isal_new(void) {
    struct inflate_state *state = (struct inflate_state *)malloc(sizeof(struct inflate_state));
    if (state == NULL) return NULL;
    isal_inflate_init(state);
    state->crc_flag = ISAL_GZIP;
    return state;
}

static inline void custody_isal_free(void *state) { free(state); }

/* Ready for the next member. */
static inline void custody_isal_reset(void *opaque) {
    struct inflate_state *state = (struct inflate_state *)opaque;
    isal_inflate_reset(state);
    state->crc_flag = ISAL_GZIP;
}

/* Inflates from *next_in into *next_out, advancing both. */
static inline int custody_isal_inflate(void *opaque, const uint8_t **next_in, uint32_t *avail_in,
                                       uint8_t **next_out, uint32_t *avail_out) {
    struct inflate_state *state = (struct inflate_state *)opaque;
    state->next_in = (uint8_t *)*next_in;
    state->avail_in = *avail_in;
    state->next_out = *next_out;
    state->avail_out = *avail_out;
    int status = isal_inflate(state);
    *next_in = state->next_in;
    *avail_in = state->avail_in;
    *next_out = state->next_out;
    *avail_out = state->avail_out;
    if (status != ISAL_DECOMP_OK) return CUSTODY_ISAL_ERROR;
    return state->block_state == ISAL_BLOCK_FINISH ? CUSTODY_ISAL_MEMBER_END : CUSTODY_ISAL_OK;
}

#else

static inline void *custody_isal_new(void) { return NULL; }
static inline void custody_isal_free(void *state) { (void)state; }
static inline void custody_isal_reset(void *state) { (void)state; }
static inline int custody_isal_inflate(void *state, const uint8_t **next_in, uint32_t *avail_in,
                                       uint8_t **next_out, uint32_t *avail_out) {
    (void)state; (void)next_in; (void)avail_in; (void)next_out; (void)avail_out;
    return CUSTODY_ISAL_ERROR;
}

#endif

#endif
