/* Summary statistics (bench/stats.c): known samples give known values; the bootstrap interval
 * is deterministic and sensible; the instability verdict follows the 10 % rule. */
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
    CHECK_MSG(s.ci95_lo <= s.median && s.median <= s.ci95_hi, "CI [%g, %g]", s.ci95_lo, s.ci95_hi);
    CHECK(s.ci95_lo >= s.min && s.ci95_hi <= s.max);
    /* A resample of 5 has median 100 when at least 3 draws are the outlier: 5.8 % of
     * resamples, more than 2.5 %, so the upper end is 100; likewise the lower end is 1. With 5
     * values the interval is the whole range, as it should be. */
    CHECK_MSG(s.ci95_lo == 1 && s.ci95_hi == 100, "CI [%g, %g]", s.ci95_lo, s.ci95_hi);
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
}

TEST(single_value_collapses)
{
    const double x[] = {0.123};
    struct ap_stats s;
    if (!CHECK(ap_stats_compute(x, 1, &s) == 0))
        return;
    CHECK(s.n == 1);
    CHECK(s.min == 0.123 && s.max == 0.123 && s.mean == 0.123 && s.median == 0.123);
    CHECK(s.stddev == 0 && s.mad == 0 && s.cv == 0);
    CHECK(s.ci95_lo == 0.123 && s.ci95_hi == 0.123);
    CHECK(s.unstable == 0);
    char buf[200];
    CHECK(ap_stats_unstable_reason(&s, buf, sizeof(buf)) == NULL);
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

TEST(bootstrap_interval_is_deterministic_and_brackets_the_median)
{
    double x[101];
    make_sample(x, 101, 50, 5);
    struct ap_stats a, b;
    if (!CHECK(ap_stats_compute(x, 101, &a) == 0) || !CHECK(ap_stats_compute(x, 101, &b) == 0))
        return;
    CHECK_MSG(memcmp(&a.ci95_lo, &b.ci95_lo, sizeof(double)) == 0 &&
                  memcmp(&a.ci95_hi, &b.ci95_hi, sizeof(double)) == 0,
              "[%.17g, %.17g] then [%.17g, %.17g]", a.ci95_lo, a.ci95_hi, b.ci95_lo, b.ci95_hi);
    CHECK(a.ci95_lo < a.median && a.median < a.ci95_hi);
    CHECK(a.ci95_lo >= a.min && a.ci95_hi <= a.max);
    /* Uniform on [45, 55] (density 0.1): the median's standard error is 1 / (2 * 0.1 *
     * sqrt(101)) ~ 0.5, so the interval is about 2 wide: neither a point nor the range. */
    double width = a.ci95_hi - a.ci95_lo;
    CHECK_MSG(width > 0.8 && width < 4, "width %g", width);

    /* The order of the input does not matter. */
    double rev[101];
    for (size_t i = 0; i < 101; i++)
        rev[i] = x[100 - i];
    struct ap_stats c;
    if (CHECK(ap_stats_compute(rev, 101, &c) == 0))
        CHECK(c.ci95_lo == a.ci95_lo && c.ci95_hi == a.ci95_hi && c.median == a.median);
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
