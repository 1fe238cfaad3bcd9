/* Claims files (appliance-claims-1, docs/claims.md): what a published document claims, in the
 * appliance's own names. report/ owns the format: its schema (claims.schema.json), its size
 * limit and the checks below, the structural one, the one against the source text and the one
 * against the measurements that exist. */
#ifndef AP_REPORT_CLAIMS_H
#define AP_REPORT_CLAIMS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../core/error.h"
#include "../core/hash.h"

#define AP_CLAIMS_SCHEMA "appliance-claims-1"
/* The largest claims file read, and the largest source document. */
#define AP_CLAIMS_MAX (UINT64_C(4) << 20)
#define AP_CLAIMS_SOURCE_MAX (UINT64_C(16) << 20)
/* Characters of a claim, untestable or section id ([a-z0-9._-]). */
#define AP_CLAIMS_ID_MAX 64
/* Subjects of one claim (pairs count as one each). */
#define AP_CLAIMS_SUBJECTS_MAX 64

enum ap_claim_kind {
    AP_CLAIM_VALUE,
    AP_CLAIM_RANGE,
    AP_CLAIM_RATIO,
    AP_CLAIM_BOUND,
    AP_CLAIM_ORDERING,
};

/* What the subjects name: one figure, a ratio of two, several pairs, several figures. */
enum ap_claim_shape {
    AP_CLAIM_SUBJECT,  /* subject */
    AP_CLAIM_FRACTION, /* numerator and denominator */
    AP_CLAIM_PAIRS,    /* pairs with aggregate */
    AP_CLAIM_SUBJECTS, /* subjects (aggregate each, or an ordering) */
};

enum ap_claim_aggregate {
    AP_CLAIM_AGG_NONE,
    AP_CLAIM_AGG_GEOMEAN,
    AP_CLAIM_AGG_EACH,
};

enum ap_claim_transfer {
    AP_CLAIM_PORTABLE,           /* portable: true */
    AP_CLAIM_TRANSFER_NONE,      /* portable: false, rule none: not comparable */
    AP_CLAIM_TRANSFER_REFERENCE, /* portable: false, rule scale-by-reference */
};

/* One claim. Strings point into the claims document. */
struct ap_claim {
    const char *id, *section, *where, *quote, *note, *not_reproducible; /* NULL when absent */
    int occurrence;                                                     /* 1 = the first */
    enum ap_claim_kind kind;
    const char *metric; /* NULL for a text value (param) and may be for not_reproducible */
    const char *param;  /* a text value: the params member compared ("version"), or NULL */
    enum ap_claim_shape shape;
    enum ap_claim_aggregate aggregate;
    /* The figures: num[i] alone (den[i] NULL) or the ratio num[i] / den[i]. */
    const char *num[AP_CLAIMS_SUBJECTS_MAX];
    const char *den[AP_CLAIMS_SUBJECTS_MAX];
    size_t n;
    /* published, in unit (NULL for an ordering or a text) */
    const char *unit;
    double value;         /* value and ratio */
    double low, high;     /* range */
    int has_upper;        /* bound: 1 upper, 0 lower */
    double bound;         /* bound */
    int descending;       /* ordering */
    const char *text;     /* text value */
    int prefix;           /* text value: match prefix (else exact) */
    double tolerance_pct; /* the claim's own, or the default the kind takes */
    enum ap_claim_transfer transfer;
    const char *reference; /* scale-by-reference: the reference subject */
    double reference_published;
    double scale;      /* 1 without scale */
    const cJSON *json; /* the claim's object */
};

struct ap_claims_untestable {
    const char *id, *section, *where, *quote, *reason;
};

/* A loaded and checked claims file. Owns the parsed document. */
struct ap_claims {
    cJSON *doc;
    char sha256[AP_SHA256_HEX_LEN + 1]; /* of the file's bytes */
    const char *title, *url, *date, *document, *source_sha256;
    double default_tolerance_pct;
    const cJSON *sections; /* the array */
    struct ap_claim *claims;
    size_t n_claims;
    struct ap_claims_untestable *untestable;
    size_t n_untestable;
};

/* Parses and checks len bytes of a claims file; `what` names it in errors (its path). Every
 * error names the file, the claim (or entry) and the field, and says how to fix it. On success
 * *out is filled (free with ap_claims_free). */
int ap_claims_parse(const char *buf, size_t len, const char *what, struct ap_claims *out,
                    ap_error **err);

/* Reads path (at most AP_CLAIMS_MAX bytes) and parses it as ap_claims_parse does. */
int ap_claims_load(const char *path, struct ap_claims *out, ap_error **err);

void ap_claims_free(struct ap_claims *c);

/* The source check: text (len bytes) is the document the quotes were read from. Its sha256
 * must be source.sha256 and every quote of a claim and of an untestable entry must occur in it
 * at least `occurrence` times. `what` names the text in errors. */
int ap_claims_check_source(const struct ap_claims *c, const char *text, size_t len,
                           const char *what, ap_error **err);

/* A measurement that exists (in a results document, or that a plan makes), with its metrics'
 * names. Strings borrowed. */
struct ap_claims_measurement {
    const char *id;
    const char *const *metrics; /* n_metrics names */
    size_t n_metrics;
    const cJSON *params; /* may be NULL */
};

/* Checks every claim that is not declared not reproducible against a list of measurements:
 * each subject (and reference) must be one of them, with the claim's metric among its metrics
 * (a text value: params holding the param, when params are given). Fails on the first that
 * is not, naming the claim, the subject and the metric. */
int ap_claims_check_measurements(const struct ap_claims *c, const struct ap_claims_measurement *m,
                                 size_t n, ap_error **err);

/* The same check against a results document's measurements. */
int ap_claims_check_results(const struct ap_claims *c, const cJSON *results, ap_error **err);

/* The measurement ids the claims need, each once, in the order the claims first name them
 * (claims declared not reproducible need none): a NULL-terminated array of pointers into the
 * claims document, owned by the caller (free the array only). *n gets the count. NULL when out
 * of memory. */
const char **ap_claims_needed(const struct ap_claims *c, size_t *n);

/* "value", "range", "ratio", "bound", "ordering". */
const char *ap_claims_kind_name(enum ap_claim_kind k);

/* The factor from unit to its group's base (seconds, bytes, req/s, counts), and the group
 * (1 time, 2 bytes, 3 rate, 4 count, 5 ratio "x"; CPUs and bool 6 and 7). 0 for a unit none of
 * those. The metric units of results and the published units of claims share it. */
int ap_claims_unit(const char *unit, double *factor);

#endif
