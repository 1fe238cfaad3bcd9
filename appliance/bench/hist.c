/* Log-linear histogram: see hist.h for the layout and the error bound. */
#include <math.h>
#include <string.h>

#include "hist.h"

/* Bucket of v (0 <= v <= AP_HIST_MAX_VALUE). Values below 2 * AP_HIST_SUB map to themselves;
 * above, with s = msb(v) - AP_HIST_SUB_BITS, the top AP_HIST_SUB_BITS + 1 bits of v (a number
 * in [AP_HIST_SUB, 2 * AP_HIST_SUB)) select the sub-bucket of the range s. */
static inline size_t bucket_of(int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (u < 2 * AP_HIST_SUB)
        return (size_t)u;
    unsigned s = 63u - (unsigned)__builtin_clzll(u) - AP_HIST_SUB_BITS;
    return (size_t)s * AP_HIST_SUB + (size_t)(u >> s);
}

/* Smallest value and width of bucket i. */
static inline void bucket_range(size_t i, int64_t *lo, int64_t *width)
{
    if (i < 2 * AP_HIST_SUB) {
        *lo = (int64_t)i;
        *width = 1;
        return;
    }
    unsigned s = (unsigned)(i / AP_HIST_SUB) - 1;
    uint64_t sub = i - (size_t)s * AP_HIST_SUB;
    *lo = (int64_t)(sub << s);
    *width = INT64_C(1) << s;
}

void ap_hist_init(struct ap_hist *h)
{
    memset(h, 0, sizeof(*h));
}

void ap_hist_record_n(struct ap_hist *h, int64_t v, uint64_t n)
{
    if (n == 0)
        return;
    if (v < 0 || v > AP_HIST_MAX_VALUE) {
        v = v < 0 ? 0 : AP_HIST_MAX_VALUE;
        h->clamped += n;
    }
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (h->count == 0 || v > h->max)
        h->max = v;
    h->count += n;
    double d = (double)v;
    h->sum += d * (double)n;
    h->sum_sq += d * d * (double)n;
    h->counts[bucket_of(v)] += n;
}

void ap_hist_record(struct ap_hist *h, int64_t v)
{
    ap_hist_record_n(h, v, 1);
}

/* Adds n values that all fall in bucket b, the smallest lo and the largest hi (clamped of them
 * clamped), with their sum and sum of squares. */
static void add_block(struct ap_hist *h, size_t b, int64_t lo, int64_t hi, uint64_t n, double sum,
                      double sum_sq, uint64_t clamped)
{
    if (h->count == 0 || lo < h->min)
        h->min = lo;
    if (h->count == 0 || hi > h->max)
        h->max = hi;
    h->count += n;
    h->clamped += clamped;
    h->sum += sum;
    h->sum_sq += sum_sq;
    h->counts[b] += n;
}

/* Value i of a series; first <= AP_HIST_MAX_VALUE, and anything past the range reads as
 * AP_HIST_MAX_VALUE + 1 (no overflow). */
static int64_t series_at(int64_t first, double step, uint64_t i)
{
    double d = (double)i * step;
    if (d > (double)(AP_HIST_MAX_VALUE - first))
        return AP_HIST_MAX_VALUE + 1;
    return first + (int64_t)d;
}

void ap_hist_record_series(struct ap_hist *h, int64_t first, double step, uint64_t n)
{
    if (n == 0)
        return;
    /* (A first that far below 0 is no schedule's: its values are clamped as one.) */
    if (!(step > 0) || first > AP_HIST_MAX_VALUE || first < -AP_HIST_MAX_VALUE) {
        ap_hist_record_n(h, first, n);
        return;
    }
    uint64_t i = 0;
    /* Each pass takes every value of one bucket (or every value below 0), so the buckets bound
     * the passes; the values never decrease, so once one is past the range all the rest are. */
    for (size_t pass = 0; i < n && pass < 2 * AP_HIST_BUCKETS + 2; pass++) {
        int64_t v = series_at(first, step, i);
        if (v > AP_HIST_MAX_VALUE) {
            ap_hist_record_n(h, v, n - i);
            return;
        }
        size_t b = 0;
        int64_t top = -1;
        if (v >= 0) {
            int64_t lo, width;
            b = bucket_of(v);
            bucket_range(b, &lo, &width);
            top = lo + width - 1;
        }
        /* The last j with first + (int64_t)(j * step) <= top: j * step < top - first + 1. The
         * estimate is off by a rounding at most; the steps below settle it. */
        double e = ceil((double)(top - first + 1) / step) - 1;
        uint64_t j = e <= (double)i ? i : e >= (double)(n - 1) ? n - 1 : (uint64_t)e;
        for (int k = 0; k < 4 && j + 1 < n && series_at(first, step, j + 1) <= top; k++)
            j++;
        for (int k = 0; k < 4 && j > i && series_at(first, step, j) > top; k++)
            j--;
        if (series_at(first, step, j) > top)
            j = i;
        uint64_t c = j - i + 1;
        if (v < 0) {
            add_block(h, 0, 0, 0, c, 0, 0, c);
        } else {
            /* An arithmetic series of c terms: mean halfway, variance step^2 (c^2 - 1) / 12. */
            double a = (double)first + (double)i * step, z = (double)first + (double)j * step;
            double mean = (a + z) / 2, cd = (double)c;
            add_block(h, b, v, series_at(first, step, j), c, cd * mean,
                      cd * (mean * mean + step * step * (cd * cd - 1) / 12), 0);
        }
        i = j + 1;
    }
    /* Unreachable but for rounding the steps above could not settle: the rest, at its start. */
    if (i < n)
        ap_hist_record_n(h, series_at(first, step, i), n - i);
}

void ap_hist_merge(struct ap_hist *dst, const struct ap_hist *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->count == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    dst->sum_sq += src->sum_sq;
    for (size_t i = 0; i < AP_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
}

uint64_t ap_hist_count(const struct ap_hist *h)
{
    return h->count;
}

int64_t ap_hist_min(const struct ap_hist *h)
{
    return h->count ? h->min : 0;
}

int64_t ap_hist_max(const struct ap_hist *h)
{
    return h->count ? h->max : 0;
}

double ap_hist_mean(const struct ap_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}

double ap_hist_stddev(const struct ap_hist *h)
{
    if (h->count == 0)
        return 0;
    double mean = h->sum / (double)h->count;
    double var = h->sum_sq / (double)h->count - mean * mean;
    return var > 0 ? sqrt(var) : 0;
}

int64_t ap_hist_percentile(const struct ap_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (!(p > 0))
        return h->min;
    if (p >= 100)
        return h->max;
    /* Nearest rank; the epsilon keeps p * n / 100 that is whole in decimal from rounding up. */
    double r = ceil(p / 100.0 * (double)h->count - 1e-9);
    uint64_t rank = r < 1 ? 1 : (uint64_t)r;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < AP_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            int64_t lo, width;
            bucket_range(i, &lo, &width);
            int64_t v = lo + width / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

int ap_hist_next_bucket(const struct ap_hist *h, size_t *pos, struct ap_hist_bucket *b)
{
    for (size_t i = *pos; i < AP_HIST_BUCKETS; i++) {
        if (h->counts[i] == 0)
            continue;
        int64_t lo, width;
        bucket_range(i, &lo, &width);
        b->lo = lo;
        b->hi = lo + width - 1;
        b->count = h->counts[i];
        *pos = i + 1;
        return 1;
    }
    *pos = AP_HIST_BUCKETS;
    return 0;
}
