/* The latency histogram: exact small values, known percentiles, the documented relative error
 * over a wide random range against an exact sort, merge, clamping, bucket export, and a series
 * recorded at once as its values one by one. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench/hist.h"
#include "test.h"

static struct ap_hist h1, h2, h3;

/* Nearest-rank percentile of a sorted array, as hist.h defines it. */
static int64_t exact_percentile(const int64_t *sorted, size_t n, double p)
{
    if (p <= 0)
        return sorted[0];
    if (p >= 100)
        return sorted[n - 1];
    double r = ceil(p / 100.0 * (double)n - 1e-9);
    size_t rank = r < 1 ? 1 : (size_t)r;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* xorshift64*: a fixed sequence, so a failure reproduces. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717u;
}

TEST(empty_histogram)
{
    ap_hist_init(&h1);
    CHECK(ap_hist_count(&h1) == 0);
    CHECK(ap_hist_min(&h1) == 0 && ap_hist_max(&h1) == 0);
    CHECK(ap_hist_mean(&h1) == 0 && ap_hist_stddev(&h1) == 0);
    CHECK(ap_hist_percentile(&h1, 50) == 0);
    size_t pos = 0;
    struct ap_hist_bucket b;
    CHECK(ap_hist_next_bucket(&h1, &pos, &b) == 0);
}

TEST(small_values_are_exact)
{
    ap_hist_init(&h1);
    for (int64_t v = 1; v <= 200; v++)
        ap_hist_record(&h1, v);
    CHECK(ap_hist_count(&h1) == 200);
    CHECK(ap_hist_min(&h1) == 1 && ap_hist_max(&h1) == 200);
    CHECK(fabs(ap_hist_mean(&h1) - 100.5) < 1e-9);
    CHECK_MSG(ap_hist_percentile(&h1, 50) == 100, "p50 %lld",
              (long long)ap_hist_percentile(&h1, 50));
    CHECK(ap_hist_percentile(&h1, 90) == 180);
    CHECK(ap_hist_percentile(&h1, 99) == 198);
    CHECK(ap_hist_percentile(&h1, 100) == 200);
    CHECK(ap_hist_percentile(&h1, 0) == 1);
    /* stddev of 1..200 is sqrt((200^2 - 1) / 12) */
    CHECK(fabs(ap_hist_stddev(&h1) - sqrt((200.0 * 200.0 - 1) / 12)) < 1e-6);
}

TEST(known_percentiles_of_a_uniform_range)
{
    /* 1 us .. 10 ms in steps of 1 us: p50 is 5 ms, p99.9 9.99 ms, within the bound. */
    ap_hist_init(&h1);
    for (int64_t i = 1; i <= 10000; i++)
        ap_hist_record(&h1, i * 1000);
    struct {
        double p;
        int64_t want;
    } cases[] = {{50, 5000000},   {90, 9000000},   {95, 9500000}, {99, 9900000},
                 {99.9, 9990000}, {100, 10000000}, {0.01, 1000}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = ap_hist_percentile(&h1, cases[i].p);
        double rel = fabs((double)(got - cases[i].want)) / (double)cases[i].want;
        CHECK_MSG(rel <= AP_HIST_REL_ERROR, "p%g: %lld, want %lld (rel %.5f)", cases[i].p,
                  (long long)got, (long long)cases[i].want, rel);
    }
    CHECK(ap_hist_max(&h1) == 10000000 && ap_hist_min(&h1) == 1000);
    CHECK(fabs(ap_hist_mean(&h1) - 5000500.0) < 1e-3);
}

TEST(relative_error_bound_over_a_wide_range)
{
    /* Log-uniform values from 1 ns to 1000 s, compared with an exact sort at many
     * percentiles. */
    enum { N = 200000 };
    int64_t *v = malloc(N * sizeof(*v));
    if (!CHECK(v != NULL))
        return;
    ap_hist_init(&h1);
    for (size_t i = 0; i < N; i++) {
        double e = (double)(rng() >> 11) / 9007199254740992.0 * log(1e12);
        v[i] = (int64_t)exp(e);
        if (v[i] < 1)
            v[i] = 1;
        ap_hist_record(&h1, v[i]);
    }
    qsort(v, N, sizeof(*v), cmp_i64);
    double worst = 0;
    int bad = 0;
    for (double p = 0.5; p < 100; p += 0.5) {
        int64_t want = exact_percentile(v, N, p), got = ap_hist_percentile(&h1, p);
        double rel = fabs((double)(got - want)) / (double)want;
        if (rel > worst)
            worst = rel;
        if (rel > AP_HIST_REL_ERROR && bad++ < 5)
            test_note("p%g: %lld, exact %lld", p, (long long)got, (long long)want);
    }
    double tail[] = {99.9, 99.99, 99.999, 100};
    for (size_t i = 0; i < 4; i++) {
        int64_t want = exact_percentile(v, N, tail[i]), got = ap_hist_percentile(&h1, tail[i]);
        double rel = fabs((double)(got - want)) / (double)want;
        if (rel > worst)
            worst = rel;
        if (rel > AP_HIST_REL_ERROR)
            bad++;
    }
    CHECK_MSG(bad == 0, "%d percentiles beyond the bound; worst %.5f", bad, worst);
    CHECK(worst <= 0.01);
    CHECK(ap_hist_min(&h1) == v[0] && ap_hist_max(&h1) == v[N - 1]);
    /* Every single value, alone in a histogram, comes back within the bound. */
    int single_bad = 0;
    for (size_t i = 0; i < N; i += 97) {
        ap_hist_init(&h2);
        ap_hist_record(&h2, v[i]);
        ap_hist_record(&h2, v[i] + 1000000000000); /* keeps min/max from clamping p50 */
        ap_hist_record(&h2, 0);
        int64_t got = ap_hist_percentile(&h2, 50);
        if (fabs((double)(got - v[i])) > AP_HIST_REL_ERROR * (double)v[i])
            single_bad++;
    }
    CHECK_MSG(single_bad == 0, "%d single values beyond the bound", single_bad);
    free(v);
}

TEST(merge_equals_recording_everything_in_one)
{
    ap_hist_init(&h1);
    ap_hist_init(&h2);
    ap_hist_init(&h3);
    for (int i = 0; i < 50000; i++) {
        int64_t x = (int64_t)(rng() % 50000000);
        ap_hist_record(i % 3 ? &h1 : &h2, x);
        ap_hist_record(&h3, x);
    }
    ap_hist_merge(&h1, &h2);
    CHECK(ap_hist_count(&h1) == 50000);
    CHECK(ap_hist_min(&h1) == ap_hist_min(&h3) && ap_hist_max(&h1) == ap_hist_max(&h3));
    CHECK(memcmp(h1.counts, h3.counts, sizeof(h1.counts)) == 0);
    CHECK(fabs(ap_hist_mean(&h1) - ap_hist_mean(&h3)) < 1e-3);
    double ps[] = {50, 90, 95, 99, 99.9, 100};
    for (size_t i = 0; i < 6; i++)
        CHECK(ap_hist_percentile(&h1, ps[i]) == ap_hist_percentile(&h3, ps[i]));
    /* Merging into or from an empty histogram. */
    ap_hist_init(&h2);
    ap_hist_merge(&h2, &h3);
    CHECK(ap_hist_min(&h2) == ap_hist_min(&h3) && ap_hist_count(&h2) == 50000);
    ap_hist_init(&h2);
    ap_hist_merge(&h3, &h2);
    CHECK(ap_hist_count(&h3) == 50000);
}

TEST(clamps_values_out_of_range)
{
    ap_hist_init(&h1);
    ap_hist_record(&h1, -5);
    ap_hist_record(&h1, INT64_MAX);
    ap_hist_record(&h1, 1000);
    CHECK(h1.clamped == 2);
    CHECK(ap_hist_min(&h1) == 0);
    CHECK(ap_hist_max(&h1) == AP_HIST_MAX_VALUE);
    CHECK(ap_hist_count(&h1) == 3);
    /* 1000 s and more still fit without clamping. */
    ap_hist_init(&h1);
    ap_hist_record(&h1, INT64_C(1000) * 1000000000);
    CHECK(h1.clamped == 0 && ap_hist_max(&h1) == INT64_C(1000000000000));
}

TEST(bucket_export_round_trips)
{
    ap_hist_init(&h1);
    for (int i = 0; i < 20000; i++)
        ap_hist_record(&h1, (int64_t)(rng() % 1000000000));
    ap_hist_init(&h2);
    size_t pos = 0, n = 0;
    struct ap_hist_bucket b;
    int64_t last_hi = -1;
    int ordered = 1, limit = 0;
    while (ap_hist_next_bucket(&h1, &pos, &b) && limit++ < AP_HIST_BUCKETS) {
        if (b.lo <= last_hi || b.hi < b.lo || b.count == 0)
            ordered = 0;
        last_hi = b.hi;
        ap_hist_record_n(&h2, b.lo, b.count);
        n++;
    }
    CHECK(ordered);
    CHECK(n > 100 && n < AP_HIST_BUCKETS);
    CHECK(memcmp(h1.counts, h2.counts, sizeof(h1.counts)) == 0);
    CHECK(ap_hist_count(&h2) == 20000);
}

/* A series recorded at once lands where its values recorded one by one do. */
static int series_matches(int64_t first, double step, uint64_t n)
{
    ap_hist_init(&h1);
    ap_hist_init(&h2);
    ap_hist_record_series(&h1, first, step, n);
    for (uint64_t i = 0; i < n; i++) {
        double d = (double)i * step;
        ap_hist_record(&h2, d > 1e18 ? INT64_MAX : first + (int64_t)d);
    }
    int same = memcmp(h1.counts, h2.counts, sizeof(h1.counts)) == 0 && h1.count == h2.count &&
               h1.clamped == h2.clamped && h1.min == h2.min && h1.max == h2.max;
    /* The sum is that of the values before truncation: within 1 ns each. */
    int sum_ok = fabs(h1.sum - h2.sum) <= (double)n + 1e-9 * fabs(h2.sum);
    if (!same || !sum_ok)
        test_note("series %lld + i * %g, n = %llu: count %llu/%llu clamped %llu/%llu min %lld/%lld "
                  "max %lld/%lld sum %g/%g",
                  (long long)first, step, (unsigned long long)n, (unsigned long long)h1.count,
                  (unsigned long long)h2.count, (unsigned long long)h1.clamped,
                  (unsigned long long)h2.clamped, (long long)h1.min, (long long)h2.min,
                  (long long)h1.max, (long long)h2.max, h1.sum, h2.sum);
    return same && sum_ok;
}

TEST(series_equals_its_values_one_by_one)
{
    /* An open loop's unsent requests. */
    CHECK(series_matches(0, 1e8, 6));
    CHECK(series_matches(25000000, 1e8, 5));
    /* Several values per ns (exact buckets), and across the exact range's end. */
    CHECK(series_matches(5, 0.37, 1000));
    CHECK(series_matches(3, 1.0, 300));
    /* Many buckets, many values each. */
    CHECK(series_matches(100, 12345.678, 200000));
    /* Below 0 and past the range: clamped. */
    CHECK(series_matches(-500, 7.5, 200));
    CHECK(series_matches(AP_HIST_MAX_VALUE - 1000, 100, 50));
    /* Step 0: one value n times; a single value. */
    CHECK(series_matches(42, 0, 10));
    CHECK(series_matches(7, 3.0, 1));
    /* n = 0 records nothing. */
    ap_hist_init(&h1);
    ap_hist_record_series(&h1, 5, 1, 0);
    CHECK(ap_hist_count(&h1) == 0);
}

TEST(a_huge_series_costs_its_buckets_not_its_values)
{
    /* 10^12 values (an hour's schedule at 300 M req/s): recorded one by one this would take
     * hours; by buckets it is immediate. */
    ap_hist_init(&h1);
    ap_hist_record_series(&h1, 0, 3.3, UINT64_C(1000000000000));
    CHECK(ap_hist_count(&h1) == UINT64_C(1000000000000));
    CHECK(ap_hist_min(&h1) == 0 && ap_hist_max(&h1) == (int64_t)(999999999999.0 * 3.3));
    int64_t p50 = ap_hist_percentile(&h1, 50), want = (int64_t)(0.5e12 * 3.3);
    CHECK_MSG(fabs((double)(p50 - want)) <= AP_HIST_REL_ERROR * (double)want + 4,
              "p50 %lld want %lld", (long long)p50, (long long)want);
    CHECK(fabs(ap_hist_mean(&h1) - 0.5e12 * 3.3) < 1e-6 * 0.5e12 * 3.3);
}
