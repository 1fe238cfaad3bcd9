/* The verdicts' arithmetic: Student's t tail, Benjamini-Hochberg and the bootstrap of a
 * geometric mean of ratios (verdict.h). Pure functions. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "verdict.h"

/* The continued fraction of the regularized incomplete beta function I_x(a, b), by the
 * modified Lentz method; converges fast for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = fabs(d) < tiny ? tiny : d;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 400; m++) {
        for (int odd = 0; odd < 2; odd++) {
            double num = odd ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                             : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1 + num * d;
            c = 1 + num / c;
            d = fabs(d) < tiny ? tiny : d;
            c = fabs(c) < tiny ? tiny : c;
            d = 1 / d;
            h *= d * c;
            if (odd && fabs(d * c - 1) < 1e-15)
                return h;
        }
    }
    return h;
}

/* I_x(a, b) for a, b > 0, 0 <= x <= 1. */
static double beta_reg(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * beta_fraction(a, b, x) / a;
    return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double ap_verdict_t_upper(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return t > 0 ? 0 : 1;
    /* P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2); half of it lies above |t|. */
    double half = 0.5 * beta_reg(df / 2, 0.5, df / (df + t * t));
    return t >= 0 ? half : 1 - half;
}

struct ranked {
    double p;
    size_t i;
};

static int by_p(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;
    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

void ap_verdict_bh(const double *p, size_t n, double *q)
{
    if (n == 0)
        return;
    struct ranked *r = calloc(n, sizeof(*r));
    if (r == NULL) {
        /* Without memory nothing is kept: every q is 1. */
        for (size_t i = 0; i < n; i++)
            q[i] = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        r[i] = (struct ranked){isnan(p[i]) ? 1 : p[i], i};
    qsort(r, n, sizeof(*r), by_p);
    double run = 1;
    for (size_t k = n; k-- > 0;) {
        double adj = r[k].p * (double)n / (double)(k + 1);
        run = adj < run ? adj : run;
        q[r[k].i] = run;
    }
    free(r);
}

uint64_t ap_verdict_fnv1a(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The median of n values drawn with replacement from x (into tmp, n values). */
static double resampled_median(const double *x, size_t n, double *tmp, uint64_t *state)
{
    for (size_t j = 0; j < n; j++)
        tmp[j] = x[(size_t)(((unsigned __int128)splitmix64(state) * n) >> 64)];
    qsort(tmp, n, sizeof(*tmp), by_value);
    return n % 2 == 1 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

int ap_verdict_bootstrap(const double *const *a, const size_t *na, const double *const *b,
                         const size_t *nb, size_t k, uint64_t seed, size_t resamples, double *lo,
                         double *hi)
{
    size_t most = 1;
    for (size_t i = 0; i < k; i++) {
        most = na[i] > most ? na[i] : most;
        most = nb[i] > most ? nb[i] : most;
    }
    cleanup_free double *tmp = calloc(most, sizeof(*tmp));
    cleanup_free double *g = calloc(resamples + 1, sizeof(*g));
    if (tmp == NULL || g == NULL || k == 0 || resamples == 0) {
        errno = k == 0 || resamples == 0 ? EINVAL : ENOMEM;
        return -1;
    }
    uint64_t state = seed;
    /* Draws in this order: resample by resample, pair by pair, numerator then denominator,
     * sample by sample; so the interval is the same on every machine. */
    for (size_t r = 0; r < resamples; r++) {
        double sum = 0;
        for (size_t i = 0; i < k; i++) {
            double ma = resampled_median(a[i], na[i], tmp, &state);
            double mb = resampled_median(b[i], nb[i], tmp, &state);
            sum += log(ma / mb);
        }
        g[r] = exp(sum / (double)k);
    }
    qsort(g, resamples, sizeof(*g), by_value);
    /* The 2.5th and 97.5th percentiles: ranks floor(0.025 R) and R - 1 - floor(0.025 R). */
    size_t cut = (size_t)floor(0.025 * (double)resamples);
    *lo = g[cut];
    *hi = g[resamples - 1 - cut];
    return 0;
}
