// The system zlib (zlib1g-dev), for gzip input and output.
#include <zlib.h>

// inflateInit2 and deflateInit2 are macros, which Swift cannot call: these wrap them for
// gzip streams (window bits 15 + 16: a gzip header and trailer, never zlib's or raw deflate).
static inline int weir_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}

static inline int weir_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
