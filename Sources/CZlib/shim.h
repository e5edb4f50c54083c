#ifndef CUSTODY_CZLIB_SHIM_H
#define CUSTODY_CZLIB_SHIM_H

#include <zlib.h>

/* inflateInit2 and deflateInit2 are macros that pass sizeof(z_stream) and the
   library version; Swift cannot import them, so they are wrapped here. */
static inline int custody_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int custody_deflateInit2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

#endif
