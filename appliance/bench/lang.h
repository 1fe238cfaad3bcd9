/* The lang suite's probes' outputs: what a language's runtime in an image says about itself
 * (its version, its keyword lists, the stack memory of blocked goroutines), read from the
 * standard output of a probe run in the image. Pure: no I/O. */
#ifndef AP_BENCH_LANG_H
#define AP_BENCH_LANG_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Most numbers a version part may have, words a keyword line may hold, bytes a word may have. */
#define AP_LANG_VERSION_DIGITS 6
#define AP_LANG_MAX_WORDS 256
#define AP_LANG_MAX_WORD 32

/* A version as a runtime reports it. */
struct ap_lang_version {
    unsigned major, minor, patch;
    char text[3 * AP_LANG_VERSION_DIGITS + 3]; /* "1.23.4" */
};

/* Reads the one line `out` (len bytes; a final newline is allowed) a version probe printed:
 * Go's runtime.Version() ("go1.23.4", perhaps followed by a space and more, " X:exp") or the
 * Python probe's "3.13.3 final 0": an optional "go", three decimal numbers MAJOR.MINOR.PATCH
 * (each 1 to AP_LANG_VERSION_DIGITS digits), then the end of the line or a space and printable
 * text. Returns 0 with v filled, or -1 with why. */
int ap_lang_parse_version(const char *out, size_t len, struct ap_lang_version *v, char *why,
                          size_t wlen);

/* Reads a keyword probe's output: one line of keywords, then optionally a second line of soft
 * keywords (Python's keyword.softkwlist; it may be empty), each line ending in a newline and
 * holding words separated by single spaces. A word is an identifier ([A-Za-z_][A-Za-z0-9_]*,
 * at most AP_LANG_MAX_WORD bytes) used once in the whole output; the first line holds at least
 * one. Returns the number of lines (1 or 2) with *keywords and (for 2) *soft new arrays of the
 * words in order, owned by the caller; or -1 with why and nothing allocated. */
int ap_lang_parse_keywords(const char *out, size_t len, cJSON **keywords, cJSON **soft, char *why,
                           size_t wlen);

/* The figures of `lang stack N`, before and after N goroutines were started and blocked. */
struct ap_lang_stack {
    int64_t goroutines; /* how many more goroutines the runtime counted */
    int64_t stack_inuse_before, stack_inuse_after; /* runtime.MemStats.StackInuse, bytes */
    int64_t private_before, private_after;         /* the process's Private_Clean + Private_Dirty */
};

/* Reads `lang stack N`'s output: the five lines "goroutines", "stack_inuse_before",
 * "stack_inuse_after", "private_before" and "private_after", each once, each "name value\n"
 * with a decimal value; goroutines must be `n` (every goroutine started is counted) and neither
 * figure may shrink. Returns 0 with s filled, or -1 with why. */
int ap_lang_parse_stack(const char *out, size_t len, int64_t n, struct ap_lang_stack *s, char *why,
                        size_t wlen);

#endif
