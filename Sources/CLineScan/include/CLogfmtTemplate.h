#ifndef CUSTODY_CLOGFMTTEMPLATE_H
#define CUSTODY_CLOGFMTTEMPLATE_H

#include <stddef.h>
#include <stdint.h>

/// Lines of at most this many bytes (three 64-byte blocks) can match a logfmt template.
#define CUSTODY_LOGFMT_TEMPLATE_LINE_MAX 192

/// One learnt line shape: the line's skeleton (its keys, each with its `=`, the single spaces
/// between pairs and the quotes of quoted values; the values' bytes cut out) and which pair holds
/// the timestamp, the user and the event (`LogfmtParser`'s three fields).
typedef struct {
    /// The skeleton, zero after `length` (64 spare bytes: a block's compare loads 64 bytes from
    /// where the blocks before it ended, anywhere up to the line limit).
    uint8_t skeleton[CUSTODY_LOGFMT_TEMPLATE_LINE_MAX + 64];
    /// Skeleton bytes; 0 for no template (no line's skeleton is empty).
    uint32_t length;
    /// Pairs in the line.
    uint32_t pairs;
    /// For fields 0 (timestamp), 1 (user) and 2 (event): the pair holding the field's value
    /// (from 0), or -1 when no pair of the line names the field.
    int32_t pair[3];
    /// Whether that pair's value is quoted.
    uint8_t quoted[3];
} custody_logfmt_template;

/// A parser's two most recent templates (a file's lines often come in two shapes: with a user
/// and without) and the state that stops learning on files whose lines keep changing shape.
typedef struct {
    custody_logfmt_template templates[2];
    /// Lines offered to custody_logfmt_learn since a template last matched.
    uint32_t misses;
    /// Lines left before templates are tried again (after too many misses in a row).
    uint32_t pause;
} custody_logfmt_templates;

/// Set in custody_logfmt_match's answer when a template matched.
#define CUSTODY_LOGFMT_MATCHED (1ULL << 63)
/// A field's 16 bits in custody_logfmt_match's answer when the line has no such field.
#define CUSTODY_LOGFMT_ABSENT 0xFFFFULL

/// Empties the templates.
void custody_logfmt_templates_init(custody_logfmt_templates *templates);

/// Whether the templates work here (x86-64 with AVX-512 BW and VBMI2, BMI2 and PCLMUL): where this
/// is 0, custody_logfmt_match never matches and custody_logfmt_learn never learns.
int custody_logfmt_templates_available(void);

/// Whether line[0..<length] has the shape of one of the templates. For a line of a template's
/// shape, `LogfmtParser`'s pair loop would find the same keys in the same order, each value bare
/// or quoted as in the template's line, no escapes, no flags and nothing rejected: then the answer
/// has CUSTODY_LOGFMT_MATCHED set and, for field f (0 timestamp, 1 user, 2 event), in bits
/// 16f..<16f+16, the value's start (low byte) and end (high byte) in the line, quotes excluded, or
/// CUSTODY_LOGFMT_ABSENT. Otherwise the answer is 0, and the caller parses the line in full.
/// Also counts down a pause. Call only where custody_logfmt_templates_available() is 1.
uint64_t custody_logfmt_match(const uint8_t *line, size_t length, custody_logfmt_templates *templates);

/// Learns the shape of a line the pair loop read without rejecting it and that matched no
/// template: `starts[f]` is where the winning value of field f starts in the line (after its
/// opening quote if quoted), or -1 for none. Lines of no simple shape (tabs, backslashes, flags,
/// blanks other than single spaces between pairs, quotes anywhere but around a whole value, over
/// CUSTODY_LOGFMT_TEMPLATE_LINE_MAX bytes) are not learnt. After too many lines offered without a
/// match in between, learnt or not, templates pause for a while. Returns 1 if it learnt the line.
int custody_logfmt_learn(const uint8_t *line, size_t length, const int32_t *starts, custody_logfmt_templates *templates);

#endif
