/* Summary statistics of a sample of measurements (times, sizes, rates): location, spread, the
 * distribution-free confidence interval of the median and a verdict on whether the sample is
 * too noisy to trust. Pure computation: no I/O, no global state. */
#ifndef AP_BENCH_STATS_H
#define AP_BENCH_STATS_H

#include <stddef.h>

/* A sample is unstable when its coefficient of variation (stddev / mean) is above this:
 * pyperf's threshold for "the standard deviation is N % of the mean". */
#define AP_STATS_UNSTABLE_CV 0.10

/* The smallest n with an order-statistic interval of the median of at least 95 % coverage:
 * the widest one, [min, max], covers 1 - 2 / 2^n, which is 93.75 % at n = 5 and 96.875 % at
 * n = 6. */
#define AP_STATS_CI_MIN_N 6

struct ap_stats {
    size_t n;
    double min, max;
    double mean;
    double median; /* for even n the mean of the two middle values */
    /* Spread. A single value has none that can be known: n == 1 leaves all three NaN. */
    double stddev; /* sample standard deviation (divisor n - 1) */
    double mad;    /* median absolute deviation from the median, unscaled (no 1.4826) */
    double cv;     /* stddev / |mean|; 0 when stddev is 0, +inf when only the mean is 0 */
    /* The distribution-free (binomial, order-statistic) 95 % confidence interval of the
     * median: for the sorted sample x(1) <= ... <= x(n), [x(k), x(n+1-k)] holds the true median
     * with probability 1 - 2 P(B <= k - 1), B ~ Binomial(n, 1/2): exactly so whatever the
     * distribution if it is continuous, at least so with ties. k is the largest rank whose
     * coverage is at least 95 %, giving the narrowest such interval; ci95_coverage is its exact
     * coverage, often well above 0.95 since it moves in steps (0.96875 at n = 6, 0.978515625 at
     * n = 10, 0.9586 at n = 20). n_too_small is 1 when n < AP_STATS_CI_MIN_N: no such interval
     * exists, ci95_k is 0 and ci95_lo, ci95_hi and ci95_coverage are NaN. */
    int n_too_small;
    size_t ci95_k; /* the 1-based rank of ci95_lo; ci95_hi has rank n + 1 - ci95_k */
    double ci95_lo, ci95_hi;
    double ci95_coverage;
    /* The coverage of [min, max] as an interval of the median, 1 - 2 / 2^n, for every n: what
     * the raw range is worth when no 95 % interval exists (0.9375 at n = 5; 0 at n = 1). */
    double range_coverage;
    /* 1 when cv > AP_STATS_UNSTABLE_CV, and when n == 1 (an unknown spread is never called
     * stable); else 0. */
    int unstable;
};

/* Computes the statistics of the n values at x into *out; x is not modified. Cost: two sorts
 * and O(n) for the interval, with O(n) scratch memory.
 * Returns 0, or -1 with errno set and *out untouched: EINVAL when n is 0 or a value is NaN or
 * infinite, ENOMEM when the scratch memory cannot be had. */
int ap_stats_compute(const double *x, size_t n, struct ap_stats *out);

/* The rank k (1-based) of the lower end of the order-statistic 95 % interval of the median of
 * n values, [x(k), x(n+1-k)]: the largest k with 2 P(B <= k - 1) <= 0.05, B ~ Binomial(n, 1/2).
 * Stores the interval's coverage, 1 - 2 P(B <= k - 1), in *coverage (when not NULL). Returns
 * 0, with *coverage NaN, when n < AP_STATS_CI_MIN_N. O(n) time, no memory. The binomial sums
 * are exact up to n = 50; checked against exact integer sums for every n up to 6000 and at
 * n = 10^5 and 10^6, k agrees and the coverage is within 2e-15. */
size_t ap_stats_median_ci_rank(size_t n, double *coverage);

/* The q-quantile (0 <= q <= 1, clamped) of n values sorted in ascending order, by linear
 * interpolation between the closest ranks: Hyndman and Fan's type 7, the default of numpy
 * and R. q = 0.5 is the median. NaN when n is 0. */
double ap_stats_quantile(const double *sorted, size_t n, double q);

/* When s is unstable, writes a warning in the manner of pyperf into buf (len bytes, truncated
 * to fit) and returns buf: "the standard deviation is 14 % of the mean (n = 20); repeatability
 * was not reached, so the figure is unstable and a ratio or verdict on it inconclusive: quiet
 * the machine or use more repeats", or, for n == 1, that a single sample
 * has no known spread. Returns NULL, leaving buf alone, when s is stable. */
const char *ap_stats_unstable_reason(const struct ap_stats *s, char *buf, size_t len);

#endif
