/* Comparing two runs of appliance bench (results files or result archives): per measurement
 * (matched by id) and per metric present in both, the change of the median and whether the
 * raw samples show it to be significant.
 *
 * The rule, applied to every metric:
 * - Measurements of the size suite are counted, not sampled (one exact figure per run): any
 *   difference is a change ("exact" test, no p-value).
 * - Both sides with at least AP_COMPARE_MWU_MIN_N samples: Mann-Whitney U, two-sided (exact
 *   null distribution when there are no ties and both sides are smaller than
 *   AP_COMPARE_EXACT_MAX_N; otherwise the normal approximation with tie and continuity
 *   corrections). It assumes nothing of the shape of the distribution, and timings are skewed.
 * - Both sides with 2 to AP_COMPARE_MWU_MIN_N - 1 samples: Welch's t-test, two-sided. Few
 *   samples leave Mann-Whitney no power: its smallest two-sided p is 2 / C(na + nb, na), 0.1
 *   for 3 against 3, so it could never reject at 0.05.
 * - A side with a single sample: no test ("too few samples"), never significant.
 * Both p-values are reported whenever both sides have at least 2 samples; the rule says which
 * one decides.
 *
 * Significance is judged across the whole comparison, not per row: the m rows decided by a
 * test get Benjamini-Hochberg adjusted p-values (report/stats.h), and a row is significant
 * when its adjusted p is at or below alpha, which keeps the expected share of false changes
 * among those called significant at alpha. Uncorrected, about alpha * m rows of two runs of
 * identical code would come out significant by chance alone. Exact rows are no tests and stay
 * out of m.
 *
 * Significance is not importance: a row (tested or exact) whose |change_pct| is below its
 * metric's minimum effect (ap_report_min_effect, or the caller's override) is "no change",
 * whatever its p. */
#ifndef AP_REPORT_COMPARE_H
#define AP_REPORT_COMPARE_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

#define AP_COMPARE_MWU_MIN_N 5
#define AP_COMPARE_EXACT_MAX_N 50
#define AP_COMPARE_ALPHA_DEFAULT 0.05
/* The largest minimum effect a caller may set, in %. */
#define AP_COMPARE_MIN_EFFECT_MAX 1000.0
/* The schema of ap_compare_to_json's object (docs/comparing.md). */
#define AP_COMPARE_SCHEMA "appliance-compare-2"
/* Two runs whose machines' chases through the caches or register loops (their
 * environment.memory_latency) are further apart than this, in %, get a warning. */
#define AP_COMPARE_STATE_PCT 25.0

/* ---- the tests: pure computation, no I/O --------------------------------------------------- */

struct ap_mann_whitney {
    double u;  /* U of the first sample: pairs (a, b) with a > b, plus half the pairs a == b */
    double z;  /* the normal approximation's z (continuity corrected, >= 0); 0 when exact */
    double p;  /* two-sided */
    int exact; /* 1: p from the exact null distribution; 0: normal approximation */
    int ties;  /* 1 when some value occurs more than once in the pooled samples */
};

/* Mann-Whitney U test of a (na values) against b (nb values), two-sided. Exact when there are
 * no ties and na, nb < AP_COMPARE_EXACT_MAX_N: p = 2 P(U <= min(U, na nb - U)), at most 1.
 * Otherwise z = (|U - na nb / 2| - 1/2) / sigma, sigma^2 = na nb / 12 ((N + 1) -
 * sum(t^3 - t) / (N (N - 1))) over the tie groups of sizes t, and p = erfc(z / sqrt 2); all
 * values equal gives p = 1. The same as scipy.stats.mannwhitneyu and R's wilcox.test.
 * Returns 0, or -1 with errno EINVAL (a side is empty or a value is not finite) or ENOMEM. */
int ap_compare_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                            struct ap_mann_whitney *out);

struct ap_welch {
    double t;  /* (mean a - mean b) / sqrt(var a / na + var b / nb) */
    double df; /* Welch-Satterthwaite degrees of freedom */
    double p;  /* two-sided, from Student's t distribution with df degrees of freedom */
};

/* Welch's unequal-variances t-test of a against b, two-sided. Both sides without spread:
 * equal means give t = 0, p = 1; different means t = +-inf, p = 0 (df = na + nb - 2).
 * Returns 0, or -1 with errno EINVAL (a side with fewer than 2 values, or a value not
 * finite). */
int ap_compare_welch(const double *a, size_t na, const double *b, size_t nb, struct ap_welch *out);

/* The regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1 (NaN
 * otherwise), by its continued fraction (modified Lentz): within about 1e-13 relative
 * (1e-14 absolute) of high-precision values for a, b from 0.1 to 3000. */
double ap_compare_betai(double a, double b, double x);

/* Two-sided p of Student's t distribution: P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2)
 * for df > 0 (non-integer df allowed); NaN when df <= 0 or t is NaN. */
double ap_compare_t_p2(double t, double df);

/* ---- comparing two results documents ------------------------------------------------------- */

enum ap_compare_test {
    AP_COMPARE_TEST_NONE,  /* too few samples */
    AP_COMPARE_TEST_EXACT, /* counted figures (size suite): any difference is a change */
    AP_COMPARE_TEST_MWU,
    AP_COMPARE_TEST_WELCH,
};

/* What a larger value of a metric means. */
enum ap_compare_kind {
    AP_COMPARE_TIME,     /* s, ms: lower is better; "faster" / "slower" */
    AP_COMPARE_RATE,     /* req/s: higher is better; "faster" / "slower" */
    AP_COMPARE_QUANTITY, /* bytes, counts, CPUs, flags: "larger" / "smaller" */
};

enum ap_compare_verdict {
    AP_COMPARE_SAME, /* no significant change, or one below the minimum effect */
    AP_COMPARE_FASTER,
    AP_COMPARE_SLOWER,
    AP_COMPARE_LARGER,
    AP_COMPARE_SMALLER,
    AP_COMPARE_TOO_FEW, /* a side has a single sample */
};

/* One metric of one measurement present in both runs. Strings point into document A. */
struct ap_compare_row {
    const char *id, *metric, *unit;
    enum ap_compare_kind kind;
    int direction; /* +1 higher is better, -1 lower is, 0 neither */
    int better;    /* +1 B is better than A, -1 worse, 0 neither (or no direction) */
    size_t na, nb;
    double median_a, median_b;
    double ratio;          /* median B / median A; NaN when median A is 0 and B is not */
    double change_pct;     /* (ratio - 1) * 100, NaN likewise */
    double p_mwu, p_welch; /* NaN when not computed */
    double u, t, df;       /* the statistics behind them (NaN when not computed) */
    int mwu_exact;
    enum ap_compare_test test; /* the test that decides */
    double p;                  /* its p, uncorrected; NaN for none and exact */
    double p_adjusted;         /* p adjusted by Benjamini-Hochberg over the comparison's tests */
    int shift;                 /* +1 B tends to be larger than A, -1 smaller, 0 neither */
    int significant_raw;       /* tested, p <= alpha */
    int significant;           /* tested: p_adjusted <= alpha; exact: the figures differ */
    double min_effect_pct;     /* the smallest |change_pct| that counts as a change */
    int reaches_min_effect;    /* |change_pct| >= min_effect_pct (a NaN change always does) */
    enum ap_compare_verdict verdict; /* a change only when significant and reaching it */
};

struct ap_compare {
    double alpha;
    struct ap_compare_row *rows; /* in the order of A's measurements and metrics */
    size_t n_rows;
    const char **only_a, **only_b; /* measurement ids in one run only (into A's, B's docs) */
    size_t n_only_a, n_only_b;
    char **warnings; /* owned: the runs differ in profile, parameters, images, machine... */
    size_t n_warnings;
    double min_effect_override; /* the caller's minimum effect for every metric, NaN: none */
    size_t n_tested;            /* m: rows decided by Mann-Whitney or Welch */
    size_t n_significant_raw;   /* of them, with p <= alpha (uncorrected) */
    size_t n_significant;       /* of them, significant after Benjamini-Hochberg at alpha */
    size_t n_changed;           /* of those, reaching the minimum effect */
    size_t n_exact;             /* exact rows (sizes): no tests, not in m */
    size_t n_exact_differ;      /* of them, whose figures differ */
    size_t n_exact_changed;     /* of those, reaching the minimum effect */
};

struct ap_compare_opts {
    double alpha;          /* false discovery rate, 0 < alpha < 1 (0: the default, 0.05) */
    int min_effect_given;  /* 1: min_effect_pct replaces every metric's minimum effect */
    double min_effect_pct; /* 0 <= pct <= AP_COMPARE_MIN_EFFECT_MAX */
    const char *metrics;   /* comma-separated metric names to compare, NULL: every one */
};

/* Compares run a (the baseline) with run b, both parsed results documents
 * (appliance-results-2 or -1). On success *out (free with ap_compare_free) borrows strings from
 * both documents: keep them alive as long as it. Returns 0, or -1 with err naming the
 * document part that is malformed. */
int ap_compare_results(const cJSON *a, const cJSON *b, const struct ap_compare_opts *o,
                       struct ap_compare **out, ap_error **err);
void ap_compare_free(struct ap_compare *c);

/* "faster", "slower", "larger", "smaller", "no change", "too few samples". */
const char *ap_compare_verdict_name(enum ap_compare_verdict v);
/* "none", "exact", "mann-whitney", "welch". */
const char *ap_compare_test_name(enum ap_compare_test t);

/* The comparison as a JSON object (schema AP_COMPARE_SCHEMA, described in docs/comparing.md);
 * a_path and b_path name the inputs. Every row is included, significant or not. The caller
 * owns the object; NULL when out of memory. */
cJSON *ap_compare_to_json(const struct ap_compare *c, const cJSON *a, const char *a_path,
                          const cJSON *b, const char *b_path);

/* Prints the table: the changes (every row when all), the measurements in one run only, and
 * closing lines with the counts: the tests made (m), how many are significant after
 * Benjamini-Hochberg and how many of those reach the minimum effect, how many would be
 * significant by chance alone without the correction, and the exact rows likewise. Warnings
 * are not printed. */
void ap_compare_print(FILE *out, const struct ap_compare *c, int all);

/* Prints ap_compare_to_json's object, indented, with a newline. -1 with err when it cannot
 * be built (out of memory). */
int ap_compare_print_json(FILE *out, const struct ap_compare *c, const cJSON *a, const char *a_path,
                          const cJSON *b, const char *b_path, ap_error **err);

/* Checks that doc is a results document of appliance bench (appliance-results-2 or -1,
 * bench/results.h's check) with the shape comparing relies on: every measurement with a
 * string "id" and a "metrics" object, every metric with a "unit" and a non-empty array of
 * finite samples. what names the document in errors. Returns 0, or -1 with err. */
int ap_compare_check_doc(const cJSON *doc, const char *what, ap_error **err);

#endif
