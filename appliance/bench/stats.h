/* Summary statistics of a sample of measurements (times, sizes, rates): location, spread, a
 * bootstrap confidence interval of the median and a verdict on whether the sample is too
 * noisy to trust. Pure computation: no I/O, no global state. */
#ifndef AP_BENCH_STATS_H
#define AP_BENCH_STATS_H

#include <stddef.h>

/* A sample is unstable when its coefficient of variation (stddev / mean) is above this:
 * pyperf's threshold for "the standard deviation is N % of the mean". */
#define AP_STATS_UNSTABLE_CV 0.10

/* Resamples drawn for the bootstrap confidence interval of the median. */
#define AP_STATS_BOOTSTRAP_B 2000

struct ap_stats {
    size_t n;
    double min, max;
    double mean;
    double median; /* for even n the mean of the two middle values */
    double stddev; /* sample standard deviation (divisor n - 1); 0 when n == 1 */
    double mad;    /* median absolute deviation from the median, unscaled (no 1.4826) */
    double cv;     /* stddev / |mean|; 0 when stddev is 0, +inf when only the mean is 0 */
    /* 95 % percentile-bootstrap confidence interval of the median: the 2.5 % and 97.5 %
     * quantiles of the medians of AP_STATS_BOOTSTRAP_B resamples with replacement. The
     * resamples come from a fixed-seed generator of our own, so the same sample always gives
     * the same interval, on every machine. Both ends lie within [min, max]; for a constant
     * sample (or n == 1) they equal the value. */
    double ci95_lo, ci95_hi;
    int unstable; /* 1 when cv > AP_STATS_UNSTABLE_CV, else 0 */
};

/* Computes the statistics of the n values at x into *out; x is not modified. Cost: a sort and
 * O(AP_STATS_BOOTSTRAP_B * n) for the interval, with O(n) scratch memory.
 * Returns 0, or -1 with errno set and *out untouched: EINVAL when n is 0 or a value is NaN or
 * infinite, ENOMEM when the scratch memory cannot be had. */
int ap_stats_compute(const double *x, size_t n, struct ap_stats *out);

/* The q-quantile (0 <= q <= 1, clamped) of n values sorted in ascending order, by linear
 * interpolation between the closest ranks: Hyndman and Fan's type 7, the default of numpy
 * and R. q = 0.5 is the median. NaN when n is 0. */
double ap_stats_quantile(const double *sorted, size_t n, double q);

/* When s is unstable, writes a warning in the manner of pyperf into buf (len bytes, truncated
 * to fit) and returns buf: "the standard deviation is 14 % of the mean (n = 20); results may
 * be unreliable: quiet the machine or use more repeats". Returns NULL, leaving buf alone,
 * when s is stable. */
const char *ap_stats_unstable_reason(const struct ap_stats *s, char *buf, size_t len);

#endif
