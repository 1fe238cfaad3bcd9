/* report/stats.c: the Benjamini-Hochberg step-up against values worked out by hand, its order,
 * ties and left-out p-values; the minimum effect per metric and the rule that a change must
 * reach it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/stats.h"
#include "test.h"

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-12;
}

static size_t count_at_or_below(const double *q, size_t n, double alpha)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += q[i] <= alpha;
    return k;
}

TEST(bh_textbook_example)
{
    /* Sorted: 0.005 0.01 0.03 0.04 0.2; m p_(i) / i = 0.025 0.025 0.05 0.05 0.2, already
     * non-decreasing, so those are the q-values. At q 0.05 the largest i with p_(i) <= i 0.05 / 5
     * is 4 (0.04 <= 0.04): four rejections, 0.2 kept. */
    const double p[] = {0.01, 0.04, 0.03, 0.005, 0.2};
    const double want[] = {0.025, 0.05, 0.05, 0.025, 0.2};
    double q[5];
    CHECK(ap_report_bh_adjust(p, 5, q) == 5);
    for (size_t i = 0; i < 5; i++)
        CHECK_MSG(near(q[i], want[i]), "p %g: q %.17g, want %g", p[i], q[i], want[i]);
    CHECK(count_at_or_below(q, 5, 0.05) == 4);
    /* At 0.02 none: the smallest threshold 0.004 is below 0.005. */
    CHECK(count_at_or_below(q, 5, 0.02) == 0);
}

TEST(bh_steps_up_from_the_largest)
{
    /* Sorted 0.01 0.02 0.03 0.5 with m = 4: m p / i = 0.04 0.04 0.04 0.5, each q in the
     * order of the caller's array. */
    const double p[] = {0.5, 0.03, 0.01, 0.02};
    const double want[] = {0.5, 0.04, 0.04, 0.04};
    double q[4];
    CHECK(ap_report_bh_adjust(p, 4, q) == 4);
    for (size_t i = 0; i < 4; i++)
        CHECK_MSG(near(q[i], want[i]), "p %g: q %.17g", p[i], q[i]);
    /* 0.011 0.012 0.0125 with m = 3: m p / i = 0.033 0.018 0.0125; the minimum from above
     * (the step-up) makes them all 0.0125, where m p / i alone would keep 0.033. */
    const double p2[] = {0.011, 0.012, 0.0125};
    double q2[3];
    CHECK(ap_report_bh_adjust(p2, 3, q2) == 3);
    for (size_t i = 0; i < 3; i++)
        CHECK_MSG(near(q2[i], 0.0125), "p %g: q %.17g", p2[i], q2[i]);
}

TEST(bh_ties_share_one_q)
{
    /* m = 4, sorted 0.01 0.01 0.04 0.04: 0.04 0.02 0.0533 0.04 -> step-up 0.02 0.02 0.04 0.04. */
    const double p[] = {0.04, 0.01, 0.04, 0.01};
    const double want[] = {0.04, 0.02, 0.04, 0.02};
    double q[4];
    CHECK(ap_report_bh_adjust(p, 4, q) == 4);
    for (size_t i = 0; i < 4; i++)
        CHECK_MSG(near(q[i], want[i]), "p %g: q %.17g", p[i], q[i]);
    /* Every p equal: every q is that p. */
    const double same[] = {0.3, 0.3, 0.3};
    double qs[3];
    CHECK(ap_report_bh_adjust(same, 3, qs) == 3);
    CHECK(near(qs[0], 0.3) && near(qs[1], 0.3) && near(qs[2], 0.3));
}

TEST(bh_is_monotone_and_never_below_p_nor_above_1)
{
    enum { N = 200 };
    double p[N], q[N];
    unsigned long x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        p[i] = (double)(x >> 11) / 9007199254740992.0;
        if (i % 7 == 0)
            p[i] = p[i] / 1000; /* a few small ones */
        if (i % 11 == 0)
            p[i] = 1;
    }
    CHECK(ap_report_bh_adjust(p, N, q) == N);
    size_t bad_order = 0, below_p = 0, above_1 = 0;
    for (size_t i = 0; i < N; i++) {
        below_p += q[i] < p[i];
        above_1 += q[i] > 1;
        for (size_t j = 0; j < N; j++)
            bad_order += p[i] <= p[j] && q[i] > q[j];
    }
    CHECK_MSG(bad_order == 0, "%zu pairs out of order", bad_order);
    CHECK(below_p == 0 && above_1 == 0);
}

TEST(bh_leaves_invalid_p_out)
{
    /* The textbook example with a NaN, an infinity and a negative mixed in: m stays 5 and the
     * q-values of the five are as before. */
    const double p[] = {0.01, NAN, 0.04, 0.03, INFINITY, 0.005, -0.1, 0.2, 1.5};
    const double want[] = {0.025, NAN, 0.05, 0.05, NAN, 0.025, NAN, 0.2, NAN};
    double q[9];
    CHECK(ap_report_bh_adjust(p, 9, q) == 5);
    for (size_t i = 0; i < 9; i++)
        CHECK_MSG(isnan(want[i]) ? isnan(q[i]) : near(q[i], want[i]), "p %g: q %.17g", p[i], q[i]);
    double none[1];
    CHECK(ap_report_bh_adjust(NULL, 0, none) == 0);
}

TEST(min_effect_table)
{
    const char *why = NULL;
    CHECK(ap_report_min_effect("wall_s", "s", &why) == AP_REPORT_MIN_EFFECT_DEFAULT);
    CHECK(why != NULL && strcmp(why, "the default") == 0);
    CHECK(AP_REPORT_MIN_EFFECT_DEFAULT == 5.0);
    CHECK(ap_report_min_effect("maxrss_bytes", "B", NULL) == 5.0);
    /* A count of failures and a flag: any change counts. */
    CHECK(ap_report_min_effect("errors", "count", &why) == 0 && strstr(why, "failed") != NULL);
    CHECK(ap_report_min_effect("sustained", "bool", NULL) == 0);
    CHECK(ap_report_min_effect("anything", "bool", NULL) == 0);
    /* The name decides before the unit; a count that is not of errors has the default. */
    CHECK(ap_report_min_effect("files", "count", NULL) == 5.0);
}

TEST(a_change_must_reach_the_minimum_effect)
{
    CHECK(!ap_report_effect_reaches(3, 5));
    CHECK(!ap_report_effect_reaches(-4.99, 5));
    CHECK(ap_report_effect_reaches(6, 5));
    CHECK(ap_report_effect_reaches(-6, 5));
    CHECK(ap_report_effect_reaches(5, 5));
    CHECK(ap_report_effect_reaches(0.1, 0));
    /* From a zero median to another: no finite change, every minimum reached. */
    CHECK(ap_report_effect_reaches(NAN, 1000));
}
