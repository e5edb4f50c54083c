#include "CLogfmtTemplate.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Why templates: `LogfmtParser`'s pair loop costs ~60 instructions a pair (the blank before the
   key, the remembered key's compare, the value's scan, the offer), ~300 of a regular line's ~730,
   and a file's lines come in a few shapes that differ only in their values. Here a line's
   skeleton (its keys with their `=`, the blanks between pairs and the quotes, values cut out) is
   made from bit masks of the whole line, 64 bytes a compare, and compared whole with the
   skeletons of the last two lines the pair loop read; a line of the same skeleton has its three
   fields in the same pairs, found by counting `=`.

   The masks, for a line of n <= 192 bytes (bit i: byte i; a 64-bit word a block, carries and
   shifts passed from one word to the next):
   - Q: quotes; In: bytes strictly inside a quoted value (an odd number of quotes at or before
     them, not a quote themselves); S, E: spaces and `=` not In.
   - T: where a pair starts (byte 0 and each byte after an S).
   - M: bytes that are neither E nor S. Adding T to M carries from each pair's start through its
     key to the first E or S after it (the key's end, as `LogfmtParser.keyEnd` finds it here: the
     line has no tab, and a quote in a key shows in the skeleton), so KS = (M + T) ^ M holds each
     key and the byte that ended it.
   - The skeleton: the bytes of KS, S and Q in order (AVX-512 VBMI2 compress). Value bytes and an
     `=` inside a value are cut out; every quote stays, so a value with a quote in it differs.
   A template is learnt only from a line whose skeleton is "k1=v k2="" ..." in form: each key
   non-empty and ended by `=`, quoted values' quotes right after it, single spaces between pairs
   and none before or after. A line with that same skeleton, quotes that open only right after a
   key's `=` and close only before a space or the line's end, and no tab or backslash anywhere,
   is read by the pair loop as the same keys in the same order with the same kinds of value, no
   flag, no escape: the same fields win in the same pairs, and each value ends at the next S (bare)
   or the next quote (quoted), as the pair loop's scans end it. Anything else is left to the pair
   loop, which also gives every rejection its cause. */

/* After this many lines in a row that matched no template (a file whose keys come in a new order
   on every line, or whose lines have escapes), templates pause for PAUSE_LINES lines. */
#define MISS_LIMIT 16
#define PAUSE_LINES 1024

void custody_logfmt_templates_init(custody_logfmt_templates *templates) { memset(templates, 0, sizeof *templates); }

#if defined(__x86_64__)

#define LOGFMT_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi,bmi2,pclmul,popcnt")))

/* Parser threads ask at once: every thread computes the same answer, so a race only repeats it. */
static int available(void) {
    static int known_answer = -1;
    int known = __atomic_load_n(&known_answer, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") &&
                __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("pclmul") &&
                __builtin_cpu_supports("popcnt");
        __atomic_store_n(&known_answer, known, __ATOMIC_RELAXED);
    }
    return known;
}

int custody_logfmt_templates_available(void) { return available(); }

/* Bit i set when an odd number of bits 0...i of `x` are. */
LOGFMT_TARGET static inline uint64_t prefix_xor(uint64_t x) {
    __m128i product = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xFF), 0);
    return (uint64_t)_mm_cvtsi128_si64(product);
}

/* What the masks say of a line of up to `BLOCKS` 64-byte blocks (word w: bytes 64w..<64w+64). */
#define BLOCKS 3
typedef struct {
    __m512i blocks[BLOCKS];
    uint64_t keep[BLOCKS];
    /* Each pair's `=`, and where each pair's value ends: its closing quote, or the space after a
       bare value (the last bare value ends at the line's end, which is not in the mask). */
    uint64_t stops[BLOCKS], ends[BLOCKS];
} line_shape;

/* The line's masks and skeleton bytes (`keep`) for a line of at most 64 * `blocks` bytes (a
   constant where inlined: the loops unroll); 0 when the line has a tab or a backslash, or a quote
   that opens anywhere but right after a key's `=` or closes anywhere but before a space or the
   line's end. */
LOGFMT_TARGET __attribute__((always_inline)) static inline int shape_of(const uint8_t *line, size_t n, line_shape *shape, const int blocks) {
    uint64_t valid[BLOCKS], quotes[BLOCKS], spaces[BLOCKS], equals[BLOCKS], odd_prefix[BLOCKS];
    uint64_t odd = 0;
    for (int w = 0; w < blocks; w++) {
        size_t left = n > 64 * (size_t)w ? n - 64 * (size_t)w : 0;
        valid[w] = _bzhi_u64(~0ULL, (unsigned)(left < 64 ? left : 64));
        /* Bytes past the line are zero, none of those looked for. */
        __m512i b = _mm512_maskz_loadu_epi8(valid[w], line + 64 * w);
        shape->blocks[w] = b;
        odd |= _mm512_cmpeq_epi8_mask(b, _mm512_set1_epi8('\t')) | _mm512_cmpeq_epi8_mask(b, _mm512_set1_epi8('\\'));
        quotes[w] = _mm512_cmpeq_epi8_mask(b, _mm512_set1_epi8('"'));
        spaces[w] = _mm512_cmpeq_epi8_mask(b, _mm512_set1_epi8(' '));
        equals[w] = _mm512_cmpeq_epi8_mask(b, _mm512_set1_epi8('='));
    }
    if (odd) return 0;
    uint64_t inside_before = 0; /* all ones when block w starts inside a quoted value */
    uint64_t space_before = 1;  /* byte 0 starts a pair, as a byte after a space does */
    uint64_t stop_before = 0, closing_before = 0;
    unsigned char carry = 0;
    uint64_t bad = 0;
    for (int w = 0; w < blocks; w++) {
        odd_prefix[w] = prefix_xor(quotes[w]) ^ inside_before;
        inside_before = (uint64_t)((int64_t)odd_prefix[w] >> 63);
        uint64_t inside = odd_prefix[w] & ~quotes[w];
        spaces[w] &= ~inside;
        equals[w] &= ~inside;
        uint64_t starts = ((spaces[w] << 1) | space_before) & valid[w];
        space_before = spaces[w] >> 63;
        uint64_t key_bytes = valid[w] & ~equals[w] & ~spaces[w];
        unsigned long long sum;
        carry = _addcarry_u64(carry, key_bytes, starts, &sum);
        uint64_t keys_and_ends = (sum ^ key_bytes) & valid[w];
        uint64_t stops = keys_and_ends & equals[w];
        uint64_t opening = quotes[w] & odd_prefix[w];
        uint64_t closing = quotes[w] & ~odd_prefix[w];
        uint64_t after_stop = (stops << 1) | stop_before;
        uint64_t after_closing = (closing << 1) | closing_before;
        stop_before = stops >> 63;
        closing_before = closing >> 63;
        bad |= (opening & ~after_stop) | (after_closing & valid[w] & ~spaces[w]);
        shape->keep[w] = keys_and_ends | spaces[w] | quotes[w];
        shape->stops[w] = stops;
        shape->ends[w] = closing | (spaces[w] & ~after_closing);
    }
    return bad == 0;
}

/* Whether the line's skeleton is the template's. */
LOGFMT_TARGET __attribute__((always_inline)) static inline int same_skeleton(
    const line_shape *shape, const custody_logfmt_template *t, const int blocks) {
    unsigned length = 0;
    for (int w = 0; w < blocks; w++) length += (unsigned)_mm_popcnt_u64(shape->keep[w]);
    if (length != t->length) return 0;
    unsigned at = 0;
    for (int w = 0; w < blocks; w++) {
        unsigned count = (unsigned)_mm_popcnt_u64(shape->keep[w]);
        __m512i kept = _mm512_maskz_compress_epi8(shape->keep[w], shape->blocks[w]);
        if (_mm512_mask_cmpneq_epi8_mask(_bzhi_u64(~0ULL, count), kept, _mm512_loadu_si512((const void *)(t->skeleton + at)))) return 0;
        at += count;
    }
    return 1;
}

/* The positions of the set bits of a mask of `blocks` words in order, as bytes, and after them
   `last` (`out`: room for 64 * `blocks` + 64 bytes). */
LOGFMT_TARGET __attribute__((always_inline)) static inline void positions(const uint64_t *mask, uint8_t last, uint8_t *out, const int blocks) {
    unsigned count = 0;
    for (int w = 0; w < blocks; w++) {
        __m512i offsets = _mm512_add_epi8(
            _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35,
                            34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2,
                            1, 0),
            _mm512_set1_epi8((char)(64 * w)));
        _mm512_storeu_si512((void *)(out + count), _mm512_maskz_compress_epi8(mask[w], offsets));
        count += (unsigned)_mm_popcnt_u64(mask[w]);
    }
    out[count] = last;
}

/* Field f's value in a line of template t's shape, as custody_logfmt_match packs it, from the
   positions of the pairs' `=` and of their values' ends. */
LOGFMT_TARGET __attribute__((always_inline)) static inline uint64_t capture(
    const uint8_t *stops, const uint8_t *ends, const custody_logfmt_template *t, int f) {
    if (t->pair[f] < 0) return CUSTODY_LOGFMT_ABSENT;
    unsigned start = stops[t->pair[f]] + 1u + t->quoted[f];
    return (uint64_t)start | ((uint64_t)ends[t->pair[f]] << 8);
}

/* custody_logfmt_match for a line of at most 64 * `blocks` bytes (the two-block path also takes lines of 64 or fewer). */
LOGFMT_TARGET __attribute__((always_inline)) static inline uint64_t match_blocks(
    const uint8_t *line, size_t length, custody_logfmt_templates *templates, const int blocks) {
    line_shape shape;
    if (!shape_of(line, length, &shape, blocks)) return 0;
    const custody_logfmt_template *t = &templates->templates[0];
    if (!same_skeleton(&shape, t, blocks)) {
        t = &templates->templates[1];
        if (!same_skeleton(&shape, t, blocks)) return 0;
    }
    templates->misses = 0;
    uint8_t stops[64 * BLOCKS + 64], ends[64 * BLOCKS + 64];
    positions(shape.stops, 0, stops, blocks);
    positions(shape.ends, (uint8_t)length, ends, blocks);
    return CUSTODY_LOGFMT_MATCHED | capture(stops, ends, t, 0) | (capture(stops, ends, t, 1) << 16) | (capture(stops, ends, t, 2) << 32);
}

LOGFMT_TARGET uint64_t custody_logfmt_match(const uint8_t *line, size_t length, custody_logfmt_templates *templates) {
    if (templates->pause > 0) {
        templates->pause--;
        return 0;
    }
    if (length == 0 || length > CUSTODY_LOGFMT_TEMPLATE_LINE_MAX) return 0;
    /* Most log lines are 65 to 192 bytes: two or three blocks, each a path of its own. */
    if (length <= 128) return match_blocks(line, length, templates, 2);
    return match_blocks(line, length, templates, 3);
}

/* The number of pairs if the skeleton is "key=", "key=\"\"" pairs between single spaces; else 0. */
static unsigned simple_pairs(const uint8_t *s, unsigned length) {
    unsigned i = 0;
    unsigned pairs = 0;
    while (1) {
        unsigned key = i;
        while (i < length && s[i] != '=') {
            if (s[i] == ' ' || s[i] == '"') return 0;
            i++;
        }
        if (i == key || i == length) return 0;
        i++;
        if (i < length && s[i] == '"') {
            if (i + 1 >= length || s[i + 1] != '"') return 0;
            i += 2;
        }
        pairs++;
        if (i == length) return pairs;
        if (s[i] != ' ' || i + 1 == length) return 0;
        i++;
    }
}

LOGFMT_TARGET int custody_logfmt_learn(const uint8_t *line, size_t length, const int32_t *starts, custody_logfmt_templates *templates) {
    if (!available() || templates->pause > 0) return 0;
    /* Every line offered counts, learnt or not: lines that never match (escapes in every line, say)
       would otherwise pay for the masks twice each, in the match and here (+25 % a line). */
    if (++templates->misses >= MISS_LIMIT) {
        templates->misses = 0;
        templates->pause = PAUSE_LINES;
    }
    if (length == 0 || length > CUSTODY_LOGFMT_TEMPLATE_LINE_MAX) return 0;
    line_shape shape;
    const int blocks = length <= 128 ? 2 : 3;
    if (!shape_of(line, length, &shape, blocks)) return 0;
    custody_logfmt_template learnt;
    memset(&learnt, 0, sizeof learnt);
    unsigned at = 0;
    for (int w = 0; w < blocks; w++) {
        unsigned count = (unsigned)_mm_popcnt_u64(shape.keep[w]);
        _mm512_mask_storeu_epi8((void *)(learnt.skeleton + at), _bzhi_u64(~0ULL, count), _mm512_maskz_compress_epi8(shape.keep[w], shape.blocks[w]));
        at += count;
    }
    learnt.length = at;
    unsigned pairs = simple_pairs(learnt.skeleton, learnt.length);
    unsigned stop_count = 0;
    for (int w = 0; w < blocks; w++) stop_count += (unsigned)_mm_popcnt_u64(shape.stops[w]);
    if (pairs == 0 || pairs != stop_count) return 0;
    learnt.pairs = pairs;
    uint8_t stops[64 * BLOCKS + 64];
    positions(shape.stops, 0, stops, blocks);
    for (int f = 0; f < 3; f++) {
        learnt.pair[f] = -1;
        if (starts[f] < 0) continue;
        for (unsigned k = 0; k < pairs; k++) {
            unsigned quoted = stops[k] + 1u < length && line[stops[k] + 1] == '"';
            if (stops[k] + 1u + quoted == (unsigned)starts[f]) {
                learnt.pair[f] = (int32_t)k;
                learnt.quoted[f] = (uint8_t)quoted;
                break;
            }
        }
        if (learnt.pair[f] < 0) return 0;
    }
    templates->templates[1] = templates->templates[0];
    templates->templates[0] = learnt;
    return 1;
}

#else

int custody_logfmt_templates_available(void) { return 0; }

uint64_t custody_logfmt_match(const uint8_t *line, size_t length, custody_logfmt_templates *templates) {
    (void)line;
    (void)length;
    (void)templates;
    return 0;
}

int custody_logfmt_learn(const uint8_t *line, size_t length, const int32_t *starts, custody_logfmt_templates *templates) {
    (void)line;
    (void)length;
    (void)starts;
    (void)templates;
    return 0;
}

#endif
