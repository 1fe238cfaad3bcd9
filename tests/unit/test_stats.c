/* Summary statistics (bench/stats.c): known samples give known values; the interval of the
 * median is the order-statistic one, with its exact coverage, and none below n = 6; a single
 * sample has no known spread and is never stable; the instability verdict follows the 10 %
 * rule. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "bench/stats.h"
#include "test.h"

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

/* The reference the interval is checked against, by other means than stats.c's: exact
 * integers. P(B <= j) = tail(j) / 2^n for B ~ Binomial(n, 1/2), tail(j) = sum_{i <= j} C(n, i),
 * with C(n, i) from Pascal's triangle (no division), for n <= 120. */
static unsigned __int128 binomial_tail(unsigned n, unsigned j)
{
    unsigned __int128 row[121] = {1};
    for (unsigned r = 1; r <= n; r++)
        for (unsigned i = r; i > 0; i--)
            row[i] += row[i - 1];
    unsigned __int128 sum = 0;
    for (unsigned i = 0; i <= j && i <= n; i++)
        sum += row[i];
    return sum;
}

/* The largest k with 2 P(B <= k - 1) <= 0.05, i.e. 40 tail(k - 1) <= 2^n; 0 when none. */
static unsigned reference_k(unsigned n)
{
    unsigned k = 0;
    while (k < n && 40 * binomial_tail(n, k) <= ((unsigned __int128)1 << n))
        k++;
    return k;
}

/* 1 - 2 tail(k - 1) / 2^n, in long double from exact integers. */
static long double reference_coverage(unsigned n, unsigned k)
{
    unsigned __int128 half = (unsigned __int128)1 << (n - 1);
    return (long double)(half - binomial_tail(n, k - 1)) / (long double)half;
}

/* The values 1..n in a scrambled order (i * 7919 mod n, 7919 a prime that divides no n used
 * here), so that the value of rank r is r. */
static void ranks_scrambled(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(i * 7919 % n + 1);
}

TEST(known_sample_with_an_outlier)
{
    const double x[] = {4, 100, 2, 1, 3};
    double copy[5];
    memcpy(copy, x, sizeof(x));
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(copy, 5, &s) == 0))
        return;
    CHECK_MSG(memcmp(copy, x, sizeof(x)) == 0, "the input was modified");
    CHECK(s.n == 5);
    CHECK(s.min == 1);
    CHECK(s.max == 100);
    CHECK(s.mean == 22);
    CHECK(s.median == 3);
    /* |x - 3| = {1, 97, 1, 2, 0} -> sorted {0, 1, 1, 2, 97}: median 1. */
    CHECK(s.mad == 1);
    /* Squares about 22: 441 + 400 + 361 + 324 + 6084 = 7610; / 4 = 1902.5. */
    CHECK_MSG(near(s.stddev, sqrt(1902.5), 1e-12), "stddev %.15g", s.stddev);
    CHECK_MSG(near(s.cv, sqrt(1902.5) / 22, 1e-12), "cv %.15g", s.cv);
    CHECK(s.unstable == 1);
}

TEST(n_5_has_no_95_percent_interval)
{
    /* [min, max] is the widest interval there is; with 5 values it misses the median when all
     * 5 fall on one side of it: 2 / 2^5, so it covers 93.75 %, short of 95 %. */
    const double x[] = {5, 1, 4, 2, 3};
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 5, &s) == 0))
        return;
    CHECK(s.n_too_small == 1);
    CHECK(s.ci95_k == 0);
    CHECK_MSG(isnan(s.ci95_lo) && isnan(s.ci95_hi) && isnan(s.ci95_coverage), "[%g, %g] %g",
              s.ci95_lo, s.ci95_hi, s.ci95_coverage);
    CHECK_MSG(s.range_coverage == 0.9375, "range coverage %.17g", s.range_coverage);
    CHECK(s.min == 1 && s.max == 5 && s.median == 3);
    /* The spread is known at n = 5: 1..5 has cv sqrt(2.5) / 3 > 10 %. */
    CHECK(!isnan(s.cv) && s.unstable == 1);
    for (size_t n = 1; n < AP_STATS_CI_MIN_N; n++) {
        double c = 0;
        CHECK_MSG(ap_stats_median_ci_rank(n, &c) == 0 && isnan(c), "n = %zu", n);
    }
}

TEST(n_6_is_min_to_max_at_96_875_percent)
{
    const double x[] = {6, 2, 5, 1, 4, 3};
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 6, &s) == 0))
        return;
    CHECK(s.n_too_small == 0);
    CHECK(s.ci95_k == 1);
    CHECK_MSG(s.ci95_lo == 1 && s.ci95_hi == 6, "[%g, %g]", s.ci95_lo, s.ci95_hi);
    /* 1 - 2 / 64. */
    CHECK_MSG(s.ci95_coverage == 0.96875, "coverage %.17g", s.ci95_coverage);
    CHECK(s.range_coverage == 0.96875);
}

TEST(n_10_is_x2_to_x9)
{
    double x[10];
    ranks_scrambled(x, 10);
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 10, &s) == 0))
        return;
    CHECK(s.ci95_k == 2);
    CHECK_MSG(s.ci95_lo == 2 && s.ci95_hi == 9, "[%g, %g]", s.ci95_lo, s.ci95_hi);
    /* P(B <= 1) = (1 + 10) / 1024: 1 - 22 / 1024. */
    CHECK_MSG(s.ci95_coverage == 0.978515625, "coverage %.17g", s.ci95_coverage);
    CHECK(s.ci95_coverage == 1 - 2.0 * 11 / 1024);
    /* k = 3 would cover 1 - 2 (1 + 10 + 45) / 1024 = 89.1 %: 2 is the largest. */
    CHECK(40 * binomial_tail(10, 2) > 1024);
}

TEST(n_20_is_x6_to_x15)
{
    double x[20];
    ranks_scrambled(x, 20);
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 20, &s) == 0))
        return;
    /* P(B <= 5) = 21700 / 2^20 = 2.07 % <= 2.5 % < P(B <= 6) = 60460 / 2^20 = 5.77 %. */
    CHECK(binomial_tail(20, 5) == 21700 && binomial_tail(20, 6) == 60460);
    CHECK(s.ci95_k == 6);
    CHECK_MSG(s.ci95_lo == 6 && s.ci95_hi == 15, "[%g, %g]", s.ci95_lo, s.ci95_hi);
    CHECK_MSG(s.ci95_coverage == 1 - 2.0 * 21700 / 1048576, "coverage %.17g", s.ci95_coverage);
    CHECK_MSG(s.ci95_coverage == 0.95861053466796875, "coverage %.17g", s.ci95_coverage);
}

TEST(rank_and_coverage_agree_with_exact_integers_up_to_120)
{
    for (unsigned n = 1; n <= 120; n++) {
        double c;
        size_t k = ap_stats_median_ci_rank(n, &c);
        unsigned want = reference_k(n);
        if (!CHECK_MSG(k == want, "n = %u: k %zu, exact %u", n, k, want))
            continue;
        if (want == 0) {
            CHECK_MSG(n < AP_STATS_CI_MIN_N && isnan(c), "n = %u", n);
            continue;
        }
        long double ref = reference_coverage(n, want);
        /* Up to n = 50 every sum is an integer below 2^53: the coverage is exact. */
        CHECK_MSG(n > 50 ? fabsl((long double)c - ref) <= 1e-15L : (long double)c == ref,
                  "n = %u: coverage %.17g, exact %.20Lg", n, c, ref);
        CHECK_MSG(c >= 0.95, "n = %u: coverage %.17g", n, c);
    }
    CHECK(ap_stats_median_ci_rank(0, NULL) == 0);
    CHECK(ap_stats_median_ci_rank(10, NULL) == 2);
}

TEST(large_n_agrees_with_the_normal_approximation)
{
    /* For large n, B is nearly normal (mean n/2, sd sqrt(n)/2): the lower rank is close to
     * n/2 - 1.96 sqrt(n)/2 (469.0 at n = 1000). */
    static const size_t ns[] = {200, 1000, 10000, 100000};
    for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
        size_t n = ns[t];
        double c;
        size_t k = ap_stats_median_ci_rank(n, &c);
        double approx = (double)n / 2 - 1.959964 * sqrt((double)n) / 2;
        CHECK_MSG(fabs((double)k - approx) <= 1, "n = %zu: k %zu, normal %.2f", n, k, approx);
        /* The steps are fine by now: the coverage is just above 95 %. */
        CHECK_MSG(c >= 0.95 && c < 0.96, "n = %zu: coverage %.17g", n, c);
    }
    static double x[1000];
    ranks_scrambled(x, 1000);
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 1000, &s) == 0))
        return;
    CHECK_MSG(s.ci95_k == 469, "k %zu", s.ci95_k);
    CHECK_MSG(s.ci95_lo == 469 && s.ci95_hi == 532, "[%g, %g]", s.ci95_lo, s.ci95_hi);
    CHECK_MSG(near(s.ci95_coverage, 0.9537088026395, 1e-12), "coverage %.17g", s.ci95_coverage);
}

TEST(ties_and_order_do_not_matter)
{
    /* Sorted: 1 1 2 2 2 2 2 3 4 5; k = 2: [x(2), x(9)] = [1, 4]. */
    const double x[] = {3, 1, 2, 2, 2, 5, 2, 4, 2, 1};
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 10, &s) == 0))
        return;
    CHECK_MSG(s.ci95_lo == 1 && s.ci95_hi == 4, "[%g, %g]", s.ci95_lo, s.ci95_hi);
    CHECK(s.median == 2);
    double rev[10];
    for (size_t i = 0; i < 10; i++)
        rev[i] = x[9 - i];
    struct ap_stats r;
    if (CHECK(ap_stats_compute(rev, 10, &r) == 0))
        CHECK(r.ci95_lo == s.ci95_lo && r.ci95_hi == s.ci95_hi && r.median == s.median &&
              r.ci95_coverage == s.ci95_coverage);
    /* All but the ends tied: the interval collapses onto the tied value. */
    const double t[] = {7, 7, 9, 7, 7, 7, 7, 0, 7, 7};
    if (CHECK(ap_stats_compute(t, 10, &s) == 0))
        CHECK_MSG(s.ci95_lo == 7 && s.ci95_hi == 7, "[%g, %g]", s.ci95_lo, s.ci95_hi);
}

TEST(even_n_median_is_mean_of_the_middle_two)
{
    const double x[] = {10, 1, 7, 3};
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 4, &s) == 0))
        return;
    CHECK_MSG(s.median == 5, "median %g", s.median);
    CHECK(s.mean == 5.25);
    /* |x - 5| = {5, 4, 2, 2} -> {2, 2, 4, 5}: median 3. */
    CHECK_MSG(s.mad == 3, "mad %g", s.mad);
    /* Squares about 5.25: 22.5625 + 18.0625 + 3.0625 + 5.0625 = 48.75; / 3 = 16.25. */
    CHECK_MSG(near(s.stddev, sqrt(16.25), 1e-12), "stddev %.15g", s.stddev);
    CHECK(s.n_too_small == 1);
}

TEST(a_single_value_is_never_stable)
{
    const double x[] = {0.123};
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 1, &s) == 0))
        return;
    CHECK(s.n == 1);
    CHECK(s.min == 0.123 && s.max == 0.123 && s.mean == 0.123 && s.median == 0.123);
    /* No spread can be known from one value: undefined, not 0. */
    CHECK_MSG(isnan(s.stddev) && isnan(s.mad) && isnan(s.cv), "stddev %g mad %g cv %g", s.stddev,
              s.mad, s.cv);
    CHECK(s.unstable == 1);
    CHECK(s.n_too_small == 1 && isnan(s.ci95_lo) && isnan(s.ci95_hi));
    CHECK(s.range_coverage == 0);
    char buf[200];
    const char *why = ap_stats_unstable_reason(&s, buf, sizeof(buf));
    CHECK_MSG(why == buf && test_contains(buf, "n = 1") && test_contains(buf, "not called stable"),
              "%s", why ? why : "(stable)");
    /* Two equal values do show a spread of 0. */
    const double two[] = {0.123, 0.123};
    if (CHECK(ap_stats_compute(two, 2, &s) == 0))
        CHECK(s.cv == 0 && s.stddev == 0 && s.unstable == 0);
}

TEST(constant_sample_is_stable)
{
    /* 0.1 does not sum exactly: a naive mean would leave a tiny spread. */
    double x[37];
    for (size_t i = 0; i < 37; i++)
        x[i] = 0.1;
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 37, &s) == 0))
        return;
    CHECK_MSG(s.cv == 0, "cv %g", s.cv);
    CHECK(s.stddev == 0 && s.mad == 0);
    CHECK(s.mean == 0.1 && s.median == 0.1);
    CHECK(s.ci95_lo == 0.1 && s.ci95_hi == 0.1);
    CHECK(s.unstable == 0);
}

TEST(empty_and_non_finite_are_refused)
{
    struct ap_stats s = {.n = 99};
    const double x[] = {1, 2};
    errno = 0;
    CHECK(ap_stats_compute(x, 0, &s) == -1 && errno == EINVAL);
    CHECK(s.n == 99);
    const double bad[] = {1, NAN, 3};
    errno = 0;
    CHECK(ap_stats_compute(bad, 3, &s) == -1 && errno == EINVAL);
    const double inf[] = {1, INFINITY};
    CHECK(ap_stats_compute(inf, 2, &s) == -1);
    CHECK(s.n == 99);
}

TEST(quantile_type_7)
{
    const double x[] = {1, 2, 3, 4};
    /* numpy.quantile([1,2,3,4], q): 0.25 -> 1.75, 0.5 -> 2.5, 0.9 -> 3.7. */
    CHECK(near(ap_stats_quantile(x, 4, 0.25), 1.75, 1e-12));
    CHECK(ap_stats_quantile(x, 4, 0.5) == 2.5);
    CHECK(near(ap_stats_quantile(x, 4, 0.9), 3.7, 1e-12));
    CHECK(ap_stats_quantile(x, 4, 0) == 1);
    CHECK(ap_stats_quantile(x, 4, 1) == 4);
    CHECK(ap_stats_quantile(x, 4, -3) == 1);
    CHECK(ap_stats_quantile(x, 4, 7) == 4);
    CHECK(ap_stats_quantile(x, 1, 0.3) == 1);
    CHECK(isnan(ap_stats_quantile(x, 0, 0.5)));
}

/* A sample of n values around `centre` with a given spread, reproducible without a library. */
static void make_sample(double *x, size_t n, double centre, double spread)
{
    uint64_t st = 12345;
    for (size_t i = 0; i < n; i++) {
        st = st * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        double u = (double)(st >> 11) / 9007199254740992.0; /* [0, 1) */
        x[i] = centre + spread * (2 * u - 1);
    }
}

TEST(interval_brackets_the_median_and_has_a_sensible_width)
{
    double x[101];
    make_sample(x, 101, 50, 5);
    struct ap_stats a;
    if (!CHECK(ap_stats_compute(x, 101, &a) == 0))
        return;
    CHECK(a.ci95_lo < a.median && a.median < a.ci95_hi);
    CHECK(a.ci95_lo >= a.min && a.ci95_hi <= a.max);
    /* Uniform on [45, 55] (density 0.1): the median's standard error is 1 / (2 * 0.1 *
     * sqrt(101)) ~ 0.5, so the interval is about 2 wide: neither a point nor the range. */
    double width = a.ci95_hi - a.ci95_lo;
    CHECK_MSG(width > 0.8 && width < 4, "width %g", width);
}

TEST(more_data_narrows_the_interval)
{
    static double small[20], large[2000];
    make_sample(small, 20, 10, 2);
    make_sample(large, 2000, 10, 2);
    struct ap_stats s, l;
    if (!CHECK(ap_stats_compute(small, 20, &s) == 0) ||
        !CHECK(ap_stats_compute(large, 2000, &l) == 0))
        return;
    CHECK_MSG(l.ci95_hi - l.ci95_lo < (s.ci95_hi - s.ci95_lo) / 3, "n=20: %g wide; n=2000: %g",
              s.ci95_hi - s.ci95_lo, l.ci95_hi - l.ci95_lo);
    CHECK(l.ci95_lo <= l.median && l.median <= l.ci95_hi);
}

TEST(instability_follows_the_ten_percent_rule)
{
    /* 0.8 and 1.2 alternating: mean 1, cv about 0.2. */
    double x[10];
    for (size_t i = 0; i < 10; i++)
        x[i] = i % 2 ? 1.2 : 0.8;
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 10, &s) == 0))
        return;
    /* Ten values at distance 0.2 from 1: ss = 0.4, / 9, sqrt -> 0.2108. */
    CHECK_MSG(near(s.cv, sqrt(0.4 / 9), 1e-12), "cv %.15g", s.cv);
    CHECK(s.unstable == 1);
    char buf[200];
    const char *why = ap_stats_unstable_reason(&s, buf, sizeof(buf));
    if (!CHECK(why == buf))
        return;
    CHECK_MSG(test_contains(buf, "standard deviation is 21.1 % of the mean"), "%s", buf);
    CHECK_MSG(test_contains(buf, "n = 10") && test_contains(buf, "more repeats"), "%s", buf);

    /* Truncation keeps a terminated string. */
    char small[16];
    CHECK(ap_stats_unstable_reason(&s, small, sizeof(small)) == small && strlen(small) == 15);

    /* cv 0.05: stable. */
    for (size_t i = 0; i < 10; i++)
        x[i] = i % 2 ? 1.05 : 0.95;
    if (!CHECK(ap_stats_compute(x, 10, &s) == 0))
        return;
    CHECK_MSG(s.cv > 0.04 && s.cv < 0.06 && s.unstable == 0, "cv %g", s.cv);
    CHECK(ap_stats_unstable_reason(&s, buf, sizeof(buf)) == NULL);
}

TEST(zero_mean_with_spread_is_unstable)
{
    const double x[] = {-1, 1};
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 2, &s) == 0))
        return;
    CHECK(isinf(s.cv) && s.unstable == 1);
    char buf[200];
    CHECK(test_contains(ap_stats_unstable_reason(&s, buf, sizeof(buf)), "mean of 0"));
}
