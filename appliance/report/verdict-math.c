/* The verdicts' arithmetic: Student's t tail (from the comparison's, report/compare.h) and the
 * bootstrap of a geometric mean of ratios (verdict.h). Pure functions. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "compare.h"
#include "verdict.h"

double ap_verdict_t_upper(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    double p2 = ap_compare_t_p2(t, df); /* P(|T| >= |t|) */
    return t >= 0 ? p2 / 2 : 1 - p2 / 2;
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
