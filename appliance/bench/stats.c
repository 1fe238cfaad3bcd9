#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

/* The interval must not depend on the machine, the run or the time of day: one fixed seed. */
#define BOOTSTRAP_SEED UINT64_C(0x6170706c69616e63)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* splitmix64 (Steele, Lea and Flood): tiny, well mixed, and the same everywhere. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A uniform index below n by multiply-shift (Lemire); the bias, below n / 2^64, is far below
 * anything a bootstrap of measurements can see. */
static size_t random_index(uint64_t *state, size_t n)
{
    return (size_t)(((unsigned __int128)splitmix64(state) * n) >> 64);
}

double ap_stats_quantile(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return NAN;
    if (!(q > 0.0)) /* also NaN */
        q = 0.0;
    if (q > 1.0)
        q = 1.0;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)h;
    if (lo >= n - 1)
        return sorted[n - 1];
    double frac = h - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/* The value of rank r (0-based) in the resample that holds sorted[i] counts[i] times. */
static double value_at_rank(const double *sorted, const size_t *counts, size_t n, size_t r,
                            size_t *from, size_t *cum)
{
    /* Ranks are asked in ascending order, so the scan resumes where the last one stopped. */
    while (*from < n && *cum + counts[*from] <= r) {
        *cum += counts[*from];
        (*from)++;
    }
    return sorted[*from < n ? *from : n - 1];
}

/* Median of one resample of `sorted`, drawn with replacement. Since the sample is sorted, the
 * resample's order statistics follow from how often each index was drawn: no sort needed. */
static double resample_median(const double *sorted, size_t *counts, size_t n, uint64_t *state)
{
    memset(counts, 0, n * sizeof(*counts));
    for (size_t i = 0; i < n; i++)
        counts[random_index(state, n)]++;
    size_t from = 0, cum = 0;
    if (n % 2 == 1)
        return value_at_rank(sorted, counts, n, n / 2, &from, &cum);
    double a = value_at_rank(sorted, counts, n, n / 2 - 1, &from, &cum);
    double b = value_at_rank(sorted, counts, n, n / 2, &from, &cum);
    return a + (b - a) / 2;
}

int ap_stats_compute(const double *x, size_t n, struct ap_stats *out)
{
    if (n == 0 || x == NULL || out == NULL) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            errno = EINVAL;
            return -1;
        }
    }
    if (n > SIZE_MAX / sizeof(double) / 2) {
        errno = ENOMEM;
        return -1;
    }
    cleanup_free double *sorted = malloc(n * sizeof(*sorted));
    cleanup_free double *dev = malloc(n * sizeof(*dev));
    cleanup_free size_t *counts = malloc(n * sizeof(*counts));
    cleanup_free double *medians = malloc(AP_STATS_BOOTSTRAP_B * sizeof(*medians));
    if (sorted == NULL || dev == NULL || counts == NULL || medians == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(sorted, x, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_double);

    struct ap_stats s = {.n = n, .min = sorted[0], .max = sorted[n - 1]};
    s.median = ap_stats_quantile(sorted, n, 0.5);
    if (s.min == s.max) {
        /* Summing and dividing would leave rounding noise where there is no spread at all. */
        s.mean = s.min;
    } else {
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += sorted[i];
        s.mean = sum / (double)n;
        /* Two passes: sum of squares about the mean, not E[x^2] - E[x]^2, which cancels. */
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (sorted[i] - s.mean) * (sorted[i] - s.mean);
        s.stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    }
    if (s.stddev == 0)
        s.cv = 0;
    else if (s.mean == 0)
        s.cv = INFINITY;
    else
        s.cv = s.stddev / fabs(s.mean);
    s.unstable = s.cv > AP_STATS_UNSTABLE_CV;

    for (size_t i = 0; i < n; i++)
        dev[i] = fabs(sorted[i] - s.median);
    qsort(dev, n, sizeof(*dev), cmp_double);
    s.mad = ap_stats_quantile(dev, n, 0.5);

    uint64_t state = BOOTSTRAP_SEED;
    for (size_t b = 0; b < AP_STATS_BOOTSTRAP_B; b++)
        medians[b] = resample_median(sorted, counts, n, &state);
    qsort(medians, AP_STATS_BOOTSTRAP_B, sizeof(*medians), cmp_double);
    s.ci95_lo = ap_stats_quantile(medians, AP_STATS_BOOTSTRAP_B, 0.025);
    s.ci95_hi = ap_stats_quantile(medians, AP_STATS_BOOTSTRAP_B, 0.975);

    *out = s;
    return 0;
}

const char *ap_stats_unstable_reason(const struct ap_stats *s, char *buf, size_t len)
{
    if (s == NULL || !s->unstable || buf == NULL || len == 0)
        return NULL;
    static const char advice[] = "results may be unreliable: quiet the machine or use more "
                                 "repeats";
    if (isinf(s->cv))
        snprintf(buf, len,
                 "the values vary (standard deviation %g) around a mean of 0 (n = %zu); %s",
                 s->stddev, s->n, advice);
    else
        snprintf(buf, len, "the standard deviation is %.1f %% of the mean (n = %zu); %s",
                 s->cv * 100.0, s->n, advice);
    return buf;
}
