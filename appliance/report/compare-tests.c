/* The statistics of `compare`: the regularized incomplete beta function, Student's t, and
 * the Mann-Whitney U and Welch tests on two samples (compare.h). Pure functions of numbers. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "compare.h"

/* ---- special functions ----------------------------------------------------------------------- */

/* One step of the modified Lentz method with the partial numerator aa: updates c and d and
 * returns the factor d * c by which the fraction changes. */
static double lentz_step(double aa, double *c, double *d)
{
    const double tiny = 1e-300;
    *d = 1 + aa * *d;
    if (fabs(*d) < tiny)
        *d = tiny;
    *c = 1 + aa / *c;
    if (fabs(*c) < tiny)
        *c = tiny;
    *d = 1 / *d;
    return *d * *c;
}

/* The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz): converges
 * fast for x < (a + 1) / (a + b + 2); the caller uses the symmetry I_x(a, b) = 1 - I_{1-x}(b,
 * a) elsewhere. Its number of terms grows as sqrt(max(a, b)), hence the generous bound. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 4e-16;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        double m2 = 2.0 * m;
        h *= lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
        double del = lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
        h *= del;
        if (fabs(del - 1) <= eps)
            break;
    }
    return h;
}

/* lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2) for x >= 10, by Stirling's series (the
 * terms left out are below 1e-15 there). */
static double stirling_delta(double x)
{
    double r = 1 / x, r2 = r * r;
    return r *
           (1.0 / 12 +
            r2 * (-1.0 / 360 +
                  r2 * (1.0 / 1260 + r2 * (-1.0 / 1680 + r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 +
                                                                                  r2 / 156))))));
}

/* log(x^a y^b / B(a, b)), the factor in front of the continued fraction. lgamma of a large
 * parameter is a large number whose last digits the differences here would keep, so large
 * parameters go through Stirling's series with the large parts cancelled by hand (as TOMS
 * 708's brcomp does): about 1e-14 relative at df = 1e6, where plain lgamma gives 1e-9. */
static double log_prefactor(double a, double b, double x, double y)
{
    double lx = x < 0.5 ? log(x) : log1p(-y);
    double ly = y < 0.5 ? log(y) : log1p(-x);
    double p = a < b ? a : b, q = a < b ? b : a;
    if (q < 10)
        return a * lx + b * ly - (lgamma(a) + lgamma(b) - lgamma(a + b));
    if (p < 10) {
        /* lgamma(q) - lgamma(p + q) */
        double d = -(q - 0.5) * log1p(p / q) - p * log(p + q) + p + stirling_delta(q) -
                   stirling_delta(p + q);
        return a * lx + b * ly - lgamma(p) - d;
    }
    /* a log(x (a + b) / a) + b log(y (a + b) / b), each a log1p of d = x b - y a, plus the
     * small remainder of log B(a, b). */
    double d = x * b - y * a;
    return a * log1p(d / a) + b * log1p(-d / b) + 0.5 * log(a / (a + b) * b) - 0.5 * log(2 * M_PI) -
           (stirling_delta(a) + stirling_delta(b) - stirling_delta(a + b));
}

/* I_x(a, b) with y = 1 - x passed separately, so that x near 1 loses no digits. */
static double betai_xy(double a, double b, double x, double y)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1) || !(y >= 0) || !(y <= 1))
        return NAN;
    if (x == 0)
        return 0;
    if (y == 0)
        return 1;
    double bt = exp(log_prefactor(a, b, x, y));
    if (x < (a + 1) / (a + b + 2))
        return bt * beta_cf(a, b, x) / a;
    return 1 - bt * beta_cf(b, a, y) / b;
}

double ap_compare_betai(double a, double b, double x)
{
    return betai_xy(a, b, x, 1 - x);
}

double ap_compare_t_p2(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return 0;
    double t2 = t * t;
    double p = betai_xy(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
    return p > 1 ? 1 : p;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

struct tagged {
    double v;
    int side; /* 0: a, 1: b */
};

static int by_value(const void *x, const void *y)
{
    double a = ((const struct tagged *)x)->v, b = ((const struct tagged *)y)->v;
    return (a > b) - (a < b);
}

/* P(U <= u) under the null hypothesis for samples of m and n values without ties: the
 * coefficients of the Gaussian binomial [m + n choose m]_q count the arrangements with U = k
 * (partitions of k into at most m parts of at most n). Built by
 * [N choose k] = [N-1 choose k-1] + q^k [N-1 choose k], additions only, so no digits cancel;
 * a coefficient depends on lower ones only, so those above u are never computed. They add up
 * to C(m + n, m). */
static int mwu_exact_cdf(size_t m, size_t n, size_t u, double *out)
{
    if (m > n) {
        size_t t = m;
        m = n;
        n = t;
    }
    size_t len = (u < m * n ? u : m * n) + 1;
    cleanup_free double *g = calloc((m + 1) * len, sizeof(double));
    if (g == NULL)
        return -1;
    g[0] = 1; /* [0 choose 0] = 1 */
    for (size_t N = 1; N <= m + n; N++) {
        size_t kmax = N < m ? N : m;
        for (size_t k = kmax; k >= 1; k--) {
            double *cur = g + k * len, *prev = g + (k - 1) * len;
            /* Descending, so cur[j - k] is still the [N-1 choose k] coefficient. */
            for (size_t j = len; j-- > 0;)
                cur[j] = prev[j] + (j >= k ? cur[j - k] : 0);
        }
    }
    double below = 0, total = 1;
    for (size_t j = 0; j < len; j++)
        below += g[m * len + j];
    for (size_t i = 1; i <= m; i++)
        total = total * (double)(n + i) / (double)i;
    *out = below / total;
    return 0;
}

int ap_compare_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                            struct ap_mann_whitney *out)
{
    if (na == 0 || nb == 0 || !all_finite(a, na) || !all_finite(b, nb)) {
        errno = EINVAL;
        return -1;
    }
    size_t n = na + nb;
    cleanup_free struct tagged *pool = malloc(n * sizeof(*pool));
    if (pool == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < na; i++)
        pool[i] = (struct tagged){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        pool[na + i] = (struct tagged){b[i], 1};
    qsort(pool, n, sizeof(*pool), by_value);
    /* Mid-ranks for tie groups; the tie term sum(t^3 - t) for the variance. */
    double rank_a = 0, tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && pool[j].v == pool[i].v)
            j++;
        double t = (double)(j - i);
        double mid = ((double)i + 1 + (double)j) / 2;
        for (size_t k = i; k < j; k++)
            if (pool[k].side == 0)
                rank_a += mid;
        tie_term += t * t * t - t;
        i = j;
    }
    double fa = (double)na, fb = (double)nb, fn = (double)n;
    struct ap_mann_whitney r = {0};
    r.u = rank_a - fa * (fa + 1) / 2;
    r.ties = tie_term > 0;
    double mu = fa * fb / 2;
    if (!r.ties && na < AP_COMPARE_EXACT_MAX_N && nb < AP_COMPARE_EXACT_MAX_N) {
        double umin = r.u < fa * fb - r.u ? r.u : fa * fb - r.u;
        double cdf;
        if (mwu_exact_cdf(na, nb, (size_t)llround(umin), &cdf) < 0) {
            errno = ENOMEM;
            return -1;
        }
        r.exact = 1;
        r.p = 2 * cdf > 1 ? 1 : 2 * cdf;
    } else {
        double var = fa * fb / 12 * ((fn + 1) - tie_term / (fn * (fn - 1)));
        double d = fabs(r.u - mu) - 0.5;
        if (!(var > 0) || d <= 0) {
            r.z = 0;
            r.p = 1;
        } else {
            r.z = d / sqrt(var);
            r.p = erfc(r.z / sqrt(2.0));
            if (r.p > 1)
                r.p = 1;
        }
    }
    *out = r;
    return 0;
}

static void mean_var(const double *x, size_t n, double *mean, double *var)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    double m = s / (double)n, ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = ss / (double)(n - 1);
}

int ap_compare_welch(const double *a, size_t na, const double *b, size_t nb, struct ap_welch *out)
{
    if (na < 2 || nb < 2 || !all_finite(a, na) || !all_finite(b, nb)) {
        errno = EINVAL;
        return -1;
    }
    double ma, va, mb, vb;
    mean_var(a, na, &ma, &va);
    mean_var(b, nb, &mb, &vb);
    double sa = va / (double)na, sb = vb / (double)nb, se2 = sa + sb;
    struct ap_welch r;
    if (!(se2 > 0)) {
        r.df = (double)(na + nb - 2);
        r.t = ma == mb ? 0 : ma > mb ? INFINITY : -INFINITY;
        r.p = ma == mb ? 1 : 0;
    } else {
        r.t = (ma - mb) / sqrt(se2);
        r.df = se2 * se2 / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
        r.p = ap_compare_t_p2(r.t, r.df);
    }
    *out = r;
    return 0;
}
