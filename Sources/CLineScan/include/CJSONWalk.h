#ifndef CUSTODY_CJSONWALK_H
#define CUSTODY_CJSONWALK_H

#include <stddef.h>
#include <stdint.h>

/// The longest line (in bytes) the structural walk takes; longer lines go the full walk.
#define CUSTODY_JSON_FAST_MAX 1024
/// The longest field name the key table holds.
#define CUSTODY_JSON_KEY_MAX 32
/// Slots of the key table (a power of two); at most half of them are used.
#define CUSTODY_JSON_KEY_SLOTS 64

/// One field name: its bytes zero-padded to four words, its length (0 for an empty slot), which
/// field it names (0 timestamp, 1 user, 2 event) and its rank in the policy's list.
typedef struct {
    uint64_t words[4];
    uint32_t length;
    uint8_t field;
    uint8_t rank;
} custody_json_key;

/// A key of at most 16 bytes seen at one position of the object (its first, second, … key),
/// with what the table said about it: log lines repeat their keys in the same order, or in a
/// few orders (two are kept per position).
typedef struct {
    uint64_t words[2];
    uint32_t length;
    uint8_t field; /* 255: no field */
    uint8_t rank;
} custody_json_guess;

#define CUSTODY_JSON_GUESSES 16

/// The longest skeleton a template holds (see custody_json_template).
#define CUSTODY_JSON_TEMPLATE_MAX 256

/// Number members a template holds at most.
#define CUSTODY_JSON_TEMPLATE_NUMBERS 8

/// The shape of a line whose every value is a string, a number or a literal (`true`, `false`,
/// `null`; not both `true`/`false` and numbers with fractions), learnt from a line the walk took:
/// its skeleton is the line without the contents of its string values and without its numbers
/// (`{"ts":"","n":,"ok":true,"event":""}`), `quotes` the number of its quotes, `value_quotes` a
/// bit per quote index (from 0) for the quotes of string values. A line with as many quotes and,
/// once the same contents and every digit and `-` outside strings (and `.`, `+`, `e`, `E` when
/// the shape has `fractions`) are taken out, the same skeleton, whose numbers are where the
/// template's were and well formed, has the same keys in the same order with the same kinds of
/// values, so the same fields: `value_quote[f]` is the index of field f's string value's opening
/// quote (255: none), `number_slot[f]` the index in `number_key_end` of its number member (255:
/// none), whose key's closing quote index that array holds; `rank[f]` its rank. `length` 0: none
/// learnt.
typedef struct {
    uint8_t skeleton[CUSTODY_JSON_TEMPLATE_MAX];
    uint64_t value_quotes[5]; /* the fifth is always zero (read past the last quote's word) */
    uint32_t length;
    uint32_t quotes;
    uint8_t numbers;
    /// Whether a number of the learnt line had a fraction or an exponent: then every number slot
    /// takes any JSON number, and `.`, `+`, `e` and `E` outside strings are cut out with the
    /// digits and `-`; otherwise only integers.
    uint8_t fractions;
    uint8_t number_key_end[CUSTODY_JSON_TEMPLATE_NUMBERS];
    /// Bytes from each number member's key's closing quote to the number: 2 for `":5`, more
    /// with blanks after the colon (`": 5`).
    uint8_t number_offset[CUSTODY_JSON_TEMPLATE_NUMBERS];
    uint8_t value_quote[3];
    uint8_t number_slot[3];
    uint8_t rank[3];
} custody_json_template;

/// The policy's field names, looked up by a hash of their first word and length, and the keys
/// of the last line walked by position, and the shapes of the last two lines with only string,
/// number and literal values. One per
/// parser: the walk updates the guesses and the templates.
typedef struct {
    custody_json_key slots[CUSTODY_JSON_KEY_SLOTS];
    uint32_t used;
    custody_json_guess guesses[CUSTODY_JSON_GUESSES][2];
    custody_json_template templates[2];
    /// Lines taken by the member walk still to go before learning a shape is tried again, after
    /// a line whose shape could not be learnt (floats, literals, a long skeleton): such a file
    /// would otherwise try on every line.
    uint32_t learn_pause;
    /// Shapes learnt since a template last matched a line, and lines still to go without trying
    /// the templates: in a file whose lines change shape from line to line (keys in any order,
    /// members present or not), every line learnt a shape that the next line did not have, and
    /// paid for two failed matches, the walk and the learning.
    uint32_t template_misses;
    uint32_t template_pause;
} custody_json_keys;

/// Value kinds as the walk reports them (JSONLineParser's `Kind` has the same raw values).
enum {
    CUSTODY_JSON_STRING = 0,
    CUSTODY_JSON_NUMBER = 1,
    CUSTODY_JSON_NULL = 2,
    CUSTODY_JSON_OTHER = 3,
};

/// What the walk found, in two words so that it comes back in registers (the fields read from a
/// struct in memory right after the call waited for its stores). For each field f (0 timestamp,
/// 1 user, 2 event) a 32-bit capture, the low half of `low` for f = 0, the high half of `low`
/// for f = 1, the low half of `high` for f = 2, of the best-ranked value: its rank in bits 0–7
/// (255: the line has no key naming the field), its kind in bits 8–9, and the line's
/// `start..<end` (a string's quotes included) in bits 10–20 and 21–31. Bit 32 of `high` is set
/// when the walk took the line (CUSTODY_JSON_ACCEPTED).
typedef struct {
    uint64_t low;
    uint64_t high;
} custody_json_found;

#define CUSTODY_JSON_ACCEPTED (1ULL << 32)

/// Empties the table.
void custody_json_keys_init(custody_json_keys *keys);

/// Adds a field name; a name already in the table keeps its first listing. Returns 0 when the
/// table cannot take it (a name longer than CUSTODY_JSON_KEY_MAX, or the table half full): the
/// caller must then not use the walk, which would miss that name. Empty names are ignored (no
/// key matches them). Returns 1 otherwise.
int custody_json_keys_add(custody_json_keys *keys, const uint8_t *name, size_t length, uint8_t field, uint8_t rank);

/// The structural walk of one JSON-lines record: a quote mask of the whole line (64 bytes a
/// compare), then the members read off the quotes' positions. Handles the usual shape only: one
/// object of string, number, `true`/`false`/`null` members, no whitespace between tokens, no
/// backslash anywhere, no nested values, no key naming a field twice, at most
/// CUSTODY_JSON_FAST_MAX bytes. For such a line it returns what the full walk would capture
/// (`JSONLineParser.walkObject`) with CUSTODY_JSON_ACCEPTED set; for anything else that bit is
/// clear and the caller walks the line in full (which also gives any rejection's cause). It
/// never accepts a line the full walk rejects.
custody_json_found custody_json_walk(const uint8_t *line, size_t length, custody_json_keys *keys);

/// Whether custody_json_walk has its fast form here (x86-64 with AVX-512 BW and VBMI2). Without
/// it the walk still answers (portably), but more slowly than JSONLineParser's own walk: callers
/// use it only where this is 1.
int custody_json_walk_available(void);

/// custody_json_walk where custody_json_walk_available() is 1 (the caller asked once): the
/// AVX-512 walk without the question and the second call per line. Elsewhere the portable walk.
custody_json_found custody_json_walk_avx512(const uint8_t *line, size_t length, custody_json_keys *keys);
/// custody_json_walk without AVX-512, so tests can check both paths on one machine.
custody_json_found custody_json_walk_portable(const uint8_t *line, size_t length, custody_json_keys *keys);

#endif
