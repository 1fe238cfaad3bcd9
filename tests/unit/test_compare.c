/* Comparing runs (report/compare.c): the incomplete beta function and Student's t against
 * closed forms, tables and high-precision values; Welch's t-test and Mann-Whitney U against
 * published examples and exact enumerations; then whole comparisons of results documents
 * (verdicts and their direction per metric, the rule choosing the test, runs that differ,
 * measurements in one run only, JSON) and the reading of inputs by content.
 *
 * Reference values not in closed form were computed to 40 digits with mpmath (betainc, and
 * Welch's t and df from exact sums); exact Mann-Whitney p-values by enumerating every
 * assignment of ranks (itertools.combinations over C(N, na) subsets, as fractions). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/archive.h"
#include "bundle/compare-load.h"
#include "report/compare.h"
#include "core/cleanup.h"
#include "core/json.h"
#include "test.h"

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

/* Relative closeness, for values far from 1. */
static int rnear(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fabs(b);
}

/* ---- the incomplete beta function ----------------------------------------------------------- */

TEST(betai_closed_forms)
{
    /* I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b; I_x(2, 2) = 3x^2 - 2x^3;
     * I_x(1/2, 1/2) = (2 / pi) asin(sqrt x). */
    for (double x = 0.05; x < 1; x += 0.15) {
        CHECK_MSG(near(ap_compare_betai(1, 1, x), x, 1e-14), "x %g", x);
        CHECK_MSG(near(ap_compare_betai(2.5, 1, x), pow(x, 2.5), 1e-14), "x %g", x);
        CHECK_MSG(near(ap_compare_betai(1, 3.5, x), 1 - pow(1 - x, 3.5), 1e-14), "x %g", x);
        CHECK_MSG(near(ap_compare_betai(2, 2, x), 3 * x * x - 2 * x * x * x, 1e-14), "x %g", x);
        CHECK_MSG(near(ap_compare_betai(0.5, 0.5, x), 2 / M_PI * asin(sqrt(x)), 1e-14), "x %g", x);
    }
    CHECK(near(ap_compare_betai(2, 2, 0.25), 0.15625, 1e-15));
}

TEST(betai_symmetric_parameters_give_one_half_at_the_middle)
{
    const double as[] = {0.3, 1, 7.3, 200, 5000};
    for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++) {
        double v = ap_compare_betai(as[i], as[i], 0.5);
        CHECK_MSG(near(v, 0.5, 1e-12), "a %g: %.17g", as[i], v);
    }
}

TEST(betai_against_high_precision_values)
{
    static const struct {
        double a, b, x, want;
    } v[] = {
        {3.7, 12.1, 0.31, 0.7772418777954699319698},  {50, 60, 0.4, 0.1247068583431003600848},
        {2.5, 1, 0.6, 0.2788548009269339899337},      {1, 3.5, 0.2, 0.5420532782080430924189},
        {1000, 1000, 0.49, 0.1855526594315114499426}, {0.1, 10, 0.001, 0.6596666602208250112790},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        double got = ap_compare_betai(v[i].a, v[i].b, v[i].x);
        /* Large parameters lose digits in lgamma's differences (about 1e-12 at 1000). */
        CHECK_MSG(rnear(got, v[i].want, 1e-11), "I_%g(%g, %g) = %.17g, want %.17g", v[i].x, v[i].a,
                  v[i].b, got, v[i].want);
        /* I_x(a, b) = 1 - I_{1-x}(b, a) */
        double mirror = 1 - ap_compare_betai(v[i].b, v[i].a, 1 - v[i].x);
        CHECK_MSG(near(mirror, v[i].want, 1e-11), "mirror %.17g", mirror);
    }
}

TEST(betai_edges_and_domain)
{
    CHECK(ap_compare_betai(3, 4, 0) == 0);
    CHECK(ap_compare_betai(3, 4, 1) == 1);
    CHECK(isnan(ap_compare_betai(0, 4, 0.5)));
    CHECK(isnan(ap_compare_betai(3, -1, 0.5)));
    CHECK(isnan(ap_compare_betai(3, 4, -0.1)));
    CHECK(isnan(ap_compare_betai(3, 4, 1.1)));
    CHECK(isnan(ap_compare_betai(3, 4, NAN)));
    /* Monotone in x. */
    double prev = 0;
    int monotone = 1;
    for (int i = 1; i <= 100; i++) {
        double v = ap_compare_betai(4.5, 2.5, i / 100.0);
        monotone &= v >= prev;
        prev = v;
    }
    CHECK(monotone);
}

/* ---- Student's t -------------------------------------------------------------------------- */

TEST(t_two_sided_p_closed_forms)
{
    /* df = 1 is Cauchy: p = 1 - (2 / pi) atan |t|; df = 2: p = 1 - |t| / sqrt(2 + t^2). */
    for (double t = 0.25; t < 30; t *= 2) {
        CHECK_MSG(near(ap_compare_t_p2(t, 1), 1 - 2 / M_PI * atan(t), 1e-13), "t %g", t);
        CHECK_MSG(near(ap_compare_t_p2(-t, 2), 1 - t / sqrt(2 + t * t), 1e-13), "t %g", t);
    }
    CHECK(ap_compare_t_p2(0, 5) == 1);
    CHECK(ap_compare_t_p2(INFINITY, 5) == 0);
    CHECK(isnan(ap_compare_t_p2(1, 0)));
    CHECK(isnan(ap_compare_t_p2(NAN, 3)));
}

TEST(t_two_sided_p_against_tables_and_high_precision)
{
    static const struct {
        double t, df, want;
    } v[] = {
        /* The 97.5 % quantiles of the tables: two-sided p = 0.05. */
        {12.706, 1, 0.05000080235813318790},
        {2.570582, 5, 0.04999999002713992958},
        {2.228139, 10, 0.04999998745288256176},
        /* Non-integer df, as Welch's gives. */
        {2.5, 7.3, 0.03965023466560047161},
        /* Nearly normal. */
        {1.959964, 1e6, 0.05000027548810369822},
        {40, 3, 3.438068078915852828e-05},
        {0.1, 30, 0.9210096117902711517},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        double got = ap_compare_t_p2(v[i].t, v[i].df);
        CHECK_MSG(rnear(got, v[i].want, 1e-10), "t %g df %g: %.17g, want %.17g", v[i].t, v[i].df,
                  got, v[i].want);
        CHECK(ap_compare_t_p2(-v[i].t, v[i].df) == got);
    }
}

/* ---- Welch's t-test ---------------------------------------------------------------------- */

TEST(welch_three_against_three)
{
    /* Means 2 and 5, variances 1 and 1: t = -3 / sqrt(2/3), df = 4 exactly. */
    const double a[] = {1, 2, 3}, b[] = {4, 5, 6};
    struct ap_welch w;
    if (!CHECK(ap_compare_welch(a, 3, b, 3, &w) == 0))
        return;
    CHECK_MSG(near(w.t, -3.674234614174767147, 1e-13), "t %.17g", w.t);
    CHECK_MSG(near(w.df, 4, 1e-12), "df %.17g", w.df);
    CHECK_MSG(rnear(w.p, 0.02131164112875672585, 1e-10), "p %.17g", w.p);
    struct ap_welch r;
    CHECK(ap_compare_welch(b, 3, a, 3, &r) == 0);
    CHECK(r.t == -w.t && r.df == w.df && r.p == w.p);
}

TEST(welch_published_examples)
{
    /* Wikipedia's "Welch's t-test" examples: t -2.46, df 25.0, p 0.021; then t -1.57,
     * df 9.9, p 0.149 (here to more digits). */
    const double a1[] = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
                         21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
    const double a2[] = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
                         24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
    struct ap_welch w;
    if (CHECK(ap_compare_welch(a1, 15, a2, 15, &w) == 0)) {
        CHECK_MSG(near(w.t, -2.455356398286004487, 1e-12), "t %.17g", w.t);
        CHECK_MSG(near(w.df, 24.98852929023141439, 1e-10), "df %.17g", w.df);
        CHECK_MSG(rnear(w.p, 0.02137800146286705992, 1e-9), "p %.17g", w.p);
    }
    const double b1[] = {17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8};
    const double b2[] = {21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8,
                         20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8};
    if (CHECK(ap_compare_welch(b1, 10, b2, 20, &w) == 0)) {
        CHECK_MSG(near(w.t, -1.565433523598505526, 1e-12), "t %.17g", w.t);
        CHECK_MSG(near(w.df, 9.904741248650829246, 1e-10), "df %.17g", w.df);
        CHECK_MSG(rnear(w.p, 0.1488416966053279109, 1e-9), "p %.17g", w.p);
    }
    const double c1[] = {10.1, 10.4, 9.8}, c2[] = {11.0, 10.6, 11.9, 10.9};
    if (CHECK(ap_compare_welch(c1, 3, c2, 4, &w) == 0)) {
        CHECK_MSG(near(w.t, -3.038218101250998984, 1e-12), "t %.17g", w.t);
        CHECK_MSG(near(w.df, 4.703153988868272751, 1e-10), "df %.17g", w.df);
        CHECK_MSG(rnear(w.p, 0.03117319620986956221, 1e-9), "p %.17g", w.p);
    }
}

TEST(welch_without_spread_and_bad_input)
{
    const double two[] = {2, 2, 2}, three[] = {3, 3, 3};
    struct ap_welch w;
    CHECK(ap_compare_welch(two, 3, two, 3, &w) == 0 && w.t == 0 && w.p == 1);
    CHECK(ap_compare_welch(two, 3, three, 3, &w) == 0 && isinf(w.t) && w.t < 0 && w.p == 0);
    /* One side without spread: df is the other side's n - 1. */
    const double b[] = {1, 2, 3, 4};
    CHECK(ap_compare_welch(two, 3, b, 4, &w) == 0 && near(w.df, 3, 1e-12));
    errno = 0;
    CHECK(ap_compare_welch(two, 1, three, 3, &w) == -1 && errno == EINVAL);
    const double bad[] = {1, NAN};
    errno = 0;
    CHECK(ap_compare_welch(bad, 2, three, 3, &w) == -1 && errno == EINVAL);
}

/* ---- Mann-Whitney U ---------------------------------------------------------------------- */

TEST(mann_whitney_three_against_three_cannot_go_below_0_1)
{
    /* Fully separated: U = 0, and 2 of the C(6, 3) = 20 arrangements are as extreme. */
    const double a[] = {1, 2, 3}, b[] = {4, 5, 6};
    struct ap_mann_whitney m;
    if (!CHECK(ap_compare_mann_whitney(a, 3, b, 3, &m) == 0))
        return;
    CHECK(m.u == 0 && m.exact == 1 && m.ties == 0);
    CHECK_MSG(near(m.p, 0.1, 1e-15), "p %.17g", m.p);
    CHECK(ap_compare_mann_whitney(b, 3, a, 3, &m) == 0);
    CHECK(m.u == 9);
    CHECK_MSG(near(m.p, 0.1, 1e-15), "p %.17g", m.p);
    /* 5 against 5: 2 / C(10, 5) = 2 / 252. */
    const double c[] = {1, 2, 3, 4, 5}, d[] = {6, 7, 8, 9, 10};
    CHECK(ap_compare_mann_whitney(c, 5, d, 5, &m) == 0);
    CHECK_MSG(near(m.p, 2.0 / 252, 1e-15), "p %.17g", m.p);
    /* Order within a sample does not matter. */
    const double e[] = {9, 6, 10, 8, 7};
    struct ap_mann_whitney m2;
    CHECK(ap_compare_mann_whitney(c, 5, e, 5, &m2) == 0 && m2.p == m.p && m2.u == m.u);
}

TEST(mann_whitney_r_documentation_example)
{
    /* R's ?wilcox.test (Hollander & Wolfe): W = 35, one-sided p = 0.1272, so two-sided
     * 0.2544 (exact: 0.254412254412...). */
    const double x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    const double y[] = {1.15, 0.88, 0.90, 0.74, 1.21};
    struct ap_mann_whitney m;
    if (!CHECK(ap_compare_mann_whitney(x, 10, y, 5, &m) == 0))
        return;
    CHECK(m.u == 35 && m.exact);
    CHECK_MSG(near(m.p, 0.2544122544122544, 1e-13), "p %.17g", m.p);
    struct ap_mann_whitney r;
    CHECK(ap_compare_mann_whitney(y, 5, x, 10, &r) == 0 && r.u == 15);
    CHECK_MSG(near(r.p, m.p, 1e-15), "p %.17g vs %.17g", r.p, m.p);
}

TEST(mann_whitney_exact_matches_enumeration)
{
    /* 7 against 6, U = 5: 19 / 858 by enumerating the 1,716 rank subsets. */
    const double a[] = {3.1, 4.7, 2.2, 9.0, 5.5, 6.1, 1.4};
    const double b[] = {7.7, 8.2, 6.6, 10.3, 5.9, 12.0};
    struct ap_mann_whitney m;
    if (!CHECK(ap_compare_mann_whitney(a, 7, b, 6, &m) == 0))
        return;
    CHECK(m.u == 5 && m.exact);
    CHECK_MSG(near(m.p, 19.0 / 858, 1e-15), "p %.17g", m.p);
    /* Larger samples, against an independent count of rank subsets by their sum (exact
     * fractions): 20 against 20 with U = 120 gives 2096043041 / 68923264410; 12 against 17
     * with U = 50 gives 0.020816312491527517. */
    double x[20], y[20];
    for (int i = 0; i < 20; i++) {
        y[i] = i + 1;
        x[i] = 6.5 + i * 0.001; /* each above 6 of y */
    }
    if (CHECK(ap_compare_mann_whitney(x, 20, y, 20, &m) == 0)) {
        CHECK(m.u == 120 && m.exact);
        CHECK_MSG(rnear(m.p, 2096043041.0 / 68923264410.0, 1e-13), "p %.17g", m.p);
    }
    for (int i = 0; i < 12; i++)
        x[i] = (i < 10 ? 4.5 : 5.5) + i * 0.01;
    if (CHECK(ap_compare_mann_whitney(x, 12, y, 17, &m) == 0)) {
        CHECK(m.u == 50 && m.exact);
        CHECK_MSG(rnear(m.p, 0.020816312491527517, 1e-13), "p %.17g", m.p);
    }
    /* 49 against 49 fully separated: 2 / C(98, 49). */
    double lo[49], hi[49];
    for (int i = 0; i < 49; i++) {
        lo[i] = i;
        hi[i] = 100 + i;
    }
    if (CHECK(ap_compare_mann_whitney(lo, 49, hi, 49, &m) == 0)) {
        CHECK(m.u == 0 && m.exact);
        CHECK_MSG(rnear(m.p, 7.850029192963324e-29, 1e-12), "p %.17g", m.p);
    }
    /* Identical samples without ties cannot be: the middle of the distribution gives p 1. */
    const double c[] = {1, 4, 5, 8}, d[] = {2, 3, 6, 7};
    CHECK(ap_compare_mann_whitney(c, 4, d, 4, &m) == 0 && m.u == 8 && m.p == 1);
}

TEST(mann_whitney_ties_use_the_corrected_normal_approximation)
{
    const double a[] = {1, 2, 2, 3, 4}, b[] = {2, 3, 3, 5, 6};
    struct ap_mann_whitney m;
    if (!CHECK(ap_compare_mann_whitney(a, 5, b, 5, &m) == 0))
        return;
    CHECK(m.ties == 1 && m.exact == 0);
    CHECK(m.u == 6);
    CHECK_MSG(near(m.z, 1.284895098446849416, 1e-12), "z %.17g", m.z);
    CHECK_MSG(near(m.p, 0.1988289440164423554, 1e-12), "p %.17g", m.p);
    /* Two constant samples: every value tied within its side, fully separated. */
    const double five[] = {5, 5, 5, 5, 5}, ten[] = {10, 10, 10, 10, 10};
    CHECK(ap_compare_mann_whitney(five, 5, ten, 5, &m) == 0 && m.u == 0);
    CHECK_MSG(near(m.z, 2.88, 1e-12), "z %.17g", m.z);
    CHECK_MSG(near(m.p, 0.003976751709788649898, 1e-13), "p %.17g", m.p);
    const double c[] = {1, 2, 3, 3}, d[] = {3, 4, 5, 6, 7, 7};
    CHECK(ap_compare_mann_whitney(c, 4, d, 6, &m) == 0 && m.u == 1);
    CHECK_MSG(near(m.p, 0.02300710278319435835, 1e-12), "p %.17g", m.p);
    /* All equal: nothing to tell apart. */
    CHECK(ap_compare_mann_whitney(five, 5, five, 3, &m) == 0 && m.p == 1 && m.u == 7.5);
}

TEST(mann_whitney_large_samples_use_the_normal_approximation)
{
    double a[60], b[55];
    for (int i = 0; i < 60; i++)
        a[i] = i * 1.5 + 0.25;
    for (int i = 0; i < 55; i++)
        b[i] = i * 1.5 + 7.0;
    struct ap_mann_whitney m;
    if (!CHECK(ap_compare_mann_whitney(a, 60, b, 55, &m) == 0))
        return;
    CHECK(m.exact == 0 && m.ties == 0 && m.u == 1540);
    CHECK_MSG(near(m.z, 0.6130822994966604422, 1e-12), "z %.17g", m.z);
    CHECK_MSG(near(m.p, 0.5398219234122437719, 1e-12), "p %.17g", m.p);
    /* Just below the exact bound the exact distribution is used, and agrees roughly. */
    struct ap_mann_whitney e;
    CHECK(ap_compare_mann_whitney(a, 49, b, 49, &e) == 0 && e.exact == 1);
    CHECK(e.p > 0 && e.p <= 1);
}

TEST(mann_whitney_bad_input)
{
    const double a[] = {1, 2}, bad[] = {INFINITY};
    struct ap_mann_whitney m;
    errno = 0;
    CHECK(ap_compare_mann_whitney(a, 0, a, 2, &m) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(ap_compare_mann_whitney(a, 2, bad, 1, &m) == -1 && errno == EINVAL);
}

/* ---- comparing results documents --------------------------------------------------------- */

static cJSON *doc_new(const char *profile, const char *kernel, const char *digest)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "schema", "appliance-results-2");
    cJSON *run = cJSON_AddObjectToObject(d, "run");
    cJSON_AddStringToObject(run, "id", "20260101T000000Z-0000abcd");
    cJSON_AddStringToObject(run, "profile", profile);
    cJSON_AddTrueToObject(run, "complete");
    cJSON_AddObjectToObject(d, "plan");
    cJSON *env = cJSON_AddObjectToObject(d, "environment");
    cJSON_AddStringToObject(env, "kernel", kernel);
    cJSON_AddStringToObject(env, "cpu_model", "Test CPU");
    cJSON *app = cJSON_AddObjectToObject(env, "appliance");
    cJSON_AddStringToObject(app, "commit", "0123456789ab");
    cJSON *imgs = cJSON_AddObjectToObject(env, "images");
    cJSON *go = cJSON_AddObjectToObject(imgs, "go");
    cJSON_AddStringToObject(go, "digest", digest);
    cJSON_AddArrayToObject(d, "warnings");
    cJSON_AddArrayToObject(d, "measurements");
    return d;
}

static cJSON *add_measurement(cJSON *doc, const char *id, int n)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(doc, "measurements"), m);
    cJSON_AddStringToObject(m, "id", id);
    cJSON *p = cJSON_AddObjectToObject(m, "params");
    cJSON_AddNumberToObject(p, "n", n);
    cJSON_AddObjectToObject(m, "metrics");
    return m;
}

static void add_metric(cJSON *m, const char *name, const char *unit, const double *x, size_t n,
                       double scale)
{
    cJSON *metric = cJSON_AddObjectToObject(cJSON_GetObjectItemCaseSensitive(m, "metrics"), name);
    cJSON_AddStringToObject(metric, "unit", unit);
    cJSON *s = cJSON_AddArrayToObject(metric, "samples");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber(x[i] * scale));
}

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const double five[] = {1.00, 1.04, 0.97, 1.10, 1.02};
static const double three[] = {1.00, 1.05, 0.98};

/* A run: times, a rate, bytes, a size, a three-sample and a one-sample measurement; scale
 * multiplies every sample. */
static cJSON *make_run(double scale, const char *profile, const char *kernel, const char *digest,
                       int n)
{
    cJSON *d = doc_new(profile, kernel, digest);
    cJSON *m = add_measurement(d, "cpu/nbody/go", n);
    add_metric(m, "wall_s", "s", five, 5, scale);
    add_metric(m, "peak_bytes", "B", five, 5, 1e6 * scale);
    m = add_measurement(d, "http/nethttp/go/c64", 0);
    add_metric(m, "rps", "req/s", five, 5, 1e4 * scale);
    add_metric(m, "server_cpu_cores", "CPUs", five, 5, scale);
    m = add_measurement(d, "startup/service/go/nethttp", 0);
    add_metric(m, "ready_s", "s", three, 3, 0.01 * scale);
    m = add_measurement(d, "size/image/go", 0);
    add_metric(m, "compressed_bytes", "B", five, 1, 4e7 * scale);
    m = add_measurement(d, "latency/nethttp/go/r1000", 0);
    add_metric(m, "p99_ms", "ms", five, 1, scale);
    return d;
}

static const struct ap_compare_row *row(const struct ap_compare *c, const char *id,
                                        const char *metric)
{
    for (size_t i = 0; i < c->n_rows; i++)
        if (strcmp(c->rows[i].id, id) == 0 && strcmp(c->rows[i].metric, metric) == 0)
            return &c->rows[i];
    return NULL;
}

static int has_warning(const struct ap_compare *c, const char *needle)
{
    for (size_t i = 0; i < c->n_warnings; i++)
        if (strstr(c->warnings[i], needle) != NULL)
            return 1;
    return 0;
}

TEST(a_run_against_itself_has_no_significant_change)
{
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_compare_results(a, a, NULL, &c, &err) == 0, "%s", err ? err->msg : ""))
        return;
    CHECK_MSG(c->n_rows == 7, "rows %zu", c->n_rows);
    CHECK(c->n_significant == 0);
    CHECK(c->n_tested == 5);
    CHECK(c->n_warnings == 0 && c->n_only_a == 0 && c->n_only_b == 0);
    CHECK(c->alpha == AP_COMPARE_ALPHA_DEFAULT);
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct ap_compare_row *r = &c->rows[i];
        CHECK_MSG(r->ratio == 1 && r->change_pct == 0, "%s %s", r->id, r->metric);
        CHECK(r->verdict == AP_COMPARE_SAME || r->verdict == AP_COMPARE_TOO_FEW);
        CHECK(r->better == 0);
    }
    const struct ap_compare_row *r = row(c, "latency/nethttp/go/r1000", "p99_ms");
    CHECK(r != NULL && r->test == AP_COMPARE_TEST_NONE && r->verdict == AP_COMPARE_TOO_FEW);
    CHECK(r != NULL && isnan(r->p) && isnan(r->p_mwu) && isnan(r->p_welch));
    ap_compare_free(c);
}

TEST(doubled_samples_are_slower_larger_and_faster_by_direction)
{
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    cleanup_cjson cJSON *b = make_run(2, "quick", "Linux 6.1", DIGEST_A, 1000);
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK(ap_compare_results(a, b, NULL, &c, &err) == 0))
        return;
    const struct ap_compare_row *r = row(c, "cpu/nbody/go", "wall_s");
    if (CHECK(r != NULL)) {
        CHECK(r->test == AP_COMPARE_TEST_MWU && r->mwu_exact);
        CHECK_MSG(near(r->p, 2.0 / 252, 1e-15), "p %g", r->p);
        CHECK(r->significant && r->verdict == AP_COMPARE_SLOWER && r->better == -1);
        CHECK(r->ratio == 2 && r->change_pct == 100);
        CHECK(r->median_a == 1.02 && r->median_b == 2.04);
        CHECK(r->u == 0 && r->p_welch < 0.05 && r->t < 0);
    }
    r = row(c, "cpu/nbody/go", "peak_bytes");
    CHECK(r != NULL && r->verdict == AP_COMPARE_LARGER && r->better == -1);
    /* More requests per second is faster, and better. */
    r = row(c, "http/nethttp/go/c64", "rps");
    CHECK(r != NULL && r->kind == AP_COMPARE_RATE && r->verdict == AP_COMPARE_FASTER &&
          r->better == 1);
    /* CPUs used have no preferred direction. */
    r = row(c, "http/nethttp/go/c64", "server_cpu_cores");
    CHECK(r != NULL && r->verdict == AP_COMPARE_LARGER && r->better == 0);
    /* Three samples a side: Welch decides; Mann-Whitney's 0.1 is reported beside it. */
    r = row(c, "startup/service/go/nethttp", "ready_s");
    if (CHECK(r != NULL)) {
        CHECK(r->test == AP_COMPARE_TEST_WELCH);
        CHECK_MSG(near(r->p_mwu, 0.1, 1e-15), "p_mwu %g", r->p_mwu);
        CHECK_MSG(r->p == r->p_welch && r->p < 0.01, "p %g", r->p);
        CHECK(r->verdict == AP_COMPARE_SLOWER);
    }
    /* Sizes are exact figures. */
    r = row(c, "size/image/go", "compressed_bytes");
    CHECK(r != NULL && r->test == AP_COMPARE_TEST_EXACT && r->significant &&
          r->verdict == AP_COMPARE_LARGER && isnan(r->p) && isnan(r->p_adjusted));
    /* Five tests, all significant after the correction, all by +100 %; the size is no test. */
    CHECK(c->n_tested == 5 && c->n_significant == 5 && c->n_changed == 5);
    CHECK(c->n_exact == 1 && c->n_exact_differ == 1 && c->n_exact_changed == 1);
    ap_compare_free(c);

    /* The other way round every verdict turns. */
    if (!CHECK(ap_compare_results(b, a, NULL, &c, &err) == 0))
        return;
    r = row(c, "cpu/nbody/go", "wall_s");
    CHECK(r != NULL && r->verdict == AP_COMPARE_FASTER && r->better == 1 && r->ratio == 0.5);
    r = row(c, "http/nethttp/go/c64", "rps");
    CHECK(r != NULL && r->verdict == AP_COMPARE_SLOWER && r->better == -1);
    r = row(c, "cpu/nbody/go", "peak_bytes");
    CHECK(r != NULL && r->verdict == AP_COMPARE_SMALLER && r->better == 1);
    ap_compare_free(c);
}

TEST(alpha_and_metric_filter)
{
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    cleanup_cjson cJSON *b = make_run(2, "quick", "Linux 6.1", DIGEST_A, 1000);
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    /* 2 / 252 = 0.0079 is not below 0.005. */
    struct ap_compare_opts o = {.alpha = 0.005, .metrics = "wall_s,rps"};
    if (!CHECK(ap_compare_results(a, b, &o, &c, &err) == 0))
        return;
    CHECK_MSG(c->n_rows == 2, "rows %zu", c->n_rows);
    CHECK(row(c, "cpu/nbody/go", "peak_bytes") == NULL);
    const struct ap_compare_row *r = row(c, "cpu/nbody/go", "wall_s");
    CHECK(r != NULL && !r->significant && r->verdict == AP_COMPARE_SAME && r->better == 0);
    CHECK(c->alpha == 0.005 && c->n_significant == 0);
    ap_compare_free(c);
    o.alpha = 1.5;
    CHECK(ap_compare_results(a, b, &o, &c, &err) == -1 && err != NULL);
    ap_error_release(&err);
}

TEST(runs_that_differ_are_warned_about)
{
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    cleanup_cjson cJSON *b = make_run(1, "standard", "Linux 6.12", DIGEST_B, 5000000);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "run"), "complete",
                                           cJSON_CreateFalse());
    add_measurement(a, "cpu/fasta/go", 1000);
    add_measurement(b, "cpu/pidigits/go", 1000);
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK(ap_compare_results(a, b, NULL, &c, &err) == 0))
        return;
    CHECK(has_warning(c, "different profiles (A quick, B standard)"));
    CHECK(has_warning(c, "kernel \"Linux 6.1\" in A, \"Linux 6.12\" in B"));
    CHECK(has_warning(c, "image go differs"));
    CHECK(has_warning(c, "run B is incomplete"));
    CHECK(has_warning(c, "parameter n differs in 1 matched measurement (cpu/nbody/go: 1000 in "
                         "A, 5000000 in B)"));
    CHECK(!has_warning(c, "cpu_model"));
    CHECK(c->n_only_a == 1 && strcmp(c->only_a[0], "cpu/fasta/go") == 0);
    CHECK(c->n_only_b == 1 && strcmp(c->only_b[0], "cpu/pidigits/go") == 0);
    ap_compare_free(c);
}

/* Adds a calibration to a run's environment.memory_latency. */
static void add_calibration(cJSON *doc, double chase_ns, double loop_ms, const char *verdict)
{
    cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, "environment");
    cJSON *ml = cJSON_GetObjectItemCaseSensitive(env, "memory_latency");
    if (ml == NULL) {
        ml = cJSON_AddObjectToObject(env, "memory_latency");
        cJSON_AddArrayToObject(ml, "calibrations");
    }
    cJSON *c = cJSON_CreateObject();
    double ns[3] = {chase_ns * 0.95, chase_ns, chase_ns * 1.1};
    cJSON_AddItemToObject(c, "ns_per_step", cJSON_CreateDoubleArray(ns, 3));
    cJSON_AddNumberToObject(c, "loop_ms", loop_ms);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(ml, "calibrations"), c);
    if (verdict != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(ml, "verdict");
        cJSON_AddStringToObject(ml, "verdict", verdict);
    }
}

/* Runs on a machine in two states (another share of the host's caches, another clock) are
 * warned about; runs in one state, or without the figures, are not. */
TEST(machine_states_that_differ_are_warned_about)
{
    struct {
        double chase_a, loop_a, chase_b, loop_b;
        const char *verdict_b;
        int warned, shared;
    } cases[] = {
        {20, 1.7, 22, 1.75, "steady", 0, 0}, /* alike */
        {20, 1.7, 90, 1.75, "steady", 1, 0}, /* the caches */
        {20, 1.7, 21, 2.6, "steady", 1, 0},  /* the clock */
        {90, 2.6, 20, 1.7, "shared", 1, 1},  /* either way, and B's own verdict */
        {0, 0, 20, 1.7, NULL, 0, 0},         /* A recorded none */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
        cleanup_cjson cJSON *b = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
        if (cases[i].chase_a > 0) {
            add_calibration(a, cases[i].chase_a, cases[i].loop_a, "steady");
            add_calibration(a, cases[i].chase_a, cases[i].loop_a, NULL);
        }
        add_calibration(b, cases[i].chase_b, cases[i].loop_b, cases[i].verdict_b);
        struct ap_compare *c = NULL;
        ap_error *err = NULL;
        if (!CHECK_MSG(ap_compare_results(a, b, NULL, &c, &err) == 0, "%s", err ? err->msg : ""))
            return;
        CHECK_MSG(has_warning(c, "machine was in another state") == cases[i].warned, "case %zu", i);
        CHECK_MSG(has_warning(c, "run B measured while the host's caches were shared") ==
                      cases[i].shared,
                  "case %zu", i);
        CHECK_MSG(!has_warning(c, "run A measured while"), "case %zu", i);
        if (i == 1)
            CHECK(has_warning(c, "a median 20.0 ns a step in A, 90.0 in B"));
        ap_compare_free(c);
    }
}

TEST(json_output_carries_every_comparison)
{
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    cleanup_cjson cJSON *b = make_run(2, "quick", "Linux 6.1", DIGEST_A, 1000);
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK(ap_compare_results(a, b, NULL, &c, &err) == 0))
        return;
    cleanup_cjson cJSON *j = ap_compare_to_json(c, a, "a.json", b, "b.tar.zst");
    ap_compare_free(c);
    if (!CHECK(j != NULL))
        return;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "comparisons");
    CHECK(cJSON_GetArraySize(rows) == 7);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(j, "schema")->valuestring,
                 "appliance-compare-2") == 0);
    const cJSON *first = cJSON_GetArrayItem(rows, 0);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(first, "verdict")->valuestring, "slower") == 0);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(first, "better")->valuestring, "a") == 0);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(first, "direction")->valuestring,
                 "lower_is_better") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "significant")));
    /* The one-sample row has no p: null, never NaN (which is not JSON). */
    const cJSON *last = cJSON_GetArrayItem(rows, 6);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(last, "p")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(last, "p_welch")));
    cleanup_free char *text = cJSON_PrintUnformatted(j);
    CHECK(text != NULL && strstr(text, "nan") == NULL && strstr(text, "inf") == NULL);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "summary");
    CHECK(cJSON_GetObjectItemCaseSensitive(s, "tested")->valuedouble == 5);
    CHECK(cJSON_GetObjectItemCaseSensitive(s, "significant")->valuedouble == 5);
    CHECK(cJSON_GetObjectItemCaseSensitive(s, "changed")->valuedouble == 5);
    CHECK(cJSON_GetObjectItemCaseSensitive(s, "exact_changed")->valuedouble == 1);
    CHECK(
        near(cJSON_GetObjectItemCaseSensitive(s, "expected_by_chance")->valuedouble, 0.25, 1e-12));
    /* The first row: raw and adjusted p, the minimum effect it reached. */
    CHECK(near(cJSON_GetObjectItemCaseSensitive(first, "p")->valuedouble, 2.0 / 252, 1e-15));
    CHECK(
        near(cJSON_GetObjectItemCaseSensitive(first, "p_adjusted")->valuedouble, 2.0 / 252, 1e-15));
    CHECK(cJSON_GetObjectItemCaseSensitive(first, "min_effect_pct")->valuedouble == 5);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "reaches_min_effect")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(last, "p_adjusted")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "min_effect"), "override_pct")));
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "b"), "path")
                     ->valuestring,
                 "b.tar.zst") == 0);
}

TEST(table_shows_significant_rows_unless_all)
{
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    cleanup_cjson cJSON *b = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    /* Only the rate changes. */
    cJSON *rps = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "measurements"), 1), "metrics"),
        "rps");
    cJSON *samples = cJSON_GetObjectItemCaseSensitive(rps, "samples");
    for (int i = 0; i < 5; i++)
        cJSON_ReplaceItemInArray(samples, i, cJSON_CreateNumber(20000 + i));
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK(ap_compare_results(a, b, NULL, &c, &err) == 0))
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ap_compare_print(f, c, 0);
    fclose(f);
    CHECK_MSG(test_contains(buf, "http/nethttp/go/c64") && test_contains(buf, "rps"), "%s", buf);
    CHECK(test_contains(buf, "faster (better)"));
    CHECK(test_contains(buf, "+96.1%"));
    CHECK(!test_contains(buf, "cpu/nbody/go"));
    /* rps alone: p 2/252 and q 5 x 2/252 = 0.04, at or below 0.05. */
    CHECK_MSG(test_contains(buf, "5 tests made: 1 significant after Benjamini-Hochberg at q "
                                 "0.05, 1 of them by at least the minimum effect; without the "
                                 "correction 1 had p <= 0.05, where about 0.2 would by chance "
                                 "alone"),
              "%s", buf);
    CHECK(test_contains(buf, "7 comparisons: 5 tested") &&
          test_contains(buf,
                        "1 exact (counted figures: 0 differ, 0 by at least the minimum effect)"));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    ap_compare_print(f, c, 1);
    fclose(f);
    CHECK(test_contains(buf, "cpu/nbody/go") && test_contains(buf, "no change"));
    CHECK(test_contains(buf, "too few samples"));
    CHECK(test_contains(buf, "38.15 MiB"));
    free(buf);
    ap_compare_free(c);
}

/* n samples around base, no two alike and no ties across scales: 1, 1.0001, 1.0002, ... */
static void add_spread(cJSON *m, const char *name, const char *unit, size_t n, double base)
{
    double x[64];
    for (size_t i = 0; i < n && i < 64; i++)
        x[i] = 1 + 0.0001 * (double)i;
    add_metric(m, name, unit, x, n, base);
}

/* Significance is not importance: a change below the metric's minimum effect is no change,
 * however small its p; sizes, which are not tested, likewise. */
TEST(a_change_below_the_minimum_effect_is_no_change)
{
    cleanup_cjson cJSON *a = doc_new("quick", "Linux 6.1", DIGEST_A);
    cleanup_cjson cJSON *b = doc_new("quick", "Linux 6.1", DIGEST_A);
    /* 30 against 30, every B above every A: exact p = 2 / C(60, 30), about 8.5e-18. */
    add_spread(add_measurement(a, "cpu/small/go", 1), "wall_s", "s", 30, 1);
    add_spread(add_measurement(b, "cpu/small/go", 1), "wall_s", "s", 30, 1.03);
    add_spread(add_measurement(a, "cpu/large/go", 1), "wall_s", "s", 30, 1);
    add_spread(add_measurement(b, "cpu/large/go", 1), "wall_s", "s", 30, 1.06);
    add_spread(add_measurement(a, "size/image/small", 0), "bytes", "B", 1, 1e6);
    add_spread(add_measurement(b, "size/image/small", 0), "bytes", "B", 1, 1.03e6);
    add_spread(add_measurement(a, "size/image/large", 0), "bytes", "B", 1, 1e6);
    add_spread(add_measurement(b, "size/image/large", 0), "bytes", "B", 1, 1.06e6);
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_compare_results(a, b, NULL, &c, &err) == 0, "%s", err ? err->msg : ""))
        return;
    const struct ap_compare_row *r = row(c, "cpu/small/go", "wall_s");
    if (CHECK(r != NULL)) {
        CHECK_MSG(r->p < 1e-6 && r->p_adjusted < 1e-6 && r->significant, "p %g", r->p);
        CHECK_MSG(near(r->change_pct, 3, 1e-9) && r->min_effect_pct == 5, "%g", r->change_pct);
        CHECK(!r->reaches_min_effect && r->verdict == AP_COMPARE_SAME && r->better == 0);
    }
    r = row(c, "cpu/large/go", "wall_s");
    CHECK(r != NULL && r->p < 1e-6 && r->significant && r->reaches_min_effect &&
          r->verdict == AP_COMPARE_SLOWER && r->better == -1);
    r = row(c, "size/image/small", "bytes");
    CHECK(r != NULL && r->test == AP_COMPARE_TEST_EXACT && r->significant &&
          !r->reaches_min_effect && r->verdict == AP_COMPARE_SAME);
    r = row(c, "size/image/large", "bytes");
    CHECK(r != NULL && r->significant && r->verdict == AP_COMPARE_LARGER);
    CHECK(c->n_tested == 2 && c->n_significant == 2 && c->n_changed == 1);
    CHECK(c->n_exact == 2 && c->n_exact_differ == 2 && c->n_exact_changed == 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ap_compare_print(f, c, 1);
    fclose(f);
    CHECK_MSG(test_contains(buf, "no change (significant, below the 5% minimum effect)"), "%s",
              buf);
    CHECK(test_contains(buf, "2 tests made: 2 significant after Benjamini-Hochberg at q 0.05, 1 "
                             "of them by at least the minimum effect"));
    free(buf);
    ap_compare_free(c);

    /* --min-effect 2: the 3 % changes count; 10: neither. */
    struct ap_compare_opts o = {.min_effect_given = 1, .min_effect_pct = 2};
    if (!CHECK(ap_compare_results(a, b, &o, &c, &err) == 0))
        return;
    r = row(c, "cpu/small/go", "wall_s");
    CHECK(r != NULL && r->min_effect_pct == 2 && r->verdict == AP_COMPARE_SLOWER);
    CHECK(c->n_changed == 2 && c->n_exact_changed == 2);
    ap_compare_free(c);
    o.min_effect_pct = 10;
    if (!CHECK(ap_compare_results(a, b, &o, &c, &err) == 0))
        return;
    CHECK(c->n_significant == 2 && c->n_changed == 0 && c->n_exact_changed == 0);
    ap_compare_free(c);
    /* A minimum effect outside 0 to AP_COMPARE_MIN_EFFECT_MAX is refused. */
    const double bad[] = {-1, NAN, AP_COMPARE_MIN_EFFECT_MAX * 2};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.min_effect_pct = bad[i];
        CHECK_MSG(ap_compare_results(a, b, &o, &c, &err) == -1 && err != NULL &&
                      test_contains(err->msg, "minimum effect"),
                  "%g", bad[i]);
        ap_error_release(&err);
    }
}

/* Runs of the same code: 400 tests, of which 20 (alpha x m, what chance alone gives) have
 * p near 0.03. Uncorrected, 20 changes; after Benjamini-Hochberg, none. */
TEST(twenty_chance_p_values_among_400_tests_are_not_significant_after_bh)
{
    static const double lo[] = {1.00, 1.10, 1.20}, hi[] = {1.25, 1.35, 1.45};
    cleanup_cjson cJSON *a = doc_new("quick", "Linux 6.1", DIGEST_A);
    cleanup_cjson cJSON *b = doc_new("quick", "Linux 6.1", DIGEST_A);
    cleanup_cjson cJSON *a20 = doc_new("quick", "Linux 6.1", DIGEST_A);
    cleanup_cjson cJSON *b20 = doc_new("quick", "Linux 6.1", DIGEST_A);
    for (int i = 0; i < 400; i++) {
        char id[64];
        snprintf(id, sizeof(id), "cpu/task%03d/go", i);
        add_metric(add_measurement(a, id, 1), "wall_s", "s", lo, 3, 1);
        add_metric(add_measurement(b, id, 1), "wall_s", "s", i < 20 ? hi : lo, 3, 1);
        if (i < 20) {
            add_metric(add_measurement(a20, id, 1), "wall_s", "s", lo, 3, 1);
            add_metric(add_measurement(b20, id, 1), "wall_s", "s", hi, 3, 1);
        }
    }
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_compare_results(a, b, NULL, &c, &err) == 0, "%s", err ? err->msg : ""))
        return;
    CHECK(c->n_tested == 400);
    CHECK_MSG(c->n_significant_raw == 20 && c->n_significant == 0 && c->n_changed == 0,
              "raw %zu, after BH %zu", c->n_significant_raw, c->n_significant);
    const struct ap_compare_row *r = row(c, "cpu/task007/go", "wall_s");
    if (CHECK(r != NULL)) {
        /* Welch, 3 against 3: t = -3.06, df 4, p = 0.0375; q = 0.0375 x 400 / 20 = 0.75. */
        CHECK_MSG(r->test == AP_COMPARE_TEST_WELCH && r->p > 0.02 && r->p < 0.05, "p %g", r->p);
        CHECK_MSG(near(r->p_adjusted, r->p * 20, 1e-12), "q %g", r->p_adjusted);
        CHECK(r->significant_raw && !r->significant && r->reaches_min_effect);
        CHECK(r->verdict == AP_COMPARE_SAME);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ap_compare_print(f, c, 0);
    fclose(f);
    CHECK_MSG(test_contains(buf, "no change\n") &&
                  test_contains(buf, "400 tests made: 0 significant after Benjamini-Hochberg at "
                                     "q 0.05, 0 of them by at least the minimum effect; without "
                                     "the correction 20 had p <= 0.05, where about 20.0 would by "
                                     "chance alone"),
              "%s", buf);
    free(buf);
    ap_compare_free(c);
    /* Control: the same 20 rows as the only tests are 20 discoveries (q = p). */
    if (!CHECK(ap_compare_results(a20, b20, NULL, &c, &err) == 0))
        return;
    CHECK_MSG(c->n_tested == 20 && c->n_significant == 20 && c->n_changed == 20, "%zu",
              c->n_significant);
    ap_compare_free(c);
}

TEST(malformed_documents_are_errors)
{
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    cleanup_cjson cJSON *b = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    cJSON_ReplaceItemInObjectCaseSensitive(b, "schema", cJSON_CreateString("other-1"));
    CHECK(ap_compare_results(a, b, NULL, &c, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "run B is not a results file"), "%s",
              err ? err->msg : "");
    ap_error_release(&err);
    cJSON_ReplaceItemInObjectCaseSensitive(b, "schema", cJSON_CreateString("appliance-results-1"));
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "measurements"), 0);
    cJSON *wall =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), "wall_s");
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(wall, "samples"), 0,
                             cJSON_CreateString("fast"));
    CHECK(ap_compare_results(a, b, NULL, &c, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "cpu/nbody/go: metric wall_s"), "%s",
              err ? err->msg : "");
    ap_error_release(&err);
}

TEST(version_1_results_compare_with_version_2)
{
    /* Version 1 differs only in the statistics, which compare never reads: an older run is
     * still a baseline. */
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    cleanup_cjson cJSON *b = make_run(2, "quick", "Linux 6.1", DIGEST_A, 1000);
    cJSON_ReplaceItemInObjectCaseSensitive(a, "schema", cJSON_CreateString("appliance-results-1"));
    struct ap_compare *c = NULL;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_compare_results(a, b, NULL, &c, &err) == 0, "%s", err ? err->msg : ""))
        return;
    CHECK(c->n_rows == 7 && c->n_significant > 0);
    ap_compare_free(c);
    cJSON_ReplaceItemInObjectCaseSensitive(a, "schema", cJSON_CreateString("appliance-results-3"));
    CHECK(ap_compare_results(a, b, NULL, &c, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "run A is not a results file") &&
                  test_contains(err->msg, "\"appliance-results-2\" nor \"appliance-results-1\""),
              "%s", err ? err->msg : "");
    ap_error_release(&err);
    /* The same check as pack and verify (bench/results.h): a document without "plan" is
     * refused here too; the control above compared the same documents with it. */
    cJSON_ReplaceItemInObjectCaseSensitive(a, "schema", cJSON_CreateString("appliance-results-1"));
    cJSON_DeleteItemFromObjectCaseSensitive(a, "plan");
    CHECK(ap_compare_results(a, b, NULL, &c, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "\"plan\" is missing"), "%s",
              err ? err->msg : "");
    ap_error_release(&err);
}

/* ---- reading inputs ---------------------------------------------------------------------- */

TEST(load_tells_inputs_apart_by_content)
{
    char dir[] = "/tmp/test_compare.XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    char path[256], sub[256], junk[256], zst[256];
    snprintf(path, sizeof(path), "%s/run.tar.zst", dir); /* a name that lies */
    snprintf(sub, sizeof(sub), "%s/run", dir);
    snprintf(junk, sizeof(junk), "%s/junk.json", dir);
    snprintf(zst, sizeof(zst), "%s/fake.json", dir);
    cleanup_cjson cJSON *a = make_run(1, "quick", "Linux 6.1", DIGEST_A, 1000);
    ap_error *err = NULL;
    CHECK(ap_json_write_file(path, a, &err) == 0);
    cJSON *got = NULL;
    struct ap_archive_scan scan;
    memset(&scan, 0xff, sizeof(scan));
    CHECK_MSG(ap_compare_load(path, &got, &scan, &err) == 0, "%s", err ? err->msg : "");
    /* A results file: nothing of an archive handed out. */
    CHECK(got != NULL && scan.members.n == 0 && scan.manifest == NULL && cJSON_Compare(got, a, 1));
    cJSON_Delete(got);
    got = NULL;
    /* A run directory holding results.json. */
    char inner[300];
    snprintf(inner, sizeof(inner), "%s/results.json", sub);
    CHECK(mkdir(sub, 0755) == 0 && ap_json_write_file(inner, a, &err) == 0);
    CHECK(ap_compare_load(sub, &got, NULL, &err) == 0 && got != NULL);
    cJSON_Delete(got);
    got = NULL;
    /* Neither JSON nor zstd. */
    FILE *f = fopen(junk, "w");
    fputs("PK\x03\x04 not a results file", f);
    fclose(f);
    CHECK(ap_compare_load(junk, &got, NULL, &err) == -1 && got == NULL);
    CHECK_MSG(err != NULL && test_contains(err->msg, "neither a results file (JSON) nor a "
                                                     "result archive (zstd)"),
              "%s", err ? err->msg : "");
    ap_error_release(&err);
    /* zstd magic: read as an archive, whatever the name says; this one is broken. */
    f = fopen(zst, "w");
    fputs("\x28\xb5\x2f\xfd garbage", f);
    fclose(f);
    CHECK(ap_compare_load(zst, &got, NULL, &err) == -1 && got == NULL);
    CHECK_MSG(err != NULL && test_contains(err->msg, "archive check failed"), "%s",
              err ? err->msg : "");
    ap_error_release(&err);
    CHECK(ap_compare_load("/nonexistent/results.json", &got, NULL, &err) == -1);
    ap_error_release(&err);
    unlink(path);
    unlink(inner);
    rmdir(sub);
    unlink(junk);
    unlink(zst);
    CHECK(rmdir(dir) == 0);
}
