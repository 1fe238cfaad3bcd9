#include "stats.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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

/* 2^e as a double: +inf above the range (a bound that far compares as it should), 0 below. */
static double pow2(long long e)
{
    if (e > DBL_MAX_EXP)
        return INFINITY;
    if (e < DBL_MIN_EXP - DBL_MANT_DIG)
        return 0;
    return ldexp(1.0, (int)e);
}

size_t ap_stats_median_ci_rank(size_t n, double *coverage)
{
    if (coverage != NULL)
        *coverage = NAN;
    /* P(B <= i) = sum_{j <= i} C(n, j) / 2^n. Walk up the lower tail while it stays within
     * 2.5 %, that is while 40 sum C(n, j) <= 2^n. The coefficients go by
     * C(n, j + 1) = C(n, j) (n - j) / (j + 1), exact in doubles while they are below 2^53.
     * They outgrow a double long before n does, so term and sum are kept as value * 2^scale
     * and scaled down together as they grow. */
    double term = 1, sum = 0;
    long long scale = 0;
    size_t i = 0;
    for (; i <= n / 2; i++) {
        if (40 * (sum + term) > pow2((long long)n - scale))
            break;
        sum += term;
        term = term * (double)(n - i) / (double)(i + 1);
        if (term > 0x1p600) {
            term = ldexp(term, -600);
            sum = ldexp(sum, -600);
            scale += 600;
        }
    }
    /* The tail up to the median is at least 1/2, so the walk stops before n / 2; at i = 0
     * n < AP_STATS_CI_MIN_N, where even [min, max] misses 95 %. */
    if (i == 0)
        return 0;
    if (coverage != NULL)
        *coverage = 1 - sum * pow2(scale + 1 - (long long)n);
    return i;
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
    if (n > SIZE_MAX / sizeof(double)) {
        errno = ENOMEM;
        return -1;
    }
    cleanup_free double *sorted = malloc(n * sizeof(*sorted));
    cleanup_free double *dev = malloc(n * sizeof(*dev));
    if (sorted == NULL || dev == NULL) {
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
        s.stddev = sqrt(ss / (double)(n - 1)); /* n > 1: the values differ */
    }
    if (s.stddev == 0)
        s.cv = 0;
    else if (s.mean == 0)
        s.cv = INFINITY;
    else
        s.cv = s.stddev / fabs(s.mean);

    for (size_t i = 0; i < n; i++)
        dev[i] = fabs(sorted[i] - s.median);
    qsort(dev, n, sizeof(*dev), cmp_double);
    s.mad = ap_stats_quantile(dev, n, 0.5);

    if (n == 1) {
        /* One value shows no spread, which is not the same as showing that there is none: the
         * spread is unknown, so the figure is never called stable. */
        s.stddev = s.mad = s.cv = NAN;
        s.unstable = 1;
    } else {
        s.unstable = s.cv > AP_STATS_UNSTABLE_CV;
    }

    s.range_coverage = 1 - pow2(1 - (long long)n);
    s.ci95_k = ap_stats_median_ci_rank(n, &s.ci95_coverage);
    s.n_too_small = s.ci95_k == 0;
    if (s.n_too_small) {
        s.ci95_lo = s.ci95_hi = NAN;
    } else {
        s.ci95_lo = sorted[s.ci95_k - 1];
        s.ci95_hi = sorted[n - s.ci95_k];
    }

    *out = s;
    return 0;
}

const char *ap_stats_unstable_reason(const struct ap_stats *s, char *buf, size_t len)
{
    if (s == NULL || !s->unstable || buf == NULL || len == 0)
        return NULL;
    /* Whatever the noise guard saw: samples that spread this much did not repeat, on a shared
     * virtual machine often for reasons no counter inside it shows. */
    static const char advice[] = "repeatability was not reached, so the figure is unstable and "
                                 "a ratio or verdict on it inconclusive: quiet the machine or use "
                                 "more repeats";
    if (s->n == 1)
        snprintf(buf, len,
                 "a single sample (n = 1): its spread is unknown, so it is not called stable");
    else if (isinf(s->cv))
        snprintf(buf, len,
                 "the values vary (standard deviation %g) around a mean of 0 (n = %zu); %s",
                 s->stddev, s->n, advice);
    else
        snprintf(buf, len, "the standard deviation is %.1f %% of the mean (n = %zu); %s",
                 s->cv * 100.0, s->n, advice);
    return buf;
}
