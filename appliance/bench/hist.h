/* A log-linear histogram of int64 nanosecond values (HdrHistogram's layout): every power of two
 * [2^e, 2^(e+1)) is split into AP_HIST_SUB equal sub-buckets, values below 2 * AP_HIST_SUB are
 * kept exactly. Fixed memory (one struct, no allocation), O(1) record.
 *
 * Error bound: a bucket holding values >= 2 * AP_HIST_SUB is 2^s wide and starts at or above
 * AP_HIST_SUB * 2^s, so its width is at most 1/AP_HIST_SUB of any value in it. Percentiles
 * report the bucket's midpoint (clamped to the exact min and max), hence the reported value
 * differs from the true sample at that rank by at most 1/(2 * AP_HIST_SUB) of it: 1/256,
 * 0.39 %, within the 1 % the measurements promise. Count, min, max and mean are exact (the mean
 * up to double rounding). */
#ifndef AP_BENCH_HIST_H
#define AP_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define AP_HIST_SUB_BITS 7
#define AP_HIST_SUB (1 << AP_HIST_SUB_BITS) /* linear sub-buckets per power of two: 128 */
#define AP_HIST_VALUE_BITS 43               /* values up to 2^43 - 1 ns, about 2.4 hours */
#define AP_HIST_MAX_VALUE ((INT64_C(1) << AP_HIST_VALUE_BITS) - 1)
#define AP_HIST_BUCKETS ((AP_HIST_VALUE_BITS - AP_HIST_SUB_BITS + 1) * AP_HIST_SUB)
/* Bound on |reported - true| / true for every percentile (see above). */
#define AP_HIST_REL_ERROR (1.0 / (2 * AP_HIST_SUB))

struct ap_hist {
    uint64_t count;
    uint64_t clamped; /* values below 0 or above AP_HIST_MAX_VALUE, recorded at the bound */
    int64_t min, max; /* exact; 0 while count is 0 */
    double sum, sum_sq;
    uint64_t counts[AP_HIST_BUCKETS];
};

/* One nonzero bucket: every value in [lo, hi] (inclusive) was counted `count` times. */
struct ap_hist_bucket {
    int64_t lo, hi;
    uint64_t count;
};

/* Empties h (about 38 KiB; embed it or allocate it once, never per record). */
void ap_hist_init(struct ap_hist *h);

/* Records value v (nanoseconds) once, or n times. Values outside [0, AP_HIST_MAX_VALUE] are
 * clamped to the nearest bound and counted in h->clamped. */
void ap_hist_record(struct ap_hist *h, int64_t v);
void ap_hist_record_n(struct ap_hist *h, int64_t v, uint64_t n);

/* Records the n values first + (int64_t)(i * step) for i = 0 .. n - 1 (step >= 0; a step that
 * is not, or is NaN, records first n times), as n calls of ap_hist_record would: the same
 * buckets, count, min, max and clamping; the sum and sum of squares are those of the values
 * before truncation (the mean within 1 ns). O(buckets the values span) time, however large
 * n: for a schedule's worth of values (every request an open loop never sent). */
void ap_hist_record_series(struct ap_hist *h, int64_t first, double step, uint64_t n);

/* Adds every value of src to dst. */
void ap_hist_merge(struct ap_hist *dst, const struct ap_hist *src);

uint64_t ap_hist_count(const struct ap_hist *h);
int64_t ap_hist_min(const struct ap_hist *h);   /* 0 when empty */
int64_t ap_hist_max(const struct ap_hist *h);   /* 0 when empty */
double ap_hist_mean(const struct ap_hist *h);   /* 0 when empty */
double ap_hist_stddev(const struct ap_hist *h); /* population standard deviation; 0 when empty */

/* The value at percentile p (0..100): the smallest recorded value v such that at least p % of
 * the values are <= v (nearest rank, at least rank 1), within AP_HIST_REL_ERROR of the true
 * sample; p >= 100 gives the exact max, p <= 0 the exact min. 0 when empty. */
int64_t ap_hist_percentile(const struct ap_hist *h, double p);

/* Iterates the nonzero buckets in increasing order, for writing a histogram out compactly:
 * start with *pos = 0; each call fills *b and returns 1, or returns 0 at the end. Feeding each
 * bucket back with ap_hist_record_n(h, b.lo, b.count) rebuilds the same bucket counts. */
int ap_hist_next_bucket(const struct ap_hist *h, size_t *pos, struct ap_hist_bucket *b);

#endif
