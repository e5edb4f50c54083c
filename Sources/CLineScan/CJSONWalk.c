#include "CJSONWalk.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Why a second walk beside JSONLineParser's: that one goes member by member, and each member's
   position depends on where the string before it ended, found by a 16-byte compare started only
   once the previous one is done: one long chain of dependent loads. Here every quote of the line
   is found first, 64 bytes a compare with no dependency between blocks (simdjson's first stage,
   without its escape handling: a line with a backslash goes the full walk), and the walk then
   reads keys and string values off consecutive quote positions (nested values are skipped by
   their brackets, their strings by their quotes). Only the usual shape is taken;
   anything else answers 0 and the full walk decides, so every rejection keeps its cause. */

#define GOLDEN 0x9E3779B97F4A7C15ULL

/* After this many shapes learnt in a row without a template matching a line in between, the
   templates are left alone for the next CUSTODY_JSON_TEMPLATE_PAUSE_LINES lines. */
#define CUSTODY_JSON_TEMPLATE_MISS_LIMIT 16
#define CUSTODY_JSON_TEMPLATE_PAUSE_LINES 1024

static inline uint64_t load64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t low_bytes(uint64_t w, size_t count) {
    return count >= 8 ? w : w & ((1ULL << (8 * count)) - 1);
}

static inline unsigned key_hash(uint64_t first, size_t length) {
    return (unsigned)(((first ^ (uint64_t)length) * GOLDEN) >> 58);
}

void custody_json_keys_init(custody_json_keys *keys) {
    memset(keys, 0, sizeof *keys);
}

int custody_json_keys_add(custody_json_keys *keys, const uint8_t *name, size_t length, uint8_t field, uint8_t rank) {
    if (length == 0) return 1;
    if (length > CUSTODY_JSON_KEY_MAX) return 0;
    uint64_t words[4] = {0, 0, 0, 0};
    memcpy(words, name, length);
    unsigned slot = key_hash(words[0], length);
    while (keys->slots[slot].length != 0) {
        const custody_json_key *k = &keys->slots[slot];
        if (k->length == length && memcmp(k->words, words, sizeof words) == 0) return 1; /* first listing wins */
        slot = (slot + 1) & (CUSTODY_JSON_KEY_SLOTS - 1);
    }
    if (keys->used * 2 >= CUSTODY_JSON_KEY_SLOTS) return 0;
    custody_json_key *k = &keys->slots[slot];
    memcpy(k->words, words, sizeof words);
    k->length = (uint32_t)length;
    k->field = field;
    k->rank = rank;
    keys->used++;
    return 1;
}

/* Eight bytes at `p`, of which only those before `end` are read (and the others zero). */
static inline uint64_t load64_before(const uint8_t *p, const uint8_t *end) {
    if (p + 8 <= end) return load64(p);
    uint64_t w = 0;
    memcpy(&w, p, (size_t)(end - p));
    return w;
}

/* The field a key names, or -1: the key is `key[0..<length]`, and bytes up to `end` may be read
   (the key's closing quote and more follow it). */
__attribute__((always_inline)) static inline int lookup(const custody_json_keys *keys, const uint8_t *key, size_t length, const uint8_t *end, uint8_t *rank) {
    if (length - 1 >= CUSTODY_JSON_KEY_MAX) return -1; /* empty, or longer than any name */
    uint64_t first = low_bytes(load64_before(key, end), length);
    unsigned slot = key_hash(first, length);
    for (;;) {
        const custody_json_key *k = &keys->slots[slot];
        if (k->length == 0) return -1;
        if (k->length == length && k->words[0] == first) {
            int same = 1;
            for (size_t w = 1; w * 8 < length; w++) {
                if (low_bytes(load64_before(key + 8 * w, end), length - 8 * w) != k->words[w]) {
                    same = 0;
                    break;
                }
            }
            if (same) {
                *rank = k->rank;
                return k->field;
            }
        }
        slot = (slot + 1) & (CUSTODY_JSON_KEY_SLOTS - 1);
    }
}

/* `lookup` for the `position`th key of the object, answered from the same position of the lines
   before when the key is one of the last two seen there (its bytes, at most 16, compared as two
   words): files that mix two line shapes, say with and without a user, keep both. */
__attribute__((always_inline)) static inline int lookup_at(
    custody_json_keys *keys, size_t position, const uint8_t *key, size_t length, const uint8_t *end, uint8_t *rank) {
    if (position >= CUSTODY_JSON_GUESSES || length - 1 >= 16) return lookup(keys, key, length, end, rank);
    custody_json_guess *guesses = keys->guesses[position];
    uint64_t first = low_bytes(load64_before(key, end), length);
    uint64_t second = length > 8 ? low_bytes(load64_before(key + 8, end), length - 8) : 0;
    for (int way = 0; way < 2; way++) {
        const custody_json_guess *guess = &guesses[way];
        if (guess->length == length && guess->words[0] == first && guess->words[1] == second) {
            *rank = guess->rank;
            return guess->field == 255 ? -1 : guess->field;
        }
    }
    int field = lookup(keys, key, length, end, rank);
    guesses[1] = guesses[0];
    custody_json_guess *guess = &guesses[0];
    guess->words[0] = first;
    guess->words[1] = second;
    guess->length = (uint32_t)length;
    guess->field = field < 0 ? 255 : (uint8_t)field;
    guess->rank = *rank;
    return field;
}

static inline int is_digit(uint8_t c) { return (uint8_t)(c - '0') < 10; }

/* A space or a tab: blanks the full walk skips too (it also skips line breaks, which a line
   of a log does not hold). */
static inline int is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

/* The end of a JSON number at `i` < n (as JSONLineParser.numberEnd), or 0. */
static inline size_t number_end(const uint8_t *b, size_t i, size_t n) {
    if (b[i] == '-') i++;
    if (!(i < n && is_digit(b[i]))) return 0;
    if (b[i] == '0') {
        i++;
    } else {
        while (i < n && is_digit(b[i])) i++;
    }
    if (i < n && b[i] == '.') {
        size_t digits = ++i;
        while (i < n && is_digit(b[i])) i++;
        if (i == digits) return 0;
    }
    if (i < n && (b[i] == 'e' || b[i] == 'E')) {
        i++;
        if (i < n && (b[i] == '+' || b[i] == '-')) i++;
        size_t digits = i;
        while (i < n && is_digit(b[i])) i++;
        if (i == digits) return 0;
    }
    return i;
}

/* Whether `b[i..<n]` starts with the `count` bytes of `word`. */
static inline int literal(const uint8_t *b, size_t i, size_t n, const char *word, size_t count) {
    return i + count <= n && memcmp(b + i, word, count) == 0;
}

/* The members of the object in b[0..<n], given the positions of its `nq` quotes, none of them
   escaped (the line has no backslash). Reads no byte at or past `n`. */
__attribute__((always_inline)) static inline custody_json_found walk_members(
    const uint8_t *b, size_t n, const uint16_t *q, size_t nq, custody_json_keys *keys) {
    const custody_json_found refused = {0, 0};
    /* Per field: rank | kind << 8 | start << 10 | end << 21 (see custody_json_found). */
    uint32_t found[3];
    for (int f = 0; f < 3; f++) found[f] = 255u | (uint32_t)CUSTODY_JSON_OTHER << 8;
    if (b[0] != '{') return refused;
    if (b[1] == '}') {
        if (n != 2) return refused;
        custody_json_found empty = {found[0] | (uint64_t)found[1] << 32, found[2] | CUSTODY_JSON_ACCEPTED};
        return empty;
    }
    size_t i = 1, k = 0, position = 0;
    for (;; position++) {
        /* A key: a string starting right here. Quotes pair up in order, as no quote is escaped. */
        if (k + 1 >= nq || q[k] != i) return refused;
        size_t keyEnd = q[k + 1];
        uint8_t rank = 255;
        int field = lookup_at(keys, position, b + i + 1, keyEnd - i - 1, b + n, &rank);
        if (keyEnd + 2 >= n || b[keyEnd + 1] != ':') return refused;
        i = keyEnd + 2;
        /* Blanks after the colon (`"key": value`, as Python's json.dumps writes by default). */
        while (is_blank(b[i])) {
            if (++i >= n) return refused;
        }
        size_t start = i;
        uint8_t kind;
        uint8_t c = b[i];
        if (c == '"') {
            /* The next quote is this one (only `":` lay between): the one after it ends it. */
            if (k + 3 >= nq) return refused;
            i = (size_t)q[k + 3] + 1;
            k += 4;
            kind = CUSTODY_JSON_STRING;
        } else {
            k += 2;
            if (c == '-' || is_digit(c)) {
                i = number_end(b, i, n);
                if (i == 0) return refused;
                kind = CUSTODY_JSON_NUMBER;
            } else if (c == 't' && literal(b, i, n, "true", 4)) {
                i += 4;
                kind = CUSTODY_JSON_OTHER;
            } else if (c == 'f' && literal(b, i, n, "false", 5)) {
                i += 5;
                kind = CUSTODY_JSON_OTHER;
            } else if (c == 'n' && literal(b, i, n, "null", 4)) {
                i += 4;
                kind = CUSTODY_JSON_NULL;
            } else if (c == '{' || c == '[') {
                /* A nested value, skipped as the full walk skips it (JSONLineParser.nestedEnd):
                   brackets outside strings counted, kinds not matched; its strings by their
                   quotes, which pair up (no quote is escaped). Its keys are no fields. */
                size_t depth = 0;
                for (;;) {
                    if (i >= n) return refused;
                    uint8_t d = b[i];
                    if (d == '"') {
                        if (k + 1 >= nq || q[k] != i) return refused;
                        i = (size_t)q[k + 1] + 1;
                        k += 2;
                        continue;
                    }
                    if (d == '{' || d == '[') {
                        depth++;
                    } else if (d == '}' || d == ']') {
                        if (--depth == 0) break;
                    }
                    i++;
                }
                i++;
                kind = CUSTODY_JSON_OTHER;
            } else {
                return refused; /* anything invalid: the full walk */
            }
        }
        if (field >= 0) {
            uint8_t best = (uint8_t)found[field];
            if (rank == best) return refused; /* ambiguous: the full walk says so */
            if (rank < best) found[field] = rank | (uint32_t)kind << 8 | (uint32_t)start << 10 | (uint32_t)i << 21;
        }
        if (i + 1 >= n) {
            if (!(i + 1 == n && b[i] == '}')) return refused;
            custody_json_found accepted = {found[0] | (uint64_t)found[1] << 32, found[2] | CUSTODY_JSON_ACCEPTED};
            return accepted;
        }
        if (b[i] != ',') return refused;
        i++;
        /* Blanks after the comma (`, "key"`); the next key's quote must follow them. */
        while (i < n && is_blank(b[i])) i++;
    }
}

/* The end of an integer `-?(0|[1-9][0-9]*)` at b[i], or 0 if there is none (the byte after it is
   not checked). */
static inline size_t integer_end(const uint8_t *b, size_t i, size_t n) {
    if (i < n && b[i] == '-') i++;
    if (!(i < n && is_digit(b[i]))) return 0;
    if (b[i] == '0') return i + 1 < n && is_digit(b[i + 1]) ? 0 : i + 1;
    while (i < n && is_digit(b[i])) i++;
    return i;
}

/* Learns the shape of a line the walk took (`found`), if its values are strings, numbers and
   literals (`true`, `false`, `null`, kept in the skeleton as they are) and its skeleton fits:
   into templates[0], the older one moving to templates[1]. 1 if it did. */
static int learn_template(custody_json_keys *keys, const uint8_t *b, size_t n, const uint16_t *q, size_t nq, custody_json_found found) {
    if (nq < 2 || nq > 252 || q[0] != 1) return 0;
    custody_json_template learnt;
    memset(&learnt, 0, sizeof learnt);
    size_t length = 0, from = 0, k = 0;
    int literal_with_e = 0;
    uint32_t captures[3] = {(uint32_t)found.low, (uint32_t)(found.low >> 32), (uint32_t)found.high};
    for (int f = 0; f < 3; f++) {
        learnt.value_quote[f] = 255;
        learnt.number_slot[f] = 255;
        learnt.rank[f] = (uint8_t)captures[f];
    }
    for (;;) {
        /* `"key":` at q[k], q[k + 1] (the walk took the line: quotes pair up, one colon follows). */
        if (k + 1 >= nq) return 0;
        size_t value = (size_t)q[k + 1] + 2, end;
        /* Blanks after the colon stay in the skeleton (a line of this shape has them too). */
        while (value < n && is_blank(b[value])) value++;
        if (value >= n) return 0;
        if (b[value] == '"') {
            if (k + 3 >= nq || q[k + 2] != value) return 0;
            end = (size_t)q[k + 3] + 1;
            learnt.value_quotes[(k + 2) / 64] |= 1ULL << ((k + 2) % 64);
            learnt.value_quotes[(k + 3) / 64] |= 1ULL << ((k + 3) % 64);
            for (int f = 0; f < 3; f++) {
                if (learnt.rank[f] != 255 && ((captures[f] >> 10) & 0x7FF) == value) learnt.value_quote[f] = (uint8_t)(k + 2);
            }
            /* The skeleton keeps everything up to and with the opening quote, then the closing.
               Checked before each copy: a key can be longer than the whole skeleton. */
            if (length + (value + 1 - from) > CUSTODY_JSON_TEMPLATE_MAX) return 0;
            memcpy(learnt.skeleton + length, b + from, value + 1 - from);
            length += value + 1 - from;
            from = end - 1;
            k += 4;
        } else if (b[value] == 't' || b[value] == 'f' || b[value] == 'n') {
            /* A literal (the walk took the line: `true`, `false` or `null`) is left in the
               skeleton: a line of this shape has the same one there. */
            end = value + (b[value] == 'f' ? 5 : 4);
            if (b[value] != 'n') literal_with_e = 1;
            k += 2;
        } else {
            end = number_end(b, value, n);
            if (end == 0 || learnt.numbers == CUSTODY_JSON_TEMPLATE_NUMBERS) return 0;
            /* A fraction or an exponent: lines of this shape have their numbers cut out and
               checked as any JSON number, not as integers. */
            for (size_t c = value; c < end; c++) {
                if (b[c] == '.' || b[c] == 'e' || b[c] == 'E') learnt.fractions = 1;
            }
            for (int f = 0; f < 3; f++) {
                if (learnt.rank[f] != 255 && ((captures[f] >> 10) & 0x7FF) == value) learnt.number_slot[f] = learnt.numbers;
            }
            learnt.number_key_end[learnt.numbers] = (uint8_t)(k + 1);
            learnt.number_offset[learnt.numbers++] = (uint8_t)(value - (size_t)q[k + 1]);
            if (length + (value - from) > CUSTODY_JSON_TEMPLATE_MAX) return 0;
            memcpy(learnt.skeleton + length, b + from, value - from);
            length += value - from;
            from = end;
            k += 2;
        }
        if (end + 1 == n && b[end] == '}') break;
        /* `,"` (or `, "`) and the next key (anything else: the walk would not have taken the
           line). */
        if (end + 1 >= n || b[end] != ',' || k >= nq) return 0;
        size_t next = end + 1;
        while (next < n && is_blank(b[next])) next++;
        if (q[k] != next) return 0;
    }
    if (k != nq || n - from + length > CUSTODY_JSON_TEMPLATE_MAX) return 0;
    /* A shape with fractions cuts every `e` outside strings, those of `true` and `false` too. */
    if (learnt.fractions && literal_with_e) return 0;
    memcpy(learnt.skeleton + length, b + from, n - from);
    length += n - from;
    for (int f = 0; f < 3; f++) {
        /* Every captured value is a string or a number member found above. */
        if (learnt.rank[f] != 255 && learnt.value_quote[f] == 255 && learnt.number_slot[f] == 255) return 0;
    }
    learnt.length = (uint32_t)length;
    learnt.quotes = (uint32_t)nq;
    keys->templates[1] = keys->templates[0];
    keys->templates[0] = learnt;
    return 1;
}

/* Stage 1 without AVX-512: the line copied into `b` with zeros after it (so that whole blocks
   can be compared), then its quotes. */
static custody_json_found walk_portable(const uint8_t *line, size_t n, custody_json_keys *keys) {
    _Alignas(64) uint8_t b[CUSTODY_JSON_FAST_MAX + 128];
    uint16_t q[CUSTODY_JSON_FAST_MAX];
    memcpy(b, line, n);
    memset(b + n, 0, 64 + (64 - n % 64));
    size_t nq = 0;
    for (size_t i = 0; i < n; i += 64) {
        uint64_t quotes = 0, backslashes = 0;
#if defined(__x86_64__)
        for (int j = 0; j < 4; j++) {
            __m128i block = _mm_load_si128((const __m128i *)(b + i + 16 * j));
            quotes |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8('"'))) << (16 * j);
            backslashes |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8('\\'))) << (16 * j);
        }
#else
        for (int j = 0; j < 64; j++) {
            quotes |= (uint64_t)(b[i + j] == '"') << j;
            backslashes |= (uint64_t)(b[i + j] == '\\') << j;
        }
#endif
        if (backslashes) {
            const custody_json_found refused = {0, 0};
            return refused;
        }
        while (quotes) {
            q[nq++] = (uint16_t)(i + (size_t)__builtin_ctzll(quotes));
            quotes &= quotes - 1;
        }
    }
    return walk_members(b, n, q, nq, keys);
}

custody_json_found custody_json_walk_portable(const uint8_t *line, size_t length, custody_json_keys *keys) {
    if (length < 2 || length > CUSTODY_JSON_FAST_MAX) {
        const custody_json_found refused = {0, 0};
        return refused;
    }
    return walk_portable(line, length, keys);
}

#if defined(__x86_64__)

#define CUSTODY_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi2,pclmul")))

/* The bytes of the 64-byte block at `i` that lie in a line of `n` bytes, as a mask (none when the
   block starts at or past the end). */
CUSTODY_AVX512_TARGET static inline uint64_t valid_bytes(size_t n, size_t i) {
    size_t left = n > i ? n - i : 0;
    return _bzhi_u64(~0ULL, (unsigned)(left < 64 ? left : 64));
}

/* Bit i set when an odd number of bits 0...i of `x` are: inside a string, given its quotes. */
CUSTODY_AVX512_TARGET static inline uint64_t prefix_xor(uint64_t x) {
    __m128i product = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xFF), 0);
    return (uint64_t)_mm_cvtsi128_si64(product);
}

/* Lines of up to three blocks (most log lines: 100 to 192 bytes) take one unrolled path. */
#define CUSTODY_JSON_SHORT_BLOCKS 3

/* What `match_shape` carries from one block to the next. */
typedef struct {
    size_t length, quotes, digits;
    uint64_t in_value, in_string; /* all ones when the block starts inside one */
} match_state;

/* One block of `match_shape`: 0 when the line's skeleton already differs from the template's. */
CUSTODY_AVX512_TARGET __attribute__((always_inline)) static inline int match_block(
    const custody_json_template *t, const uint8_t *copy, size_t n, const uint64_t *quote_masks, const int with_numbers, size_t b,
    match_state *m) {
    const __m512i zero = _mm512_set1_epi8('0');
    const __m512i ten = _mm512_set1_epi8(10);
    const __m512i minus = _mm512_set1_epi8('-');
    size_t i = 64 * b;
    uint64_t block_quotes = quote_masks[b];
    size_t word = m->quotes / 64, shift = m->quotes % 64;
    /* The next word's bits above (shifted in two steps: no branch for a shift of 0). */
    uint64_t picked = t->value_quotes[word] >> shift | (t->value_quotes[word + 1] << 1) << (63 - shift);
    uint64_t value_quotes = _pdep_u64(picked, block_quotes);
    uint64_t values = prefix_xor(value_quotes) ^ m->in_value;
    m->in_value = (uint64_t)((int64_t)values >> 63);
    uint64_t valid = valid_bytes(n, i);
    __m512i bytes = _mm512_load_si512((const void *)(copy + i));
    uint64_t numbers = 0;
    /* Without numbers in the shape, a digit outside strings stays in the skeleton and fails
       the compare: nothing to take out. */
    if (with_numbers) {
        uint64_t strings = prefix_xor(block_quotes) ^ m->in_string;
        m->in_string = (uint64_t)((int64_t)strings >> 63);
        uint64_t numeric = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(bytes, zero), ten) | _mm512_cmpeq_epi8_mask(bytes, minus);
        if (with_numbers == 2) {
            /* Fractions and exponents: `.`, `+`, and `e` or `E` (one compare, `E | 0x20`). */
            numeric |= _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('.')) | _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('+')) |
                       _mm512_cmpeq_epi8_mask(_mm512_or_si512(bytes, _mm512_set1_epi8(0x20)), _mm512_set1_epi8('e'));
        }
        numbers = numeric & ~strings & valid;
    }
    uint64_t kept = valid & ~(values & ~value_quotes) & ~numbers;
    size_t count = (size_t)__builtin_popcountll(kept);
    m->quotes += (size_t)__builtin_popcountll(block_quotes);
    m->digits += (size_t)__builtin_popcountll(numbers);
    if (m->length + count > t->length || m->quotes > t->quotes) return 0;
    /* The kept bytes against the skeleton's next ones, in registers: stored and read back,
       a skeleton's pieces (at any offset) could not be forwarded to the wide load. A
       masked load reads nothing past the skeleton's end. */
    __mmask64 piece = count == 64 ? ~0ULL : (1ULL << count) - 1;
    __m512i shape = _mm512_maskz_loadu_epi8(piece, (const void *)(t->skeleton + m->length));
    if (_mm512_mask_cmpneq_epi8_mask(piece, _mm512_maskz_compress_epi8(kept, bytes), shape)) return 0;
    m->length += count;
    return 1;
}

/* The captures of a line of template `t`'s shape, if it has it (`copy`: the line, zero after it,
   in 64-byte blocks; `quote_masks`: each block's quotes; `q`: their positions). The line's
   skeleton is made the way `learn_template` made the template's: the contents of the string
   values taken out (their quotes picked by index with `pdep`, the bytes between them by a prefix
   xor), and every digit and `-` outside strings (with `fractions`, `.`, `+`, `e` and `E` too),
   and compared whole. With as many quotes as the template's and the same skeleton, the line is
   the template's with other quote-free, backslash-free bytes inside its string values (the line
   has no backslash) and other number bytes where its numbers were; each number slot is then
   checked (a well-formed integer, or JSON number with `fractions`, and all the bytes taken out
   lie in those slots), so the full walk takes the line with the same keys. */
CUSTODY_AVX512_TARGET __attribute__((always_inline)) static inline int match_shape(
    const custody_json_template *t, const uint8_t *copy, size_t n, const uint64_t *quote_masks, const uint16_t *q,
    custody_json_found *found, const int with_numbers, const size_t blocks) {
    match_state m = {0, 0, 0, 0, 0};
    if (blocks == CUSTODY_JSON_SHORT_BLOCKS) {
        /* Spelt out: at -O2 (as SwiftPM builds C) the loop below was unrolled in only some of the
           six copies of this path, and the others were ~7 % slower a line. */
        if (!match_block(t, copy, n, quote_masks, with_numbers, 0, &m)) return 0;
        if (!match_block(t, copy, n, quote_masks, with_numbers, 1, &m)) return 0;
        if (!match_block(t, copy, n, quote_masks, with_numbers, 2, &m)) return 0;
    } else {
        for (size_t b = 0; b < blocks; b++) {
            if (!match_block(t, copy, n, quote_masks, with_numbers, b, &m)) return 0;
        }
    }
    size_t length = m.length, quotes = m.quotes, digits = m.digits;
    if (length != t->length || quotes != t->quotes) return 0;
    /* The numbers: each slot (after its key's `":`) holds one (an integer, or with fractions any
       JSON number), followed by `,` or `}`, and they hold every byte taken out. */
    uint32_t number_captures[CUSTODY_JSON_TEMPLATE_NUMBERS];
    for (unsigned j = 0; j < t->numbers; j++) {
        size_t start = (size_t)q[t->number_key_end[j]] + t->number_offset[j];
        size_t end = with_numbers == 2 ? (start < n ? number_end(copy, start, n) : 0) : integer_end(copy, start, n);
        if (end == 0 || end >= n || (copy[end] != ',' && copy[end] != '}')) return 0;
        digits -= end - start;
        number_captures[j] = (uint32_t)CUSTODY_JSON_NUMBER << 8 | (uint32_t)start << 10 | (uint32_t)end << 21;
    }
    if (digits != 0) return 0;
    /* Each capture picked without a branch: a field that one of a file's shapes has and the
       other not (a user) made the branch a guess on every line. A template has at least two
       quotes, so q[0] and q[1] stand in for a string value it does not have. */
    uint32_t captures[3];
    for (int f = 0; f < 3; f++) {
        uint8_t v = t->value_quote[f], slot = t->number_slot[f];
        size_t at = v != 255 ? v : 0;
        uint32_t string = t->rank[f] | (uint32_t)CUSTODY_JSON_STRING << 8 | (uint32_t)q[at] << 10 | (uint32_t)(q[at + 1] + 1) << 21;
        uint32_t other = 255u | (uint32_t)CUSTODY_JSON_OTHER << 8;
        if (with_numbers && slot != 255) other = t->rank[f] | number_captures[slot];
        captures[f] = v != 255 ? string : other;
    }
    found->low = captures[0] | (uint64_t)captures[1] << 32;
    found->high = captures[2] | CUSTODY_JSON_ACCEPTED;
    return 1;
}

/* `match_shape` for a shape with numbers (fractions or exponents among them, or integers only)
   and (a separate copy, without the number masks, on the usual path) for one without. */
CUSTODY_AVX512_TARGET __attribute__((always_inline)) static inline int match_template(
    const custody_json_template *t, const uint8_t *copy, size_t n, const uint64_t *quote_masks, const uint16_t *q,
    custody_json_found *found, const size_t blocks) {
    if (t->numbers && t->fractions) return match_shape(t, copy, n, quote_masks, q, found, 2, blocks);
    if (t->numbers) return match_shape(t, copy, n, quote_masks, q, found, 1, blocks);
    return match_shape(t, copy, n, quote_masks, q, found, 0, blocks);
}

/* The walk over `blocks` 64-byte blocks (those past the line's end are empty). Called with a
   constant for the usual lengths, so that its loops are unrolled: a loop ending after two blocks
   on some lines and three on others, and a template picked by a branch on the line's quote count,
   were branches the predictor missed on lines of two shapes in no order (a user or none). */
CUSTODY_AVX512_TARGET __attribute__((always_inline))
static inline custody_json_found walk_blocks(const uint8_t *line, size_t n, custody_json_keys *keys, const size_t blocks) {
    /* Room for a whole block's 64 positions written past the last quote. */
    uint16_t q[CUSTODY_JSON_FAST_MAX + 64];
    /* The line again, zero after its end, and each block's quotes, for the templates. */
    _Alignas(64) uint8_t copy[CUSTODY_JSON_FAST_MAX + 64];
    uint64_t quote_masks[CUSTODY_JSON_FAST_MAX / 64 + 1];
    const __m512i quote = _mm512_set1_epi8('"');
    const __m512i backslash = _mm512_set1_epi8('\\');
    const __m512i offsets = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34,
        33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2,
        1, 0);
    size_t nq = 0;
    uint64_t backslashes = 0;
    for (size_t b = 0; b < blocks; b++) {
        size_t i = 64 * b;
        /* A masked load reads nothing past the line and zeroes the rest of the block. */
        __m512i block = _mm512_maskz_loadu_epi8(valid_bytes(n, i), (const void *)(line + i));
        _mm512_store_si512((void *)(copy + i), block);
        backslashes |= _mm512_cmpeq_epi8_mask(block, backslash);
        uint64_t quotes = _mm512_cmpeq_epi8_mask(block, quote);
        quote_masks[b] = quotes;
        /* The quotes' offsets in the block, packed to the front in one instruction (no loop
           over the bits, whose exit the branch predictor would miss every block), then
           widened to line positions. */
        __m512i packed = _mm512_maskz_compress_epi8(quotes, offsets);
        __m512i base = _mm512_set1_epi16((short)i);
        _mm512_storeu_si512((void *)(q + nq), _mm512_add_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(packed)), base));
        unsigned count = (unsigned)__builtin_popcountll(quotes);
        if (__builtin_expect(count > 32, 0)) {
            __m256i high = _mm512_extracti64x4_epi64(packed, 1);
            _mm512_storeu_si512((void *)(q + nq + 32), _mm512_add_epi16(_mm512_cvtepu8_epi16(high), base));
        }
        nq += count;
    }
    if (backslashes) {
        const custody_json_found refused = {0, 0};
        return refused;
    }
    /* The usual line has the shape of one of the last lines: checked whole, not key by key. The
       template with the line's quote count is tried first, picked without a branch. */
    custody_json_found found;
    if (keys->template_pause == 0) {
        size_t first = keys->templates[0].quotes != nq;
        const custody_json_template *t = &keys->templates[first];
        if (t->length != 0 && t->quotes == nq && match_template(t, copy, n, quote_masks, q, &found, blocks)) {
            keys->template_misses = 0;
            return found;
        }
        /* Both templates with as many quotes (the first one tried was templates[0]). */
        t = &keys->templates[1];
        if (first == 0 && t->length != 0 && t->quotes == nq && match_template(t, copy, n, quote_masks, q, &found, blocks)) {
            keys->template_misses = 0;
            return found;
        }
    } else {
        keys->template_pause--;
    }
    found = walk_members(line, n, q, nq, keys);
    if (found.high & CUSTODY_JSON_ACCEPTED) {
        if (keys->template_pause > 0) {
            /* Shapes change too often here to be worth learning: neither matched nor learnt. */
        } else if (keys->learn_pause > 0) {
            keys->learn_pause--;
        } else if (!learn_template(keys, line, n, q, nq, found)) {
            keys->learn_pause = 64;
        } else if (++keys->template_misses >= CUSTODY_JSON_TEMPLATE_MISS_LIMIT) {
            /* Shape after shape learnt, and none matched since: leave the templates alone. */
            keys->template_misses = 0;
            keys->template_pause = CUSTODY_JSON_TEMPLATE_PAUSE_LINES;
        }
    }
    return found;
}

CUSTODY_AVX512_TARGET __attribute__((always_inline))
static inline custody_json_found walk_avx512(const uint8_t *line, size_t n, custody_json_keys *keys) {
    if (n <= 64 * CUSTODY_JSON_SHORT_BLOCKS) return walk_blocks(line, n, keys, CUSTODY_JSON_SHORT_BLOCKS);
    return walk_blocks(line, n, keys, (n + 63) / 64);
}

/* Parser threads ask at once: the flag is read and written atomically (every thread computes
   the same answer, so a race only repeats the question). */
static int avx512_available(void) {
    static int available = -1;
    int known = __atomic_load_n(&available, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") &&
                __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("pclmul");
        __atomic_store_n(&available, known, __ATOMIC_RELAXED);
    }
    return known;
}

int custody_json_walk_available(void) { return avx512_available(); }

custody_json_found custody_json_walk(const uint8_t *line, size_t length, custody_json_keys *keys) {
    if (length < 2 || length > CUSTODY_JSON_FAST_MAX) {
        const custody_json_found refused = {0, 0};
        return refused;
    }
    if (avx512_available()) return custody_json_walk_avx512(line, length, keys);
    return walk_portable(line, length, keys);
}

/* The AVX-512 walk compiled into its entry point (one call a line, not two). */
CUSTODY_AVX512_TARGET custody_json_found custody_json_walk_avx512(const uint8_t *line, size_t length, custody_json_keys *keys) {
    if (length < 2 || length > CUSTODY_JSON_FAST_MAX) {
        const custody_json_found refused = {0, 0};
        return refused;
    }
    return walk_avx512(line, length, keys);
}

#else

custody_json_found custody_json_walk_avx512(const uint8_t *line, size_t length, custody_json_keys *keys) {
    return custody_json_walk_portable(line, length, keys);
}


int custody_json_walk_available(void) { return 0; }

custody_json_found custody_json_walk(const uint8_t *line, size_t length, custody_json_keys *keys) {
    return custody_json_walk_portable(line, length, keys);
}

#endif
