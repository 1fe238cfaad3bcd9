/* Verdicts: a claims file judged against a run's results (docs/claims.md, "How a verdict is
 * reached"). A pure function of (claims, results): no I/O, no clock, no randomness but the
 * bootstrap's generator, seeded from the claim's id, so that judging twice gives the same
 * verdicts file byte for byte. */
#ifndef AP_REPORT_VERDICT_H
#define AP_REPORT_VERDICT_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../core/error.h"
#include "claims.h"

#define AP_VERDICTS_SCHEMA "appliance-verdicts-1"
/* False-discovery control across a claims file (Benjamini-Hochberg). */
#define AP_VERDICT_FDR_Q 0.05
#define AP_VERDICT_BOOTSTRAP 10000
/* More machine types than this in one results file are refused (a campaign has at most 64
 * shards, each on one machine). */
#define AP_VERDICT_MACHINES_MAX 64

enum ap_verdict_kind {
    AP_VERDICT_HOLDS,
    AP_VERDICT_CONTRADICTED,
    AP_VERDICT_INCONCLUSIVE,
    AP_VERDICT_NOT_COMPARABLE,
    AP_VERDICT_NOT_REPRODUCIBLE,
};
#define AP_VERDICT_KINDS 5

/* The rule that decided, in the order they are tried. */
enum ap_verdict_rule {
    AP_RULE_NOT_REPRODUCIBLE = 1,
    AP_RULE_NOT_COMPARABLE,
    AP_RULE_STATUS,
    AP_RULE_HOLDS,
    AP_RULE_CONTRADICTED,
    AP_RULE_STRADDLES,
    AP_RULE_FDR,
};

/* An interval of a measured quantity, in the verdict's unit. NaN where unknown. */
struct ap_verdict_interval {
    double value, low, high, coverage;
    const char *how; /* static: "exact: ...", "bootstrap: ...", "counted: ..." or NULL */
};

/* One figure or ratio of an `each` or `ordering` claim, judged on its own. */
struct ap_verdict_part {
    const char *num, *den; /* into the claims document; den NULL for a figure */
    struct ap_verdict_interval m;
    enum ap_verdict_rule rule; /* AP_RULE_HOLDS, _CONTRADICTED or _STRADDLES */
    double p;
};

struct ap_verdict {
    const struct ap_claim *claim;
    const char *machine; /* the machine type judged on ("m1"); NULL with one machine type */
    enum ap_verdict_kind verdict;
    enum ap_verdict_rule rule;
    char why[512];
    const char *unit;                    /* of band, measured and judged_published (NULL: none) */
    double band_low, band_high;          /* high may be INFINITY; NaN when not judged */
    double judged_published;             /* the published value judged (scaled), NaN when none */
    struct ap_verdict_interval measured; /* value NaN when nothing was measured */
    const char *measured_text;           /* a text value's measured text, or NULL */
    double measured_over_published;      /* NaN when none */
    int discovery;                       /* holds or contradicted before false-discovery control */
    double p, q;                         /* NaN unless discovery */
    struct ap_verdict_part *parts;
    size_t n_parts;
    char published_text[96], measured_display[160]; /* for the terminal */
};

/* A machine type of merged results (environment.machines, written by appliance merge): its
 * id, CPU model and kernel point into the results. */
struct ap_verdict_machine {
    const char *id, *cpu_model, *kernel;
    size_t m;                        /* its discoveries tested by Benjamini-Hochberg */
    size_t counts[AP_VERDICT_KINDS]; /* its verdicts, by enum ap_verdict_kind */
};

struct ap_verdicts {
    /* One per claim, in the claims file's order; with several machine types, one per claim and
     * machine type: claim by claim, each on every machine in the order of machines. */
    struct ap_verdict *v;
    size_t n;
    size_t m;                        /* discoveries tested by Benjamini-Hochberg (all machines) */
    size_t counts[AP_VERDICT_KINDS]; /* by enum ap_verdict_kind (all machines) */
    struct ap_verdict_machine *machines; /* NULL with one machine type */
    size_t n_machines;                   /* 0 with one machine type, else 2 or more */
};

/* The machine types of results: 0 with *n = 0 (and *out NULL) when the results list fewer than
 * two (environment.machines absent, or one entry) and no measurement names a machine; else
 * every listed machine, in the order of environment.machines, as a heap array (free it). Each
 * measurement must then name one of them in "machine". -1 with *err when the results are not
 * of this shape: a measurement naming a machine with fewer than two machine types listed, a
 * measurement naming none or an unlisted one, a malformed or repeated entry, more than
 * AP_VERDICT_MACHINES_MAX. A machine listed with no measurement is no error: every claim on
 * it is not reproducible here. */
int ap_verdict_machines(const cJSON *results, struct ap_verdict_machine **out, size_t *n,
                        ap_error **err);

/* Judges every claim of c against results (a checked results document). A subject missing
 * from the results is a verdict (not reproducible here); a metric its measurement lacks, or a
 * published unit its metric's unit cannot convert to, is an error naming the claim. With two
 * or more machine types (ap_verdict_machines), every claim is judged once on each machine's
 * measurements alone, and false-discovery control runs within each machine's verdicts.
 * Strings of *out point into c and results: keep both alive. Free with ap_verdicts_free. */
int ap_verdict_judge(const struct ap_claims *c, const cJSON *results, struct ap_verdicts *out,
                     ap_error **err);
void ap_verdicts_free(struct ap_verdicts *v);

/* "holds", "contradicted", "inconclusive", "not comparable", "not reproducible here". */
const char *ap_verdict_name(enum ap_verdict_kind k);
/* The rule's text as the verdicts file records it ("contradicted: the interval lies wholly
 * outside the band"). */
const char *ap_verdict_rule_text(enum ap_verdict_rule r);

/* Where the verdicts come from, for the document. */
struct ap_verdict_inputs {
    const char *claims_name;    /* the claims file's name (no directory) */
    const char *results_sha256; /* hex, of the results.json bytes */
    int source_checked;         /* the source text was found and checked */
};

/* The verdicts document (appliance-verdicts-1, verdicts.schema.json); with several machine
 * types it also lists them ("machines", each with its counts) and each verdict names its
 * machine; with one, it is what it was before machine types. The caller owns it; NULL when
 * out of memory. */
cJSON *ap_verdict_document(const struct ap_claims *c, const cJSON *results,
                           const struct ap_verdicts *v, const struct ap_verdict_inputs *in);

/* The measurement of results with this id, or NULL. */
const cJSON *ap_verdict_find(const cJSON *results, const char *id);
/* The same on one machine type: the measurement with this id whose "machine" is machine; with
 * machine NULL, the first with this id (ap_verdict_find). */
const cJSON *ap_verdict_find_on(const cJSON *results, const char *id, const char *machine);

/* The samples a metric's statistics were computed from: every sample but those flagged noisy,
 * unless include_noisy. Writes at most max into out and returns how many there are. */
size_t ap_verdict_counted(const cJSON *metric, int include_noisy, double *out, size_t max);

/* One-sided upper tail of Student's t: P(T >= t) with df degrees of freedom (df > 0, not
 * necessarily whole). Exposed for the tests. */
double ap_verdict_t_upper(double t, double df);

/* The percentile-bootstrap interval of the geometric mean of the ratios of medians of pairs
 * (a[i], b[i]), na[i] and nb[i] samples each, resamples times, with splitmix64 seeded by
 * seed. Exposed for the tests. Returns 0, or -1 (ENOMEM). */
int ap_verdict_bootstrap(const double *const *a, const size_t *na, const double *const *b,
                         const size_t *nb, size_t k, uint64_t seed, size_t resamples, double *lo,
                         double *hi);

/* FNV-1a (64-bit) of s: the bootstrap's seed for a claim id. */
uint64_t ap_verdict_fnv1a(const char *s);

#endif
